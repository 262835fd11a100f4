package dashboards

// Pending are metrics that deploy/prometheus/alerts.yml (and later panels) name but that no role
// emits yet, with the component that will. A test fails when one of these appears in the
// registry of the running roles, so that it moves from here to a dashboard panel. Empty: every
// metric the alerts name is emitted and on a panel.
var Pending = map[string]string{}

func pipelineHealth() Dashboard {
	return Dashboard{
		File: "pipeline-health.json", UID: "mip-pipeline-health", Title: "Pipeline health",
		Description: "Throughput, consumer lag, freshness, errors and dead letters of the processors and projectors; API requests and caches (Prometheus).",
		Tags:        []string{"marketinsights", "pipeline"}, From: "now-1h", Refresh: "10s",
		Panels: []Panel{
			{Title: "Records processed / s", Type: "stat", Datasource: Prometheus, Unit: "ops", W: 6, H: 4,
				Queries: []Query{{Expr: `sum(rate(marketinsights_processor_messages_total[5m]))`}}},
			{Title: "Rows written / s", Type: "stat", Datasource: Prometheus, Unit: "ops", W: 6, H: 4,
				Queries: []Query{{Expr: `sum(rate(marketinsights_projector_rows_written_total[5m]))`}}},
			{Title: "Consumer lag", Description: "Records not yet committed, all groups.", Type: "stat", Datasource: Prometheus, W: 6, H: 4,
				Queries: []Query{{Expr: `sum(max by (group, topic, partition) (marketinsights_kafka_consumer_lag))`}}},
			{Title: "Dead letters (1 h)", Description: "Records and notifications sent to market.dead-letters.v1 in the last hour.", Type: "stat", Datasource: Prometheus, W: 6, H: 4,
				Queries: []Query{{Expr: `(sum(increase(marketinsights_processor_dead_letters_total[1h])) or vector(0)) + (sum(increase(marketinsights_projector_dead_letters_total[1h])) or vector(0)) + (sum(increase(marketinsights_delivery_dead_letters_total[1h])) or vector(0))`}}},

			{Title: "Processor throughput", Description: "Messages consumed per second by goka group.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 12, H: 8,
				Queries: []Query{{Expr: `sum by (group) (rate(marketinsights_processor_messages_total[1m]))`, Legend: "{{group}}"}}},
			{Title: "Produced per topic", Description: "Records appended to each topic per second (end offsets, any producer).", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 12, H: 8,
				Queries: []Query{{Expr: `sum by (topic) (max by (topic, partition) (rate(marketinsights_kafka_topic_end_offset{topic=~"market[.].*"}[1m])))`, Legend: "{{topic}}"}}},
			{Title: "Processor output", Description: "Events emitted per second by group and topic.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 12, H: 8,
				Queries: []Query{{Expr: `sum by (group, topic) (rate(marketinsights_processor_emitted_total[1m]))`, Legend: "{{group}} → {{topic}}"}}},
			{Title: "Projector throughput", Description: "Records consumed and rows written per second by sink.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 12, H: 8,
				Queries: []Query{
					{Expr: `sum by (sink) (rate(marketinsights_projector_records_consumed_total[1m]))`, Legend: "{{sink}} records"},
					{Expr: `sum by (sink) (rate(marketinsights_projector_rows_written_total[1m]))`, Legend: "{{sink}} rows"},
				}},

			{Title: "Consumer lag by group", Description: "Records each consumer group has not committed.", Type: "timeseries", Datasource: Prometheus, W: 12, H: 8,
				Queries: []Query{{Expr: `sum by (group) (max by (group, topic, partition) (marketinsights_kafka_consumer_lag))`, Legend: "{{group}}"}}},
			{Title: "Most lagging partitions", Type: "bargauge", Datasource: Prometheus, W: 12, H: 8,
				Queries: []Query{{Expr: `topk(10, max by (group, topic, partition) (marketinsights_kafka_consumer_lag))`, Legend: "{{group}} {{topic}}/{{partition}}"}}},

			{Title: "Freshness in ClickHouse (p50, p95)", Description: "Time from a record's timestamp to its projector: how old what the read model shows is.", Type: "timeseries", Datasource: Prometheus, Unit: "s", W: 12, H: 8,
				Queries: []Query{
					{Expr: `histogram_quantile(0.95, sum by (sink, le) (rate(marketinsights_projector_freshness_seconds_bucket[5m])))`, Legend: "{{sink}} p95"},
					{Expr: `histogram_quantile(0.5, sum by (le) (rate(marketinsights_projector_freshness_seconds_bucket[5m])))`, Legend: "all sinks p50"},
				}},
			{Title: "Processing latency from event time (p95)", Description: "Time from an event's event time to its processing, by group.", Type: "timeseries", Datasource: Prometheus, Unit: "s", W: 12, H: 8,
				Queries: []Query{{Expr: `histogram_quantile(0.95, sum by (group, le) (rate(marketinsights_processor_latency_seconds_bucket[5m])))`, Legend: "{{group}}"}}},

			{Title: "Errors", Description: "Messages a processor could not apply, failed and retried batch writes.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 12, H: 8,
				Queries: []Query{
					{Expr: `sum by (group, reason) (rate(marketinsights_processor_errors_total[5m])) or vector(0)`, Legend: "{{group}} {{reason}}"},
					{Expr: `sum by (sink) (rate(marketinsights_projector_write_errors_total[5m])) or vector(0)`, Legend: "{{sink}} write errors"},
					{Expr: `sum by (sink) (rate(marketinsights_projector_write_retries_total[5m])) or vector(0)`, Legend: "{{sink}} retries"},
				}},
			{Title: "Dead letters", Description: "Records sent to market.dead-letters.v1 per second, by component.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 12, H: 8,
				Queries: []Query{
					{Expr: `sum by (group) (rate(marketinsights_processor_dead_letters_total[5m]))`, Legend: "processor {{group}}"},
					{Expr: `sum by (sink) (rate(marketinsights_projector_dead_letters_total[5m]))`, Legend: "projector {{sink}}"},
					{Expr: `sum(rate(marketinsights_delivery_dead_letters_total[5m]))`, Legend: "webhook delivery"},
				}},

			{Title: "Late events", Description: "Events past their window's allowed lateness, per second.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 8, H: 8,
				Queries: []Query{{Expr: `sum by (group) (rate(marketinsights_processor_late_events_total[5m]))`, Legend: "{{group}}"}}},
			{Title: "Window state", Description: "Items held in processor state (open windows, window entries).", Type: "timeseries", Datasource: Prometheus, W: 8, H: 8,
				Queries: []Query{{Expr: `sum by (group, kind) (marketinsights_processor_state_items)`, Legend: "{{group}} {{kind}}"}}},
			{Title: "State value size (p95)", Type: "timeseries", Datasource: Prometheus, Unit: "bytes", W: 8, H: 8,
				Queries: []Query{{Expr: `histogram_quantile(0.95, sum by (group, le) (rate(marketinsights_processor_state_value_bytes_bucket[5m])))`, Legend: "{{group}}"}}},

			{Title: "Projector batch size (p50)", Type: "timeseries", Datasource: Prometheus, W: 8, H: 8,
				Queries: []Query{{Expr: `histogram_quantile(0.5, sum by (sink, le) (rate(marketinsights_projector_batch_rows_bucket[5m])))`, Legend: "{{sink}}"}}},
			{Title: "Projector write latency (p95)", Type: "timeseries", Datasource: Prometheus, Unit: "s", W: 8, H: 8,
				Queries: []Query{{Expr: `histogram_quantile(0.95, sum by (sink, le) (rate(marketinsights_projector_write_duration_seconds_bucket[5m])))`, Legend: "{{sink}}"}}},
			{Title: "Webhook deliveries", Description: "Delivery attempts per second by outcome.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 8, H: 8,
				Queries: []Query{{Expr: `sum by (outcome) (rate(marketinsights_delivery_attempts_total[5m])) or vector(0)`, Legend: "{{outcome}}"}}},

			{Title: "Kafka client fetches", Description: "Records fetched per second by the franz-go clients (projectors, webhook deliverer), by topic.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 8, H: 8,
				Queries: []Query{{Expr: `sum by (topic) (rate(marketinsights_kafka_client_fetch_records_total[1m]))`, Legend: "{{topic}}"}}},
			{Title: "Kafka client produce", Description: "Records produced per second by the franz-go clients, by topic.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 8, H: 8,
				Queries: []Query{{Expr: `sum by (topic) (rate(marketinsights_kafka_client_produce_records_total[1m]))`, Legend: "{{topic}}"}}},
			{Title: "Kafka connections", Description: "Broker connections opened per second; failed collections of consumer lag.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 8, H: 8,
				Queries: []Query{
					{Expr: `sum by (instance) (rate(marketinsights_kafka_client_connects_total[5m]))`, Legend: "{{instance}} connects"},
					{Expr: `sum by (instance) (rate(marketinsights_kafka_lag_collect_errors_total[5m]))`, Legend: "{{instance}} lag collection errors"},
				}},

			{Title: "API requests / s", Description: "Requests served per second by route and status code.", Type: "timeseries", Datasource: Prometheus, Unit: "reqps", W: 12, H: 8,
				Queries: []Query{{Expr: `sum by (route, code) (rate(marketinsights_api_requests_total[1m]))`, Legend: "{{route}} {{code}}"}}},
			{Title: "API latency (p50, p95)", Description: "Time to serve a request, by route.", Type: "timeseries", Datasource: Prometheus, Unit: "s", W: 12, H: 8,
				Queries: []Query{
					{Expr: `histogram_quantile(0.95, sum by (route, le) (rate(marketinsights_api_request_duration_seconds_bucket[5m])))`, Legend: "{{route}} p95"},
					{Expr: `histogram_quantile(0.5, sum by (le) (rate(marketinsights_api_request_duration_seconds_bucket[5m])))`, Legend: "all routes p50"},
				}},
			{Title: "API cache hit ratio by layer", Description: "Lookups answered by each layer (l1 in process, redis, clickhouse), of the lookups that reached it.", Type: "timeseries", Datasource: Prometheus, Unit: "percentunit", W: 8, H: 8,
				Queries: []Query{{Expr: `(sum by (layer) (rate(marketinsights_api_cache_requests_total{result="hit"}[5m])) or 0 * sum by (layer) (rate(marketinsights_api_cache_requests_total[5m]))) / sum by (layer) (rate(marketinsights_api_cache_requests_total[5m]))`, Legend: "{{layer}}"}}},
			{Title: "API cache lookups", Description: "Lookups per second by cache, layer and result.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 8, H: 8,
				Queries: []Query{{Expr: `sum by (cache, layer, result) (rate(marketinsights_api_cache_requests_total[5m]))`, Legend: "{{cache}} {{layer}} {{result}}"}}},
			{Title: "API errors and refusals", Description: "Server errors, requests refused by the rate limit, and user actions not written to Kafka, per second.", Type: "timeseries", Datasource: Prometheus, Unit: "reqps", W: 8, H: 8,
				Queries: []Query{
					{Expr: `sum by (route) (rate(marketinsights_api_requests_total{code=~"5.."}[5m])) or vector(0)`, Legend: "{{route}} 5xx"},
					{Expr: `sum(rate(marketinsights_api_rate_limited_total[5m]))`, Legend: "rate limited"},
					{Expr: `sum(rate(marketinsights_api_user_actions_failed_total[5m]))`, Legend: "actions not written"},
				}},

			{Title: "Memory (resident)", Type: "timeseries", Datasource: Prometheus, Unit: "bytes", W: 12, H: 8,
				Queries: []Query{{Expr: `process_resident_memory_bytes{job=~"marketinsights.*"}`, Legend: "{{job}} {{instance}}"}}},
			{Title: "Goroutines", Type: "timeseries", Datasource: Prometheus, W: 12, H: 8,
				Queries: []Query{{Expr: `go_goroutines{job=~"marketinsights.*"}`, Legend: "{{job}} {{instance}}"}}},
		},
	}
}

func scraping() Dashboard {
	return Dashboard{
		File: "scraping.json", UID: "mip-scraping", Title: "Scraping",
		Description: "Scrape jobs: outcomes, success rate, why pages failed or were blocked, circuit breakers (ClickHouse scrape_jobs); the workers' attempts, pages, breakers, queues and durations, and requests per priority (Prometheus).",
		Tags:        []string{"marketinsights", "scraping"}, From: "now-6h", Refresh: "30s",
		Panels: []Panel{
			{Title: "Success rate", Description: "Job attempts that succeeded, of those that ended.", Type: "stat", Datasource: ClickHouse, Unit: "percentunit", W: 6, H: 4,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT countIf(status = 'succeeded') / greatest(countIf(status IN ('succeeded', 'failed', 'blocked', 'stale')), 1) AS success_rate
					FROM scrape_jobs FINAL
					WHERE $__timeFilter(event_time)`)}}},
			{Title: "Blocked", Description: "Job attempts ended by a robot check or a refusal.", Type: "stat", Datasource: ClickHouse, W: 6, H: 4,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT countIf(status = 'blocked') AS blocked
					FROM scrape_jobs FINAL
					WHERE $__timeFilter(event_time)`)}}},
			{Title: "Jobs in flight", Description: "Jobs whose latest status is queued, running or retrying.", Type: "stat", Datasource: ClickHouse, W: 6, H: 4,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT countIf(status IN ('queued', 'running', 'retrying')) AS in_flight
					FROM
					(
					    SELECT job_id, argMax(status, event_time) AS status
					    FROM scrape_jobs FINAL
					    WHERE $__timeFilter(event_time)
					    GROUP BY job_id
					)`)}}},
			{Title: "Scrape requests / s", Description: "Jobs requested per second, all priorities.", Type: "stat", Datasource: Prometheus, Unit: "ops", W: 6, H: 4,
				Queries: []Query{{Expr: `sum(max by (topic, partition) (rate(marketinsights_kafka_topic_end_offset{topic=~"market[.]scrape-requests[.].*"}[5m])))`}}},

			{Title: "Attempt success rate (15 m)", Description: "Job attempts the workers ended succeeded, of those not cancelled by a shutdown.", Type: "stat", Datasource: Prometheus, Unit: "percentunit", W: 6, H: 4,
				Queries: []Query{{Expr: `(sum(increase(marketinsights_scrape_jobs_total{status="succeeded"}[15m])) or vector(0)) / sum(increase(marketinsights_scrape_jobs_total{status!="cancelled"}[15m]))`}}},
			{Title: "Blocked pages (1 h)", Description: "Pages that were robot checks or refusals.", Type: "stat", Datasource: Prometheus, W: 6, H: 4,
				Queries: []Query{{Expr: `sum(increase(marketinsights_scrape_pages_total{result="blocked"}[1h])) or vector(0)`}}},
			{Title: "Open breakers", Description: "Hosts whose circuit breaker is open now.", Type: "stat", Datasource: Prometheus, W: 6, H: 4,
				Queries: []Query{{Expr: `count(max by (host) (marketinsights_scrape_breaker_state) == 2) or vector(0)`}}},
			{Title: "Jobs running", Description: "Jobs the workers run now.", Type: "stat", Datasource: Prometheus, W: 6, H: 4,
				Queries: []Query{{Expr: `sum(marketinsights_scrape_running_jobs)`}}},

			{Title: "Job attempts by status", Description: "Attempts the workers ended per second, by status.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 12, H: 8,
				Queries: []Query{{Expr: `sum by (status) (rate(marketinsights_scrape_jobs_total[5m]))`, Legend: "{{status}}"}}},
			{Title: "Pages by result", Description: "Pages fetched per second by kind (search, product) and result (ok, blocked, failed, not_found).", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 12, H: 8,
				Queries: []Query{{Expr: `sum by (kind, result) (rate(marketinsights_scrape_pages_total[5m]))`, Legend: "{{kind}} {{result}}"}}},
			{Title: "Queue depth by priority", Description: "Accepted jobs waiting for a worker slot, by priority, and jobs running.", Type: "timeseries", Datasource: Prometheus, W: 12, H: 8,
				Queries: []Query{
					{Expr: `sum by (priority) (marketinsights_scrape_queued_jobs)`, Legend: "queued {{priority}}"},
					{Expr: `sum(marketinsights_scrape_running_jobs)`, Legend: "running"},
				}},
			{Title: "Job duration (p50, p95)", Description: "Time a job attempt ran, by status.", Type: "timeseries", Datasource: Prometheus, Unit: "s", W: 12, H: 8,
				Queries: []Query{
					{Expr: `histogram_quantile(0.95, sum by (status, le) (rate(marketinsights_scrape_job_duration_seconds_bucket[15m])))`, Legend: "{{status}} p95"},
					{Expr: `histogram_quantile(0.5, sum by (le) (rate(marketinsights_scrape_job_duration_seconds_bucket[15m])))`, Legend: "all p50"},
				}},
			{Title: "Breaker state by host", Description: "Each host's circuit breaker as the workers hold it: 0 closed, 1 half-open, 2 open.", Type: "timeseries", Datasource: Prometheus, W: 24, H: 6,
				Queries: []Query{{Expr: `max by (host) (marketinsights_scrape_breaker_state)`, Legend: "{{host}}"}}},

			{Title: "Job outcomes", Description: "Status changes per time bucket.", Type: "timeseries", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{SQL: sql(`
					SELECT ` + bucket("event_time") + ` AS time, status, count() AS jobs
					FROM scrape_jobs FINAL
					WHERE $__timeFilter(event_time) AND status != 'running'
					GROUP BY time, status
					ORDER BY time, status`)}}},
			{Title: "Requests by priority", Description: "Scrape jobs requested per second on each priority topic.", Type: "timeseries", Datasource: Prometheus, Unit: "ops", W: 12, H: 8,
				Queries: []Query{{Expr: `sum by (topic) (max by (topic, partition) (rate(marketinsights_kafka_topic_end_offset{topic=~"market[.]scrape-requests[.].*"}[5m])))`, Legend: "{{topic}}"}}},

			{Title: "Why jobs failed or were blocked", Type: "table", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT status, reason, count() AS attempts, max(event_time) AS last_seen
					FROM scrape_jobs FINAL
					WHERE $__timeFilter(event_time) AND status IN ('failed', 'blocked', 'retrying', 'stale')
					GROUP BY status, reason
					ORDER BY attempts DESC`)}}},
			{Title: "Circuit breakers by host", Description: "Each host's breaker as the latest job status reported it.", Type: "table", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT domain(url) AS host, argMax(breaker_state, event_time) AS breaker, max(event_time) AS last_seen
					FROM scrape_jobs FINAL
					WHERE $__timeFilter(event_time) AND url != '' AND breaker_state != ''
					GROUP BY host
					ORDER BY host`)}}},
			{Title: "Pages and listings read", Description: "Pages done and listings observed by ended jobs per time bucket.", Type: "timeseries", Datasource: ClickHouse, W: 24, H: 8,
				Queries: []Query{{SQL: sql(`
					SELECT ` + bucket("event_time") + ` AS time, sum(pages_done) AS pages, sum(listings_observed) AS listings
					FROM scrape_jobs FINAL
					WHERE $__timeFilter(event_time) AND status IN ('succeeded', 'failed', 'blocked', 'stale')
					GROUP BY time
					ORDER BY time`)}}},
		},
	}
}
