package products

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// t0 is the event time the tests count from.
var t0 = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// eventID returns a valid, deterministic UUID whose order follows n.
func eventID(n int) string {
	return fmt.Sprintf("00000000-0000-7000-8000-%012d", n)
}

// obsOpt changes a test observation.
type obsOpt func(*marketv1.ProductObserved)

// observation returns an observation of asin with event id eventID(n) at t0+at.
func observation(asin string, n int, at time.Duration, opts ...obsOpt) *marketv1.ProductObserved {
	o := &marketv1.ProductObserved{
		Envelope: &marketv1.Envelope{
			EventId:       eventID(n),
			EventTime:     timestamppb.New(t0.Add(at)),
			Producer:      "test",
			SchemaVersion: marketv1.SchemaVersion,
			CorrelationId: "corr",
		},
		Asin:        asin,
		Marketplace: "amazon.com",
		Attributes:  &marketv1.ProductAttributes{},
		Source:      marketv1.ObservationSource_OBSERVATION_SOURCE_SEARCH_PAGE,
		Keyword:     "usb charger",
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

func price(minor int64) obsOpt {
	return func(o *marketv1.ProductObserved) {
		o.Attributes.Price = &marketv1.Money{AmountMinor: minor, Currency: "USD"}
	}
}

func rating(r float64) obsOpt {
	return func(o *marketv1.ProductObserved) { o.Attributes.Rating = proto.Float64(r) }
}

func reviews(n int64) obsOpt {
	return func(o *marketv1.ProductObserved) { o.Attributes.ReviewCount = proto.Int64(n) }
}

func rank(r int64, category string) obsOpt {
	return func(o *marketv1.ProductObserved) {
		o.Attributes.Ranks = []*marketv1.BestSellersRank{{Rank: r, Category: category}}
	}
}

func title(s string) obsOpt {
	return func(o *marketv1.ProductObserved) { o.Attributes.Title = proto.String(s) }
}

func category(s string) obsOpt {
	return func(o *marketv1.ProductObserved) { o.Attributes.Category = proto.String(s) }
}

func prime(b bool) obsOpt {
	return func(o *marketv1.ProductObserved) { o.Attributes.Prime = proto.Bool(b) }
}

func sellers(n int32) obsOpt {
	return func(o *marketv1.ProductObserved) { o.Attributes.SellerCount = proto.Int32(n) }
}

func availability(a marketv1.Availability) obsOpt {
	return func(o *marketv1.ProductObserved) { o.Attributes.Availability = a }
}

func withID(id string) obsOpt {
	return func(o *marketv1.ProductObserved) { o.Envelope.EventId = id }
}

// full is an observation that carries every material field.
func full(asin string, n int, at time.Duration) *marketv1.ProductObserved {
	return observation(asin, n, at, title("USB-C Charger 65W"), price(2999), rating(4.5), reviews(1200),
		rank(42, "Electronics"), prime(true), sellers(3), availability(marketv1.Availability_AVAILABILITY_IN_STOCK))
}

// applyAll folds observations into a new state in order, failing on the first error.
func applyAll(cfg Config, obs ...*marketv1.ProductObserved) (*marketv1.ProductState, []*marketv1.ProductStateChanged, error) {
	var st *marketv1.ProductState
	var changes []*marketv1.ProductStateChanged
	for _, o := range obs {
		res, err := Apply(cfg, st, o)
		if err != nil {
			return nil, nil, err
		}
		st = res.State
		if res.Change != nil {
			changes = append(changes, res.Change)
		}
	}
	return st, changes, nil
}
