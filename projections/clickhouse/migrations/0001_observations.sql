-- Every ProductObserved event (market.product-observations.v1): what one page said about one product.
-- One logical row per event_id: a redelivered or replayed event has the same sorting key and is merged away.
CREATE TABLE IF NOT EXISTS observations (
    event_id          String,
    event_time        DateTime,
    asin              String,
    marketplace       String,
    source            String,
    keyword           String,
    job_id            String,
    url               String,
    title             Nullable(String),
    brand             Nullable(String),
    category          Nullable(String),
    price_minor       Nullable(Int64),
    list_price_minor  Nullable(Int64),
    currency          String,
    rating            Nullable(Float64),
    review_count      Nullable(Int64),
    bought_past_month Nullable(Int64),
    rank              Nullable(Int64),
    rank_category     Nullable(String),
    prime             Nullable(UInt8),
    availability      String,
    seller_count      Nullable(Int32),
    sponsored         Nullable(UInt8),
    position          Nullable(Int32),
    producer          String,
    ingested_at       DateTime
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (marketplace, asin, event_time, event_id)
