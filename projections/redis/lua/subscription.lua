-- Applies a subscription change: the subscription's entry s:<id> (guard, index, deleted) and its
-- row in its owner's hash u:<user>:subs. A deletion leaves the entry as a tombstone (deleted 1,
-- its guard kept) so that an older upsert delivered later cannot bring the subscription back.
-- KEYS[1] s:<id>, KEYS[2] u:<user>:subs (an upsert only).
-- ARGV[1] channel (unused: subscription changes publish nothing), ARGV[2] unused,
-- ARGV[3] guard, ARGV[4] subscription id, ARGV[5] KEYS[1] relative to the generation,
-- ARGV[6] 'upsert' or 'delete', ARGV[7] KEYS[2] relative to the generation (upsert),
-- ARGV[8] the row JSON (upsert).
-- Returns 1 when applied, 0 when the entry already holds this or a newer change.
local cur = redis.call('HGET', KEYS[1], 'guard')
if cur and cur >= ARGV[3] then
  return 0
end
local gen = string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[5])
local old = redis.call('HGET', KEYS[1], 'index')
if old and (ARGV[6] == 'delete' or old ~= ARGV[7]) then
  redis.call('HDEL', gen .. old, ARGV[4])
end
redis.call('DEL', KEYS[1])
if ARGV[6] == 'upsert' then
  redis.call('HSET', KEYS[2], ARGV[4], ARGV[8])
  redis.call('HSET', KEYS[1], 'guard', ARGV[3], 'index', ARGV[7], 'deleted', '0')
else
  redis.call('HSET', KEYS[1], 'guard', ARGV[3], 'deleted', '1')
end
return 1
