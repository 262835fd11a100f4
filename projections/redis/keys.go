package redis

import (
	"fmt"
	"strings"
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// keyEscaper escapes the separator (and the escape) in key parts taken from events, so that
// no keyword can make one of its keys collide with another keyword's.
var keyEscaper = strings.NewReplacer("%", "%25", ":", "%3A")

// EscapeKeyPart returns s as it appears inside a key: "%" as "%25" and ":" as "%3A".
func EscapeKeyPart(s string) string { return keyEscaper.Replace(s) }

// ProductKey is the key of a product's hash, relative to a generation: p:<asin>.
func ProductKey(asin string) string { return "p:" + EscapeKeyPart(asin) }

// KeywordKey is a key of a keyword, relative to a generation: k:<keyword>:<suffix>.
func KeywordKey(keyword, suffix string) string { return "k:" + EscapeKeyPart(keyword) + ":" + suffix }

// Suffixes of a keyword's keys (KeywordKey).
const (
	// SuffixSeen is the hash asin -> guard of the latest listing applied.
	SuffixSeen = "seen"
	// SuffixLast is the sorted set of ASINs by the event time (unix ms) they were last listed.
	SuffixLast = "last"
	// SuffixRows is the hash asin -> row JSON of the latest listing.
	SuffixRows = "rows"
	// SuffixBySales is the sorted set of ASINs by estimated monthly unit sales.
	SuffixBySales = "by:sales"
	// SuffixByRating is the sorted set of ASINs by star rating.
	SuffixByRating = "by:rating"
	// SuffixByPrice is the sorted set of ASINs by price in minor units.
	SuffixByPrice = "by:price"
	// SuffixByReviews is the sorted set of ASINs by review count.
	SuffixByReviews = "by:reviews"
	// SuffixByPosition is the sorted set of ASINs by page-adjusted position (1 is the top).
	SuffixByPosition = "by:position"
	// SuffixAnomalyFeed is the keyword's anomaly feed: ids by event time (unix ms).
	SuffixAnomalyFeed = "a:feed"
	// SuffixAnomalyData is the hash id -> anomaly JSON of the keyword's feed.
	SuffixAnomalyData = "a:data"
)

// Keys of the global anomaly feed, relative to a generation.
const (
	// AnomalyFeedKey is the global anomaly feed: ids by event time (unix ms).
	AnomalyFeedKey = "a:feed"
	// AnomalyDataKey is the hash id -> anomaly JSON of the global feed.
	AnomalyDataKey = "a:data"
)

// WindowSeries names a series of windows as keys and messages do: "<kind>:<size>", e.g.
// "tumbling:1h", "sliding:1d" (size in the largest whole unit of d, h, m or s).
func WindowSeries(kind marketv1.WindowKind, sizeSeconds int64) string {
	var k string
	switch kind {
	case marketv1.WindowKind_WINDOW_KIND_TUMBLING:
		k = "tumbling"
	case marketv1.WindowKind_WINDOW_KIND_SLIDING:
		k = "sliding"
	default:
		k = strings.ToLower(strings.TrimPrefix(kind.String(), "WINDOW_KIND_"))
	}
	return k + ":" + sizeText(time.Duration(sizeSeconds)*time.Second)
}

// sizeText writes a window size in its largest whole unit: 1d, 6h, 15m, 90s.
func sizeText(d time.Duration) string {
	s := int64(d / time.Second)
	switch {
	case s > 0 && s%86400 == 0:
		return fmt.Sprintf("%dd", s/86400)
	case s > 0 && s%3600 == 0:
		return fmt.Sprintf("%dh", s/3600)
	case s > 0 && s%60 == 0:
		return fmt.Sprintf("%dm", s/60)
	default:
		return fmt.Sprintf("%ds", s)
	}
}

// WindowKey is the key of a keyword's current window of a series: k:<keyword>:win:<kind>:<size>.
func WindowKey(keyword string, kind marketv1.WindowKind, sizeSeconds int64) string {
	return KeywordKey(keyword, "win:"+WindowSeries(kind, sizeSeconds))
}
