-- Replaces a product hash with a newer version.
-- KEYS[1] p:<asin>.
-- ARGV[1] channel ('' publishes nothing), ARGV[2] change message, ARGV[3] version,
-- ARGV[4] TTL in ms (0: none), ARGV[5..] field, value pairs (version among them).
-- Returns 1 when applied, 0 when the hash already holds this or a newer version.
local cur = redis.call('HGET', KEYS[1], 'version')
if cur and tonumber(cur) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 5))
if tonumber(ARGV[4]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
if ARGV[1] ~= '' then
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return 1
