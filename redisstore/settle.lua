-- Record: settle an attempt Allow let through, one operation per key.
-- ARGV[1] is now (Unix milliseconds); ARGV[2i] is the operation on KEYS[i]
-- and ARGV[2i+1] its bucket's refill interval (milliseconds):
--   del   forget the bucket (full again): a reset after a success;
--   give  give one token back;
--   take  take one token whatever the bucket holds (a success counted
--         against a success budget Allow only checked).
local now = tonumber(ARGV[1])
for i = 1, #KEYS do
	local op = ARGV[2 * i]
	local every = tonumber(ARGV[2 * i + 1])
	if op == 'del' then
		redis.call('DEL', KEYS[i])
	else
		local tat = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
		if op == 'give' then
			tat = tat - every
		else
			if tat < now then
				tat = now
			end
			tat = tat + every
		end
		if tat <= now then
			-- Full again: an absent key is a full bucket.
			redis.call('DEL', KEYS[i])
		else
			redis.call('SET', KEYS[i], tat, 'PX', tat - now)
		end
	end
end
return 0
