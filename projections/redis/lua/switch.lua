-- Makes ARGV[1] the current generation; clears next if it named it; publishes the switch.
-- KEYS[1] current pointer, KEYS[2] next pointer; ARGV[1] generation, ARGV[2] channel, ARGV[3] message.
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return old
