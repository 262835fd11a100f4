-- Replaces a keyword's current window of one series when the update is newer by (end, version).
-- KEYS[1] k:<kw>:win:<kind>:<size>.
-- ARGV[1] channel ('' publishes nothing), ARGV[2] change message, ARGV[3] window end (unix ms),
-- ARGV[4] version, ARGV[5] TTL in ms (0: none), ARGV[6..] field, value pairs.
-- Returns 1 when applied, 0 when the hash holds a later window or this one at the same or a later version.
local cur = redis.call('HMGET', KEYS[1], 'end_ms', 'version')
if cur[1] then
  local e, v = tonumber(ARGV[3]), tonumber(ARGV[4])
  local ce, cv = tonumber(cur[1]), tonumber(cur[2])
  if e < ce or (e == ce and v <= cv) then
    return 0
  end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
if tonumber(ARGV[5]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
if ARGV[1] ~= '' then
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return 1
