-- Allow: take one token from every bucket in KEYS, or from none.
-- ARGV[1] is now (Unix milliseconds); ARGV[2i], ARGV[2i+1] are the burst and
-- the refill interval (milliseconds) of KEYS[i].
-- A bucket is its theoretical arrival time (GCRA): the time at which it is
-- full again; an absent key is a full bucket. It has a token when
-- tat - (burst-1)*every <= now.
-- Returns 0 when the tokens were taken, or how many milliseconds until every
-- bucket has a token (nothing taken).
local now = tonumber(ARGV[1])
local tats = {}
local wait = 0
for i = 1, #KEYS do
	local burst = tonumber(ARGV[2 * i])
	local every = tonumber(ARGV[2 * i + 1])
	local tat = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
	if tat < now then
		tat = now
	end
	tats[i] = tat
	local w = tat - (burst - 1) * every - now
	if w > wait then
		wait = w
	end
end
if wait > 0 then
	return wait
end
for i = 1, #KEYS do
	local tat = tats[i] + tonumber(ARGV[2 * i + 1])
	-- The key lives exactly as long as the bucket is not full.
	redis.call('SET', KEYS[i], tat, 'PX', tat - now)
end
return 0
