-- Allow: take one token from every bucket in KEYS that is taken from, or
-- from none; a bucket that is only checked must have a token too.
-- ARGV[1] is now (Unix milliseconds); ARGV[3i-1], ARGV[3i], ARGV[3i+1] are
-- the burst, the refill interval (milliseconds) and 1 (take) or 0 (check
-- only) of KEYS[i].
-- A bucket is its theoretical arrival time (GCRA): the time at which it is
-- full again; an absent key is a full bucket. It has a token when
-- tat - (burst-1)*every <= now.
-- Returns 0 when the tokens were taken, or how many milliseconds until every
-- bucket has a token (nothing taken).
local now = tonumber(ARGV[1])
local tats = {}
local wait = 0
for i = 1, #KEYS do
	local burst = tonumber(ARGV[3 * i - 1])
	local every = tonumber(ARGV[3 * i])
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
	if ARGV[3 * i + 1] == '1' then
		local tat = tats[i] + tonumber(ARGV[3 * i])
		-- The key lives exactly as long as the bucket is not full.
		redis.call('SET', KEYS[i], tat, 'PX', tat - now)
	end
end
return 0
