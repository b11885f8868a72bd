-- Record: delete the first ARGV[2] keys (0 or 1: the (account,
-- address) bucket) and give one token back to each later key.
-- ARGV[1] is now (Unix milliseconds); ARGV[3], ARGV[4], ... are the refill
-- intervals (milliseconds) of the keys given a token back, in order.
local now = tonumber(ARGV[1])
local ndel = tonumber(ARGV[2])
for i = 1, ndel do
	redis.call('DEL', KEYS[i])
end
for i = ndel + 1, #KEYS do
	local every = tonumber(ARGV[2 + i - ndel])
	local tat = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
	tat = tat - every
	if tat <= now then
		-- Full again: an absent key is a full bucket.
		redis.call('DEL', KEYS[i])
	else
		redis.call('SET', KEYS[i], tat, 'PX', tat - now)
	end
end
return 0
