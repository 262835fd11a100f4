-- Applies one search-results page to a keyword's report rows and sorted sets.
-- KEYS[1] k:<kw>:seen (hash asin -> guard), KEYS[2] k:<kw>:last (zset asin by last-seen event ms),
-- KEYS[3] k:<kw>:rows (hash asin -> row JSON), KEYS[4..8] k:<kw>:by:sales, :by:rating,
-- :by:price, :by:reviews, :by:position.
-- ARGV[1] channel ('' publishes nothing), ARGV[2] change message, ARGV[3] page event time (unix
-- ms), ARGV[4] retention (ms), ARGV[5] TTL in ms (0: none), ARGV[6] number of listings, then per
-- listing 8 values: asin, guard, row JSON, and the scores for KEYS[4..8] ('' removes the
-- product from that set).
-- A listing is applied when its guard is greater than the one stored for the ASIN (guards are
-- fixed-width strings that order by event time, then better position, then event id). A page
-- older than the keyword's newest event time minus the retention changes nothing. Afterwards
-- every product last seen before newest - retention leaves all the keyword's keys.
-- Returns {listings applied, products removed}.
local seen, last, rows = KEYS[1], KEYS[2], KEYS[3]
local t, retention = tonumber(ARGV[3]), tonumber(ARGV[4])

local function newest()
  local top = redis.call('ZRANGE', last, -1, -1, 'WITHSCORES')
  if top[2] then
    return tonumber(top[2])
  end
  return nil
end

-- call runs cmd on key with the members in chunks (unpack has a stack limit of a few thousand).
local function call(cmd, key, members)
  for i = 1, #members, 1000 do
    redis.call(cmd, key, unpack(members, i, math.min(i + 999, #members)))
  end
end

local applied, removed = 0, 0
local wm = newest()
if wm == nil or t >= wm - retention then
  local n = tonumber(ARGV[6])
  for i = 0, n - 1 do
    local b = 7 + i * 8
    local asin, guard = ARGV[b], ARGV[b + 1]
    local old = redis.call('HGET', seen, asin)
    if not old or guard > old then
      redis.call('HSET', seen, asin, guard)
      redis.call('ZADD', last, t, asin)
      redis.call('HSET', rows, asin, ARGV[b + 2])
      for j = 1, 5 do
        local score = ARGV[b + 2 + j]
        if score == '' then
          redis.call('ZREM', KEYS[3 + j], asin)
        else
          redis.call('ZADD', KEYS[3 + j], score, asin)
        end
      end
      applied = applied + 1
    end
  end
end

wm = newest()
if wm ~= nil then
  local gone = redis.call('ZRANGEBYSCORE', last, '-inf', '(' .. tostring(wm - retention))
  if #gone > 0 then
    call('HDEL', seen, gone)
    call('HDEL', rows, gone)
    call('ZREM', last, gone)
    for j = 4, 8 do
      call('ZREM', KEYS[j], gone)
    end
    removed = #gone
  end
end

if applied + removed > 0 then
  if tonumber(ARGV[5]) > 0 then
    for j = 1, 8 do
      redis.call('PEXPIRE', KEYS[j], ARGV[5])
    end
  end
  if ARGV[1] ~= '' then
    redis.call('PUBLISH', ARGV[1], ARGV[2])
  end
end
return {applied, removed}
