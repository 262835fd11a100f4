package redis

import "encoding/json"

// Kinds of change messages.
const (
	// KindProduct: a product hash p:<asin> changed.
	KindProduct = "product"
	// KindKeyword: a keyword's rows and sorted sets changed.
	KindKeyword = "keyword"
	// KindWindow: a keyword's current window of one series changed.
	KindWindow = "window"
	// KindAnomaly: an anomaly entered the feeds.
	KindAnomaly = "anomaly"
	// KindGeneration: the current generation switched; every cached read is stale.
	KindGeneration = "generation"
)

// Change is the JSON message published on <prefix>changes for every applied change (docs/redis.md).
type Change struct {
	// Kind is product, keyword, window, anomaly or generation.
	Kind string `json:"kind"`
	// Keyword is the keyword concerned (keyword, window; anomaly when it names one).
	Keyword string `json:"keyword,omitempty"`
	// ASIN is the product concerned (product, anomaly).
	ASIN string `json:"asin,omitempty"`
	// Version is the product version (product) or the window update's version (window).
	Version int64 `json:"version,omitempty"`
	// Time is the event time of the change, unix milliseconds.
	Time int64 `json:"time,omitempty"`
	// Window names the series of a window change, e.g. "tumbling:1h".
	Window string `json:"window,omitempty"`
	// ID is the anomaly id (anomaly).
	ID string `json:"id,omitempty"`
	// Generation is the new current generation (generation).
	Generation string `json:"generation,omitempty"`
}

// JSON returns the message as published.
func (c Change) JSON() string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // strings and integers always marshal
	}
	return string(b)
}
