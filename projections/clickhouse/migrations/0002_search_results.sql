-- One row per listing of every search-results page (market.search-results.v1).
CREATE TABLE IF NOT EXISTS search_results (
    event_id          String,
    event_time        DateTime,
    keyword           String,
    marketplace       String,
    page              Int32,
    position          Int32,
    asin              String,
    sponsored         Nullable(UInt8),
    title             Nullable(String),
    brand             Nullable(String),
    price_minor       Nullable(Int64),
    currency          String,
    rating            Nullable(Float64),
    review_count      Nullable(Int64),
    bought_past_month Nullable(Int64),
    prime             Nullable(UInt8),
    total_results     Nullable(Int64),
    job_id            String,
    ingested_at       DateTime
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (marketplace, keyword, event_time, event_id, position)
