package dashboards

import "strings"

// The ClickHouse panels use these macros of Grafana's ClickHouse plugin (pkg/macros of
// grafana/clickhouse-datasource; see macros.go here, which expands them the same way for the
// tests): $__timeFilter(column), $__fromTime, $__toTime and $__interval_s. Time buckets are
// intDiv on the epoch rather than $__timeInterval, whose toStartOfInterval ClickHouse 18.16
// lacks. Variables are interpolated by Grafana before the plugin expands macros.

// categoryFilter keeps the ASINs whose latest category is one of ${category}; "All" passes
// every ASIN (the variable's custom all value is the literal '__all', which Grafana inserts
// unquoted and unformatted).
const categoryFilter = `('__all' IN (${category:singlequote}) OR asin IN (SELECT asin FROM product_latest FINAL WHERE category IN (${category:singlequote})))`

// bucket is the start of the $__interval_s-wide time bucket of column.
func bucket(column string) string {
	return "toDateTime(intDiv(toUInt32(" + column + "), $__interval_s) * $__interval_s)"
}

// sql removes the tabs that indent a query written in Go source: the least number of leading
// tabs of its lines after the first, and surrounding blank space.
func sql(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	indent := -1
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if n := len(l) - len(strings.TrimLeft(l, "\t")); indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		if i > 0 && indent > 0 {
			l = l[min(indent, len(l)-len(strings.TrimLeft(l, "\t"))):]
		}
		lines[i] = strings.TrimRight(l, " \t")
	}
	return strings.Join(lines, "\n")
}

var (
	keywordVar = Variable{Name: "keyword", Label: "Keyword", Datasource: ClickHouse,
		Query: "SELECT DISTINCT keyword FROM search_results WHERE keyword != '' ORDER BY keyword"}
	categoryVar = Variable{Name: "category", Label: "Category", Datasource: ClickHouse, Multi: true, IncludeAll: true, AllValue: "'__all'",
		Query: "SELECT DISTINCT assumeNotNull(category) AS category FROM product_latest FINAL WHERE category IS NOT NULL ORDER BY category"}
)

func marketOverview() Dashboard {
	kw := "keyword = '${keyword}'"
	return Dashboard{
		File: "market-overview.json", UID: "mip-market-overview", Title: "Market overview",
		Description: "Competition, prices, share of voice, movers and anomalies of a keyword (ClickHouse read model).",
		Tags:        []string{"marketinsights", "market"}, From: "now-24h", Refresh: "1m",
		Variables: []Variable{keywordVar, categoryVar, {Name: "asin", Label: "ASIN", Datasource: ClickHouse,
			Query: sql(`
				SELECT DISTINCT asin FROM search_results
				WHERE keyword = '${keyword}' AND ` + categoryFilter + `
				ORDER BY asin`)}},
		Panels: []Panel{
			{Title: "Competitors", Description: "Distinct products listed for the keyword in its latest hourly window.", Type: "stat", Datasource: ClickHouse, W: 6, H: 4,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT argMax(competitor_count, window_start) AS competitors
					FROM keyword_windows FINAL
					WHERE ` + kw + ` AND window_name = 'tumbling_1h' AND $__timeFilter(window_start)`)}}},
			{Title: "Median price", Description: "Median listed price in the latest hourly window (currency units).", Type: "stat", Datasource: ClickHouse, W: 6, H: 4,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT argMax(price_median_minor, window_start) / 100 AS median_price
					FROM keyword_windows FINAL
					WHERE ` + kw + ` AND window_name = 'tumbling_1h' AND $__timeFilter(window_start)`)}}},
			{Title: "Sponsored share", Description: "Share of listings labelled Sponsored in the latest hourly window.", Type: "stat", Datasource: ClickHouse, Unit: "percentunit", W: 6, H: 4,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT argMax(sponsored_share, window_start) AS sponsored_share
					FROM keyword_windows FINAL
					WHERE ` + kw + ` AND window_name = 'tumbling_1h' AND $__timeFilter(window_start)`)}}},
			{Title: "Anomalies", Description: "Anomalies detected for the keyword's products in the time range.", Type: "stat", Datasource: ClickHouse, W: 6, H: 4,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT count() AS anomalies
					FROM anomalies FINAL
					WHERE ` + kw + ` AND $__timeFilter(event_time) AND ` + categoryFilter)}}},
			{Title: "Keyword competition over time", Description: "Products listed and search pages read per hourly window.", Type: "timeseries", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{SQL: sql(`
					SELECT window_start AS time, competitor_count AS competitors, pages_observed AS pages
					FROM keyword_windows FINAL
					WHERE ` + kw + ` AND window_name = 'tumbling_1h' AND $__timeFilter(window_start)
					ORDER BY time`)}}},
			{Title: "Price band over time", Description: "Lowest, median and 90th percentile listed price per hourly window (currency units).", Type: "timeseries", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{SQL: sql(`
					SELECT window_start AS time,
					       price_min_minor / 100 AS low,
					       price_median_minor / 100 AS median,
					       price_p90_minor / 100 AS p90
					FROM keyword_windows FINAL
					WHERE ` + kw + ` AND window_name = 'tumbling_1h' AND $__timeFilter(window_start)
					ORDER BY time`)}}},
			{Title: "Price distribution", Description: "Products by their latest listed price in the time range, in bands of 5 currency units.", Type: "barchart", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT concat(toString(band * 5), '-', toString(band * 5 + 5)) AS price_band, count() AS products
					FROM
					(
					    SELECT asin, intDiv(assumeNotNull(argMax(price_minor, event_time)), 500) AS band
					    FROM search_results FINAL
					    WHERE ` + kw + ` AND $__timeFilter(event_time) AND price_minor IS NOT NULL AND ` + categoryFilter + `
					    GROUP BY asin
					)
					GROUP BY band
					ORDER BY band`)}}},
			{Title: "Share of voice", Description: "Brands' position-weighted share of the keyword's listings in the latest 24-hour sliding window.", Type: "piechart", Datasource: ClickHouse, Unit: "percentunit", W: 12, H: 8,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT brand, share
					FROM
					(
					    SELECT sov_brand, sov_share
					    FROM keyword_windows FINAL
					    WHERE ` + kw + ` AND window_name = 'sliding_24h' AND $__timeFilter(window_end)
					    ORDER BY window_end DESC
					    LIMIT 1
					)
					ARRAY JOIN sov_brand AS brand, sov_share AS share
					ORDER BY share DESC`)}}},
			{Title: "Share of voice over time", Description: "Each brand's share per hourly window.", Type: "timeseries", Datasource: ClickHouse, Unit: "percentunit", W: 12, H: 8,
				Queries: []Query{{SQL: sql(`
					SELECT window_start AS time, brand, share
					FROM keyword_windows FINAL
					ARRAY JOIN sov_brand AS brand, sov_share AS share
					WHERE ` + kw + ` AND window_name = 'tumbling_1h' AND $__timeFilter(window_start)
					ORDER BY time, brand`)}}},
			{Title: "Top movers", Description: "The keyword's products whose price moved most in the time range.", Type: "table", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT asin,
					       any(title) AS title,
					       argMin(assumeNotNull(price_before_minor), version) / 100 AS price_before,
					       argMax(assumeNotNull(price_after_minor), version) / 100 AS price_now,
					       round(100 * (price_now - price_before) / price_before, 1) AS change_percent
					FROM product_changes FINAL
					WHERE has(changes, 'price') AND $__timeFilter(event_time)
					  AND price_before_minor IS NOT NULL AND price_after_minor IS NOT NULL
					  AND asin IN (SELECT asin FROM search_results WHERE ` + kw + ` AND $__timeFilter(event_time))
					  AND ` + categoryFilter + `
					GROUP BY asin
					ORDER BY abs(change_percent) DESC
					LIMIT 20`)}}},
			{Title: "Top 10 by estimated monthly sales", Description: "The latest hourly window's best sellers with the band of the estimate.", Type: "table", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT asin, title, brand, units, low, high
					FROM
					(
					    SELECT top_asin, top_title, top_brand, top_units, top_units_low, top_units_high
					    FROM keyword_windows FINAL
					    WHERE ` + kw + ` AND window_name = 'tumbling_1h' AND $__timeFilter(window_start)
					    ORDER BY window_start DESC
					    LIMIT 1
					)
					ARRAY JOIN top_asin AS asin, top_title AS title, top_brand AS brand,
					           top_units AS units, top_units_low AS low, top_units_high AS high
					ORDER BY units DESC`)}}},
			{Title: "Anomalies", Description: "What was unusual, explained, newest first.", Type: "table", Datasource: ClickHouse, W: 24, H: 8,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT event_time AS time, asin, title, kind, severity, round(score, 1) AS score, explanation
					FROM anomalies FINAL
					WHERE ` + kw + ` AND $__timeFilter(event_time) AND ` + categoryFilter + `
					ORDER BY event_time DESC
					LIMIT 100`)}}},
			{Title: "${asin} against the keyword's median price", Description: "The selected ASIN's observed price and the keyword's hourly median (currency units).", Type: "timeseries", Datasource: ClickHouse, W: 24, H: 8,
				Queries: []Query{
					{SQL: sql(`
						SELECT ` + bucket("event_time") + ` AS time, avg(price_minor) / 100 AS price
						FROM observations FINAL
						WHERE asin = '${asin}' AND $__timeFilter(event_time) AND price_minor IS NOT NULL
						GROUP BY time
						ORDER BY time`)},
					{SQL: sql(`
						SELECT window_start AS time, price_median_minor / 100 AS keyword_median
						FROM keyword_windows FINAL
						WHERE ` + kw + ` AND window_name = 'tumbling_1h' AND $__timeFilter(window_start)
						ORDER BY time`)},
				}},
		},
	}
}

func productDrilldown() Dashboard {
	asin := "asin = '${asin}'"
	return Dashboard{
		File: "product-drilldown.json", UID: "mip-product-drilldown", Title: "Product drill-down",
		Description: "Price, rank, reviews, search position, changes and anomalies of one ASIN (ClickHouse read model).",
		Tags:        []string{"marketinsights", "market"}, From: "now-7d", Refresh: "1m",
		Variables: []Variable{
			{Name: "asin", Label: "ASIN", Datasource: ClickHouse,
				Query: "SELECT asin FROM product_latest FINAL ORDER BY asin"},
			{Name: "keyword", Label: "Keyword", Datasource: ClickHouse,
				Query: "SELECT DISTINCT keyword FROM search_results WHERE asin = '${asin}' ORDER BY keyword"},
		},
		Panels: []Panel{
			{Title: "Latest state", Description: "The product's latest attributes (product_latest).", Type: "table", Datasource: ClickHouse, W: 24, H: 4,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT asin, title, brand, category, price_minor / 100 AS price, currency, rating, review_count,
					       rank, rank_category, availability, seller_count, round(review_velocity_per_day, 1) AS reviews_per_day,
					       event_time AS observed
					FROM product_latest FINAL
					WHERE ` + asin)}}},
			{Title: "Price", Description: "Lowest and highest observed price per time bucket, and the list price (currency units).", Type: "timeseries", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{SQL: sql(`
					SELECT ` + bucket("event_time") + ` AS time,
					       min(price_minor) / 100 AS low,
					       max(price_minor) / 100 AS high,
					       max(list_price_minor) / 100 AS list_price
					FROM observations FINAL
					WHERE ` + asin + ` AND $__timeFilter(event_time) AND price_minor IS NOT NULL
					GROUP BY time
					ORDER BY time`)}}},
			{Title: "Best-sellers rank", Description: "Main best-sellers rank per time bucket (lower is better).", Type: "timeseries", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{SQL: sql(`
					SELECT ` + bucket("event_time") + ` AS time, min(rank) AS best_rank
					FROM observations FINAL
					WHERE ` + asin + ` AND $__timeFilter(event_time) AND rank IS NOT NULL
					GROUP BY time
					ORDER BY time`)}}},
			{Title: "Reviews", Description: "Number of ratings per time bucket.", Type: "timeseries", Datasource: ClickHouse, W: 8, H: 8,
				Queries: []Query{{SQL: sql(`
					SELECT ` + bucket("event_time") + ` AS time, max(review_count) AS reviews
					FROM observations FINAL
					WHERE ` + asin + ` AND $__timeFilter(event_time) AND review_count IS NOT NULL
					GROUP BY time
					ORDER BY time`)}}},
			{Title: "Rating", Description: "Average stars per time bucket.", Type: "timeseries", Datasource: ClickHouse, W: 8, H: 8,
				Queries: []Query{{SQL: sql(`
					SELECT ` + bucket("event_time") + ` AS time, round(avg(rating), 2) AS mean_rating
					FROM observations FINAL
					WHERE ` + asin + ` AND $__timeFilter(event_time) AND rating IS NOT NULL
					GROUP BY time
					ORDER BY time`)}}},
			{Title: "Search position for ${keyword}", Description: "Best position of the ASIN on the keyword's search pages per time bucket (page 1 position 1 is 1).", Type: "timeseries", Datasource: ClickHouse, W: 8, H: 8,
				Queries: []Query{{SQL: sql(`
					SELECT ` + bucket("event_time") + ` AS time, min(position) AS best_position
					FROM search_results FINAL
					WHERE ` + asin + ` AND keyword = '${keyword}' AND $__timeFilter(event_time)
					GROUP BY time
					ORDER BY time`)}}},
			{Title: "Changes", Description: "Every material change with before and after values.", Type: "table", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT event_time AS time, arrayStringConcat(changes, ', ') AS changed,
					       price_before_minor / 100 AS price_before, price_after_minor / 100 AS price_after,
					       rating_before, rating_after, reviews_before, reviews_after, rank_before, rank_after,
					       availability_before, availability_after
					FROM product_changes FINAL
					WHERE ` + asin + ` AND $__timeFilter(event_time)
					ORDER BY version DESC
					LIMIT 200`)}}},
			{Title: "Anomalies", Description: "Anomalies of the ASIN, explained.", Type: "table", Datasource: ClickHouse, W: 12, H: 8,
				Queries: []Query{{Table: true, SQL: sql(`
					SELECT event_time AS time, kind, severity, round(score, 1) AS score, observed, usual_low, usual_high, explanation
					FROM anomalies FINAL
					WHERE ` + asin + ` AND event_time >= $__fromTime AND event_time <= $__toTime
					ORDER BY event_time DESC
					LIMIT 100`)}}},
		},
	}
}
