-- Revoke: store one revocation and announce it to every instance, in one
-- atomic step.
--
-- A per-user mark ("user"): KEYS[1] is the subject's mark key; ARGV[1] the
-- mark (Unix milliseconds), which only ever moves forward; ARGV[2] its
-- lifetime (milliseconds); ARGV[3] the channel; ARGV[4] the message.
--
-- A session ("session"): KEYS[1] is the session's key, KEYS[2] the set of
-- the subject's revoked sessions (scored by expiry), KEYS[3] the subject's
-- mark key; ARGV[1..4] as above for the session's entry, ARGV[6] now (Unix
-- milliseconds), ARGV[7] the most revoked sessions one subject keeps,
-- ARGV[8] the mark's lifetime from now, ARGV[9] the message announcing the
-- mark, ARGV[10] the mark: the session's sign-in time. A session already
-- revoked for as long changes nothing. When the subject already has
-- ARGV[7] live revoked sessions, the revocation is folded into that mark
-- instead (every session of that subject signed in until the mark ends,
-- the revoked one included; no other subject's, nor a later sign-in), so
-- one account cannot grow Redis without bound by signing in and out. A
-- later mark is kept; a mark whose lifetime is over (a session past its
-- absolute lifetime) is not written.
--
-- Returns 1 when something was written and announced, 2 when folded, 0
-- when nothing changed.
local ttl = tonumber(ARGV[2])
if ARGV[5] == 'user' then
	local old = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
	if old >= tonumber(ARGV[1]) then
		return 0
	end
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
	redis.call('PUBLISH', ARGV[3], ARGV[4])
	return 1
end

if redis.call('PTTL', KEYS[1]) >= ttl then
	return 0
end
local now = tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if not redis.call('ZSCORE', KEYS[2], KEYS[1]) and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[7]) then
	local old = tonumber(redis.call('GET', KEYS[3]) or '')
	if (not old or old < tonumber(ARGV[10])) and tonumber(ARGV[8]) > 0 then
		redis.call('SET', KEYS[3], ARGV[10], 'PX', ARGV[8])
		redis.call('PUBLISH', ARGV[3], ARGV[9])
	end
	return 2
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, KEYS[1])
if redis.call('PTTL', KEYS[2]) < ttl then
	redis.call('PEXPIRE', KEYS[2], ttl)
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
