-- Every detected anomaly (market.anomalies.v1).
CREATE TABLE IF NOT EXISTS anomalies (
    anomaly_id           String,
    event_id             String,
    event_time           DateTime,
    asin                 String,
    keyword              String,
    marketplace          String,
    kind                 String,
    severity             String,
    score                Float64,
    observed             Float64,
    baseline_method      String,
    baseline_center      Float64,
    baseline_spread      Float64,
    baseline_points      Int32,
    usual_low            Float64,
    usual_high           Float64,
    explanation          String,
    title                String,
    currency             String,
    observation_event_id String,
    ingested_at          DateTime
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (marketplace, asin, event_time, anomaly_id)
