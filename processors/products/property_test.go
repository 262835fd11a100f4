package products

import (
	"bytes"
	"cmp"
	"flag"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

var (
	propertySeed   = flag.Uint64("products.seed", 20250310, "base seed of the product tracker's property tests")
	propertyTrials = flag.Int("products.trials", 300, "random sequences per property")
)

// genObservations returns n observations of one product with random fields, times that often
// share a millisecond (and sometimes differ below it), and random (seeded) event ids.
func genObservations(r *rand.Rand, n int) []*marketv1.ProductObserved {
	span := time.Duration(1+r.IntN(60*24)) * time.Hour // up to 60 days
	slots := 1 + r.IntN(4*n)                           // few slots: many ties
	pick := func(p float64) bool { return r.Float64() < p }
	out := make([]*marketv1.ProductObserved, 0, n)
	for range n {
		at := t0.Add(span / time.Duration(slots) * time.Duration(r.IntN(slots)))
		if pick(0.1) {
			at = at.Add(time.Duration(r.IntN(1000)) * time.Microsecond) // same ms, different time
		}
		var idb [16]byte
		for i := range idb {
			idb[i] = byte(r.UintN(256))
		}
		id, _ := uuid.FromBytes(idb[:])
		o := &marketv1.ProductObserved{
			Envelope: &marketv1.Envelope{EventId: id.String(), EventTime: timestamppb.New(at), Producer: "gen"},
			Asin:     asin,
			Keyword:  "kw",
		}
		if pick(0.8) {
			o.Marketplace = []string{"amazon.com", "amazon.de"}[r.IntN(2)]
		}
		if pick(0.9) {
			a := &marketv1.ProductAttributes{}
			if pick(0.5) {
				a.Title = proto.String([]string{"A", "B", "C"}[r.IntN(3)])
			}
			if pick(0.3) {
				a.Brand = proto.String([]string{"X", "Y"}[r.IntN(2)])
			}
			if pick(0.3) {
				a.Category = proto.String([]string{"Toys", "Games"}[r.IntN(2)])
			}
			if pick(0.7) {
				a.Price = &marketv1.Money{AmountMinor: int64(1000 + 50*r.IntN(10)), Currency: "USD"}
			}
			if pick(0.2) {
				a.ListPrice = &marketv1.Money{AmountMinor: int64(2000 + 50*r.IntN(3)), Currency: "USD"}
			}
			if pick(0.5) {
				a.Rating = proto.Float64(3 + 0.1*float64(r.IntN(20)))
			}
			if pick(0.6) {
				a.ReviewCount = proto.Int64(int64(100 + r.IntN(50)))
			}
			if pick(0.2) {
				a.BoughtPastMonth = proto.Int64(int64(100 * r.IntN(5)))
			}
			if pick(0.5) {
				a.Ranks = []*marketv1.BestSellersRank{{Rank: int64(1 + r.IntN(1000)), Category: "Toys"}}
				if pick(0.3) {
					a.Ranks = append(a.Ranks, &marketv1.BestSellersRank{Rank: int64(1 + r.IntN(50)), Category: "Puzzles"})
				}
			}
			if pick(0.4) {
				a.Prime = proto.Bool(pick(0.5))
			}
			if pick(0.4) {
				a.Availability = marketv1.Availability(1 + r.IntN(4))
			}
			if pick(0.3) {
				a.SellerCount = proto.Int32(int32(1 + r.IntN(5)))
			}
			if pick(0.2) {
				a.ImageUrl = proto.String([]string{"https://i/1.jpg", "https://i/2.jpg"}[r.IntN(2)])
			}
			o.Attributes = a
		}
		out = append(out, o)
	}
	return out
}

// byEventOrder sorts observations by (event time in ms, event id), the tracker's order.
func byEventOrder(obs []*marketv1.ProductObserved) []*marketv1.ProductObserved {
	s := slices.Clone(obs)
	slices.SortFunc(s, func(a, b *marketv1.ProductObserved) int {
		return cmp.Or(
			cmp.Compare(a.GetEnvelope().GetEventTime().AsTime().UnixMilli(), b.GetEnvelope().GetEventTime().AsTime().UnixMilli()),
			cmp.Compare(a.GetEnvelope().GetEventId(), b.GetEnvelope().GetEventId()))
	})
	return s
}

// shuffleWithinLateness shuffles the event-ordered observations inside consecutive blocks of at
// most horizon observations, so no observation arrives after horizon newer ones.
func shuffleWithinLateness(r *rand.Rand, sorted []*marketv1.ProductObserved, horizon int) []*marketv1.ProductObserved {
	s := slices.Clone(sorted)
	for i := 0; i < len(s); {
		n := min(1+r.IntN(horizon), len(s)-i)
		block := s[i : i+n]
		r.Shuffle(len(block), func(a, b int) { block[a], block[b] = block[b], block[a] })
		i += n
	}
	return s
}

// deliverTwice returns seq with a second delivery of every observation at a random place after
// its first one.
func deliverTwice(r *rand.Rand, seq []*marketv1.ProductObserved) []*marketv1.ProductObserved {
	type slot struct {
		key float64
		o   *marketv1.ProductObserved
	}
	slots := make([]slot, 0, 2*len(seq))
	for i, o := range seq {
		slots = append(slots, slot{float64(i), o})
		again := proto.Clone(o).(*marketv1.ProductObserved) // a redelivery is decoded anew
		slots = append(slots, slot{float64(i) + 0.5 + r.Float64()*float64(len(seq)-i), again})
	}
	slices.SortStableFunc(slots, func(a, b slot) int { return cmp.Compare(a.key, b.key) })
	out := make([]*marketv1.ProductObserved, len(slots))
	for i, s := range slots {
		out[i] = s.o
	}
	return out
}

// latestOnly keeps the parts of a state that must not depend on arrival order at all.
func latestOnly(st *marketv1.ProductState) *marketv1.ProductState {
	return &marketv1.ProductState{
		Asin:            st.GetAsin(),
		Marketplace:     st.GetMarketplace(),
		Latest:          st.GetLatest(),
		FieldTimeUnixMs: st.GetFieldTimeUnixMs(),
		FieldEventId:    st.GetFieldEventId(),
		FirstSeen:       st.GetFirstSeen(),
		LastSeen:        st.GetLastSeen(),
	}
}

// propertyConfigs are the configurations the properties run with: the default, and one with
// tiny bounds so that every eviction path runs.
func propertyConfigs() map[string]Config {
	small := DefaultConfig()
	small.PriceHistory, small.DailyPrices, small.SeriesHistory, small.RecentEvents = 5, 3, 4, 8
	small.SeriesBucket, small.MinSeriesSpan = time.Hour, time.Minute
	return map[string]Config{"default": DefaultConfig(), "small bounds": small}
}

func mustApplyAll(t *testing.T, cfg Config, obs []*marketv1.ProductObserved) (*marketv1.ProductState, []*marketv1.ProductStateChanged) {
	t.Helper()
	st, changes, err := applyAll(cfg, obs...)
	if err != nil {
		t.Fatal(err)
	}
	return st, changes
}

// TestPropertyAnyOrderSameLatest: any order of the same observations, each delivered twice,
// gives the same latest values, field times and first/last seen as applying them once in
// event order.
func TestPropertyAnyOrderSameLatest(t *testing.T) {
	for name, cfg := range propertyConfigs() {
		t.Run(name, func(t *testing.T) {
			for trial := range *propertyTrials {
				seed := *propertySeed + uint64(trial)
				r := rand.New(rand.NewPCG(seed, 1))
				obs := genObservations(r, 1+r.IntN(200))
				want, _ := mustApplyAll(t, cfg, byEventOrder(obs))

				seq := deliverTwice(r, obs)
				r.Shuffle(len(seq), func(a, b int) { seq[a], seq[b] = seq[b], seq[a] })
				got, _ := mustApplyAll(t, cfg, seq)
				if diff := cmpDiff(latestOnly(want), latestOnly(got)); diff != "" {
					t.Fatalf("seed %d (-products.seed=%d -products.trials=1): latest values depend on the order (-event order +shuffled):\n%s", seed, seed, diff)
				}
			}
		})
	}
}

// TestPropertyShuffledWithinLatenessSameState: shuffles within the recent-events horizon, with
// every observation delivered twice, give exactly the state of applying each once in event
// order — histories, statistics, count and version included.
func TestPropertyShuffledWithinLatenessSameState(t *testing.T) {
	for name, cfg := range propertyConfigs() {
		t.Run(name, func(t *testing.T) {
			for trial := range *propertyTrials {
				seed := *propertySeed + uint64(trial)
				r := rand.New(rand.NewPCG(seed, 2))
				sorted := byEventOrder(genObservations(r, 1+r.IntN(300)))
				want, _ := mustApplyAll(t, cfg, sorted)
				if want.GetObservationCount() != int64(len(sorted)) || want.GetVersion() != int64(len(sorted)) {
					t.Fatalf("seed %d: in event order, count %d version %d, want %d", seed, want.GetObservationCount(), want.GetVersion(), len(sorted))
				}

				got, _ := mustApplyAll(t, cfg, deliverTwice(r, shuffleWithinLateness(r, sorted, cfg.RecentEvents)))
				if diff := cmpDiff(want, got); diff != "" {
					t.Fatalf("seed %d (-products.seed=%d -products.trials=1): state depends on the order (-event order +shuffled):\n%s", seed, seed, diff)
				}
			}
		})
	}
}

// TestPropertyDuplicatesChangeNothing: redelivering any observation already applied, however
// long ago, leaves the state as it is and emits nothing.
func TestPropertyDuplicatesChangeNothing(t *testing.T) {
	for name, cfg := range propertyConfigs() {
		t.Run(name, func(t *testing.T) {
			for trial := range *propertyTrials {
				seed := *propertySeed + uint64(trial)
				r := rand.New(rand.NewPCG(seed, 3))
				obs := genObservations(r, 1+r.IntN(200))
				r.Shuffle(len(obs), func(a, b int) { obs[a], obs[b] = obs[b], obs[a] })
				st, _ := mustApplyAll(t, cfg, obs)
				before, err := stateCodec{}.Encode(st)
				if err != nil {
					t.Fatal(err)
				}
				for _, i := range r.Perm(len(obs)) {
					res, err := Apply(cfg, st, proto.Clone(obs[i]).(*marketv1.ProductObserved))
					if err != nil {
						t.Fatal(err)
					}
					if res.Changed || res.Change != nil {
						t.Fatalf("seed %d: redelivery of observation %d changed the state or emitted", seed, i)
					}
					st = res.State
				}
				after, err := stateCodec{}.Encode(st)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(before, after) {
					t.Fatalf("seed %d: redeliveries changed the state", seed)
				}
			}
		})
	}
}

// TestPropertyReplayEmitsSameEvents: replaying the same sequence from an empty state emits the
// same change events, ids included.
func TestPropertyReplayEmitsSameEvents(t *testing.T) {
	cfg := DefaultConfig()
	for trial := range *propertyTrials / 10 {
		seed := *propertySeed + uint64(trial)
		r := rand.New(rand.NewPCG(seed, 4))
		obs := deliverTwice(r, genObservations(r, 1+r.IntN(200)))
		_, first := mustApplyAll(t, cfg, obs)
		_, again := mustApplyAll(t, cfg, obs)
		if len(first) != len(again) {
			t.Fatalf("seed %d: replay emitted %d events, first run %d", seed, len(again), len(first))
		}
		for i := range first {
			if diff := cmpDiff(first[i], again[i]); diff != "" {
				t.Fatalf("seed %d: replay emitted another event %d:\n%s", seed, i, diff)
			}
		}
		ids := map[string]bool{}
		for _, c := range first {
			if ids[c.GetEnvelope().GetEventId()] {
				t.Fatalf("seed %d: change id %s emitted twice", seed, c.GetEnvelope().GetEventId())
			}
			ids[c.GetEnvelope().GetEventId()] = true
		}
	}
}

// cmpDiff returns "" when the messages are equal, else both in text form.
func cmpDiff(want, got proto.Message) string {
	if proto.Equal(want, got) {
		return ""
	}
	o := prototext.MarshalOptions{Multiline: true}
	return "- " + o.Format(want) + "\n+ " + o.Format(got)
}
