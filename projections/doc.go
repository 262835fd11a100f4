// Package projections holds what every read-model projector shares: a franz-go consumer that
// batches a topic's records by size and by time, hands them to a Sink, commits offsets only
// after the sink has written them, retries failed writes with backoff while fetching is paused,
// and sends poison records to the dead-letter topic. The sinks live in projections/clickhouse
// and projections/redis.
package projections
