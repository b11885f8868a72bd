-- Revoke: store one revocation and announce it to every instance, in one
-- atomic step.
-- KEYS[1] is the entry's key; ARGV[1] its value, ARGV[2] how long it must
-- live (milliseconds), ARGV[3] the channel, ARGV[4] the message.
-- ARGV[5] is "user" for a per-user mark, whose value is a time in
-- milliseconds that only ever moves forward; for a session the entry only
-- ever lives longer.
local ttl = tonumber(ARGV[2])
if ARGV[5] == 'user' then
	local old = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
	if old >= tonumber(ARGV[1]) then
		return 0
	end
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
	local left = redis.call('PTTL', KEYS[1])
	if left >= ttl then
		return 0
	end
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
