-- Latest state of every product (market.product-changes.v1): the row with the highest version wins.
CREATE TABLE IF NOT EXISTS product_latest (
    asin                    String,
    marketplace             String,
    version                 UInt64,
    event_id                String,
    event_time              DateTime,
    keyword                 String,
    title                   Nullable(String),
    brand                   Nullable(String),
    category                Nullable(String),
    price_minor             Nullable(Int64),
    list_price_minor        Nullable(Int64),
    currency                String,
    rating                  Nullable(Float64),
    review_count            Nullable(Int64),
    bought_past_month       Nullable(Int64),
    rank                    Nullable(Int64),
    rank_category           Nullable(String),
    prime                   Nullable(UInt8),
    availability            String,
    seller_count            Nullable(Int32),
    image_url               Nullable(String),
    observation_count       Int64,
    price_ewma              Nullable(Float64),
    review_velocity_per_day Nullable(Float64),
    rank_trend_per_day      Nullable(Float64),
    ingested_at             DateTime
) ENGINE = ReplacingMergeTree(version)
ORDER BY (marketplace, asin);

-- Every material change of a product with its before and after values (market.product-changes.v1).
CREATE TABLE IF NOT EXISTS product_changes (
    event_id            String,
    event_time          DateTime,
    asin                String,
    marketplace         String,
    version             UInt64,
    changes             Array(String),
    keyword             String,
    title               Nullable(String),
    currency            String,
    price_before_minor  Nullable(Int64),
    price_after_minor   Nullable(Int64),
    rating_before       Nullable(Float64),
    rating_after        Nullable(Float64),
    reviews_before      Nullable(Int64),
    reviews_after       Nullable(Int64),
    rank_before         Nullable(Int64),
    rank_after          Nullable(Int64),
    availability_before String,
    availability_after  String,
    ingested_at         DateTime
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(event_time)
ORDER BY (marketplace, asin, version)
