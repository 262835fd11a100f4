// Package api serves Market Insights Pro's HTTP API under /api/v1 (documented by the OpenAPI 3.1
// document at /api/v1/openapi.json), its WebSocket of live changes, and whatever page handler it
// is given. It reads the Redis read model through an in-process L1 cache (bounded, expiring LRU)
// kept fresh by the projections' change messages, reads history from ClickHouse, and writes user
// actions, analysis requests and subscription changes to Kafka.
package api
