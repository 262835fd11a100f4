-- Every webhook delivery attempt of a notification (market.notification-deliveries.v1).
CREATE TABLE IF NOT EXISTS notification_deliveries (
    notification_id String,
    attempt         Int32,
    event_id        String,
    event_time      DateTime,
    subscription_id String,
    user_id         String,
    channel         String,
    status          String,
    http_status     Int32,
    error           String,
    latency_ms      Int64,
    retry_in_ms     Int64,
    ingested_at     DateTime
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (notification_id, attempt, event_id);

-- Every status change of every scrape job (market.scrape-status.v1); a job's current status is
-- argMax(status, (event_time, event_id)) per job_id.
CREATE TABLE IF NOT EXISTS scrape_jobs (
    job_id            String,
    event_id          String,
    event_time        DateTime,
    status            String,
    attempt           Int32,
    pages_done        Int32,
    pages_total       Int32,
    reason            String,
    breaker_state     String,
    url               String,
    http_status       Int32,
    keyword           String,
    analysis_id       String,
    listings_observed Int32,
    ingested_at       DateTime
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (job_id, event_time, event_id);

-- Every transition of every analysis (market.analysis-events.v1).
CREATE TABLE IF NOT EXISTS analyses (
    analysis_id      String,
    event_id         String,
    event_time       DateTime,
    type             String,
    keyword          String,
    step             String,
    progress         Float64,
    detail           String,
    job_ids          Array(String),
    stale            UInt8,
    duration_ms      Int64,
    competitor_count Nullable(Int32),
    price_median_minor Nullable(Float64),
    reason           String,
    ingested_at      DateTime
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (analysis_id, event_time, event_id);

-- The event-sourced audit of what users did (market.user-actions.v1).
CREATE TABLE IF NOT EXISTS user_actions (
    event_id     String,
    event_time   DateTime,
    user_id      String,
    kind         String,
    keyword      String,
    asin         String,
    analysis_id  String,
    param_names  Array(String),
    param_values Array(String),
    route        String,
    status       Int32,
    client_hash  String,
    ingested_at  DateTime
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (user_id, event_time, event_id)
