-- Adds an anomaly to the global feed and, when KEYS[3] and KEYS[4] are given, to its keyword's
-- feed; each feed keeps the ARGV[6] latest by (event time, anomaly id) and deletes the data of
-- those it drops.
-- KEYS[1] a:feed, KEYS[2] a:data, KEYS[3] k:<kw>:a:feed, KEYS[4] k:<kw>:a:data.
-- ARGV[1] channel ('' publishes nothing), ARGV[2] change message, ARGV[3] anomaly id,
-- ARGV[4] event time (unix ms), ARGV[5] anomaly JSON, ARGV[6] cap, ARGV[7] TTL in ms of the
-- keyword's keys (0: none).
-- Returns 1 when the anomaly was added to a feed and kept there, else 0.
local id, score, cap = ARGV[3], ARGV[4], tonumber(ARGV[6])

local function add(feed, data)
  if redis.call('ZSCORE', feed, id) then
    return 0
  end
  redis.call('ZADD', feed, score, id)
  redis.call('HSET', data, id, ARGV[5])
  local n = redis.call('ZCARD', feed)
  if n > cap then
    local gone = redis.call('ZRANGE', feed, 0, n - cap - 1)
    redis.call('ZREMRANGEBYRANK', feed, 0, n - cap - 1)
    for i = 1, #gone, 1000 do
      redis.call('HDEL', data, unpack(gone, i, math.min(i + 999, #gone)))
    end
    for _, g in ipairs(gone) do
      if g == id then
        return 0
      end
    end
  end
  return 1
end

local applied = add(KEYS[1], KEYS[2])
if #KEYS == 4 then
  if add(KEYS[3], KEYS[4]) == 1 then
    applied = 1
  end
  if tonumber(ARGV[7]) > 0 then
    redis.call('PEXPIRE', KEYS[3], ARGV[7])
    redis.call('PEXPIRE', KEYS[4], ARGV[7])
  end
end
if applied == 1 and ARGV[1] ~= '' then
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return applied
