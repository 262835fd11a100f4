// Package redis projects the topics into the Redis read models the API and the report page read:
// the latest state of every product, per keyword the report page's rows with a sorted set per
// sort key, the current window statistics per keyword and series, capped anomaly feeds, and
// every user's notification subscriptions.
// docs/redis.md is the reference of every key; this is the summary.
//
// # Generations
//
// Every read-model key lives in a generation, <prefix>g<N>: (prefix from config.Redis.Prefix,
// "mip:" by default). The string <prefix>current names the active one; readers GET it, then read
// under it. A replay builds a new generation and swaps it in without readers seeing a
// half-built one:
//
//	gen, _ := ks.Begin(ctx)              // reserve g<N+1>, set <prefix>next: live sinks write it too
//	... take the end offsets, replay the topics with Options{Generation: gen} ...
//	old, _ := ks.Switch(ctx, gen)        // one script: current = gen, next cleared, published
//	ks.DeleteGeneration(ctx, old)        // SCAN + UNLINK in batches
//
// Live sinks re-read both pointers (one MGET) at every batch, so a Begin or a Switch takes
// effect at their next batch; they publish only what they apply to the current generation.
// A sink built with Options.Generation writes that generation only and publishes nothing.
//
// # Keys (relative to a generation)
//
//	p:<asin>                      hash  latest product state (product-changes), guarded by version
//	k:<kw>:rows                   hash  asin -> row JSON of its latest listing (search-results)
//	k:<kw>:by:{sales,rating,price,reviews,position}  zsets of ASINs by each sort key
//	k:<kw>:seen                   hash  asin -> guard of the latest listing applied
//	k:<kw>:last                   zset  ASINs by the event time they were last listed (retention)
//	k:<kw>:win:<kind>:<size>      hash  current window of a series (keyword-windows), guarded by (end, version)
//	a:feed, a:data                zset + hash: the global anomaly feed, capped
//	k:<kw>:a:feed, k:<kw>:a:data  zset + hash: the keyword's anomaly feed, capped
//	u:<user>:subs                 hash  subscription id -> JSON of the user's subscriptions (subscriptions)
//	s:<id>                        hash  a subscription's guard, owner and tombstone
//
// Keywords, ASINs, users and subscription ids are escaped in keys (":" as %3A, "%" as %25).
//
// # Writes
//
// Each sink implements projections.Sink[Row]: a record becomes one Lua script call (EVALSHA;
// scripts are loaded once and again after a NOSCRIPT), and a batch is one pipeline. Every
// script checks its guard before changing anything, so an older or repeated event changes
// nothing and the same batch twice leaves the same keys; when it applies a change (other than a
// subscription's) it PUBLISHes a Change as JSON on <prefix>changes. Checksum digests a
// generation's content so that a replayed generation can be compared with the live one.
package redis
