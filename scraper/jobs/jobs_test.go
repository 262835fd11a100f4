package jobs

import (
	"fmt"
	"strings"
	"testing"
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

func TestPickerShares(t *testing.T) {
	cases := []struct {
		name     string
		w        Weights
		nonEmpty [NumQueues]bool
		picks    int
		want     [NumQueues]int
	}{
		{"all busy 6:3:1", Weights{6, 3, 1}, [3]bool{true, true, true}, 100, [3]int{60, 30, 10}},
		{"high and low only", Weights{6, 3, 1}, [3]bool{true, false, true}, 70, [3]int{60, 0, 10}},
		{"low alone", Weights{6, 3, 1}, [3]bool{false, false, true}, 5, [3]int{0, 0, 5}},
		{"normal zero weight still served alone", Weights{1, 0, 1}, [3]bool{false, true, false}, 3, [3]int{0, 3, 0}},
		{"equal", Weights{1, 1, 1}, [3]bool{true, true, true}, 30, [3]int{10, 10, 10}},
		{"nothing", Weights{6, 3, 1}, [3]bool{}, 4, [3]int{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPicker(tc.w)
			var got [NumQueues]int
			for range tc.picks {
				if q, ok := p.Pick(tc.nonEmpty); ok {
					got[q]++
				}
			}
			if got != tc.want {
				t.Fatalf("served %v, want %v", got, tc.want)
			}
		})
	}
}

// TestLowNotStarved keeps the high queue full for ever: low is still served within every window
// of 10 picks (6:3:1), and the first pick goes to high.
func TestLowNotStarved(t *testing.T) {
	p := NewPicker(DefaultWeights)
	queue := [NumQueues]int{1 << 30, 1 << 30, 20}
	var order []Queue
	for len(order) < 1000 {
		q, ok := p.Pick([NumQueues]bool{queue[High] > 0, queue[Normal] > 0, queue[Low] > 0})
		if !ok {
			break
		}
		queue[q]--
		order = append(order, q)
	}
	if order[0] != High {
		t.Fatalf("first pick %v, want high", order[0])
	}
	lows, last := 0, -1
	for i, q := range order {
		if q != Low {
			continue
		}
		lows++
		if i-last > 10 {
			t.Fatalf("low waited %d picks (from %d to %d), want at most 10", i-last, last, i)
		}
		last = i
	}
	if lows != 20 {
		t.Fatalf("low served %d times in %d picks, want all 20 of its jobs", lows, len(order))
	}
}

func TestWeightsParse(t *testing.T) {
	cases := []struct {
		in      string
		want    Weights
		wantErr string
	}{
		{"6:3:1", Weights{6, 3, 1}, ""},
		{"1:0:1", Weights{1, 0, 1}, ""},
		{"6:3:0", Weights{}, "zero starves"},
		{"0:1:1", Weights{}, "zero starves"},
		{"6:3", Weights{}, "want high:normal:low"},
		{"6:-1:1", Weights{}, "want 0-1000"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			w, err := ParseWeights(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || w != tc.want || w.String() != tc.in {
				t.Fatalf("got %v %v", w, err)
			}
		})
	}
}

func TestQueues(t *testing.T) {
	for _, tc := range []struct {
		p    marketv1.Priority
		want Queue
	}{
		{marketv1.Priority_PRIORITY_HIGH, High}, {marketv1.Priority_PRIORITY_NORMAL, Normal},
		{marketv1.Priority_PRIORITY_LOW, Low}, {marketv1.Priority_PRIORITY_UNSPECIFIED, Normal},
	} {
		if got := QueueOf(tc.p); got != tc.want {
			t.Errorf("QueueOf(%v) = %v, want %v", tc.p, got, tc.want)
		}
		if q, err := ParseQueue(tc.want.String()); err != nil || q != tc.want || (tc.p != 0 && q.Priority() != tc.p) {
			t.Errorf("round trip of %v: %v %v", tc.want, q, err)
		}
	}
	if _, err := ParseQueue("urgent"); err == nil {
		t.Error("ParseQueue(urgent) accepted")
	}
}

func TestResolveSite(t *testing.T) {
	cases := []struct {
		mp, override       string
		wantSearch, wantDP string
		wantMP, wantErr    string
	}{
		{"amazon.com", "", "https://www.amazon.com/s?k=usb+c+hub", "https://www.amazon.com/dp/B0TEST0001", "amazon.com", ""},
		{"www.Amazon.de", "", "https://www.amazon.de/s?k=usb+c+hub", "https://www.amazon.de/dp/B0TEST0001", "amazon.de", ""},
		{"", "", "https://www.amazon.com/s?k=usb+c+hub", "https://www.amazon.com/dp/B0TEST0001", "amazon.com", ""},
		{"amazon.de", "http://127.0.0.1:18080/", "http://127.0.0.1:18080/s?k=usb+c+hub&mp=amazon.de", "http://127.0.0.1:18080/dp/B0TEST0001?mp=amazon.de", "amazon.de", ""},
		{"http://10.0.0.7:8080/shop/", "", "http://10.0.0.7:8080/shop/s?k=usb+c+hub", "http://10.0.0.7:8080/shop/dp/B0TEST0001", "", ""},
		{"file:///etc/passwd", "", "", "", "", "not a domain"},
		{"localhost", "", "", "", "", "want a domain"},
		{"amazon.com/evil", "", "", "", "", "want a domain"},
	}
	for _, tc := range cases {
		t.Run(tc.mp, func(t *testing.T) {
			s, err := ResolveSite(tc.mp, tc.override)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.SearchURL("  USB-C   hub ", 1); got != strings.Replace(tc.wantSearch, "usb+c", "usb-c", 1) {
				t.Errorf("search URL %s, want %s", got, tc.wantSearch)
			}
			if got := s.ProductURL("B0TEST0001"); got != tc.wantDP {
				t.Errorf("product URL %s, want %s", got, tc.wantDP)
			}
			if s.Marketplace != tc.wantMP {
				t.Errorf("marketplace %q, want %q", s.Marketplace, tc.wantMP)
			}
		})
	}
	s, _ := ResolveSite("amazon.com", "")
	if got := s.SearchURL("hub", 3); got != "https://www.amazon.com/s?k=hub&page=3" {
		t.Errorf("page 3: %s", got)
	}
}

func ptr[T any](v T) *T { return &v }

func TestFingerprint(t *testing.T) {
	base := func() *marketv1.ProductAttributes {
		return &marketv1.ProductAttributes{Title: ptr("Charger"), Price: &marketv1.Money{AmountMinor: 2999, Currency: "USD"},
			Rating: ptr(4.5), ReviewCount: ptr(int64(100)), Prime: ptr(true)}
	}
	fp := Fingerprint(base())
	cases := []struct {
		name   string
		change func(a *marketv1.ProductAttributes)
		same   bool
	}{
		{"identical", func(*marketv1.ProductAttributes) {}, true},
		{"image differs", func(a *marketv1.ProductAttributes) { a.ImageUrl = ptr("x") }, true},
		{"price", func(a *marketv1.ProductAttributes) { a.Price.AmountMinor = 2899 }, false},
		{"price absent", func(a *marketv1.ProductAttributes) { a.Price = nil }, false},
		{"currency", func(a *marketv1.ProductAttributes) { a.Price.Currency = "EUR" }, false},
		{"reviews", func(a *marketv1.ProductAttributes) { a.ReviewCount = ptr(int64(101)) }, false},
		{"rating absent", func(a *marketv1.ProductAttributes) { a.Rating = nil }, false},
		{"prime false", func(a *marketv1.ProductAttributes) { a.Prime = ptr(false) }, false},
		{"prime absent", func(a *marketv1.ProductAttributes) { a.Prime = nil }, false},
		{"bought", func(a *marketv1.ProductAttributes) { a.BoughtPastMonth = ptr(int64(1000)) }, false},
		{"out of stock", func(a *marketv1.ProductAttributes) { a.Availability = marketv1.Availability_AVAILABILITY_OUT_OF_STOCK }, false},
		{"title", func(a *marketv1.ProductAttributes) { a.Title = ptr("Charger 2") }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := base()
			tc.change(a)
			if got := Fingerprint(a) == fp; got != tc.same {
				t.Fatalf("same fingerprint: %v, want %v", got, tc.same)
			}
		})
	}
}

func TestSelectProducts(t *testing.T) {
	seen := NewFingerprints(3)
	seen.Put("amazon.com", "A", 1)
	seen.Put("amazon.com", "B", 2)
	seen.Put("amazon.de", "C", 3)
	cards := []Card{{"A", 1}, {"B", 9}, {"C", 3}, {"A", 1}, {"D", 4}, {"", 5}, {"D", 4}, {"E", 5}}
	cases := []struct {
		name  string
		mp    string
		seen  *Fingerprints
		limit int
		want  []string
	}{
		{"new and changed in card order", "amazon.com", seen, 10, []string{"B", "C", "D", "E"}},
		{"bounded", "amazon.com", seen, 2, []string{"B", "C"}},
		{"other marketplace", "amazon.de", seen, 10, []string{"A", "B", "D", "E"}},
		{"no memory", "amazon.com", nil, 10, []string{"A", "B", "C", "D", "E"}},
		{"limit zero", "amazon.com", seen, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := SelectProducts(tc.mp, cards, tc.seen, tc.limit); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFingerprintsEvictLeastRecent(t *testing.T) {
	f := NewFingerprints(2)
	f.Put("m", "A", 1)
	f.Put("m", "B", 2)
	f.Put("m", "A", 3) // A is now the most recent
	f.Put("m", "C", 4) // evicts B
	if _, ok := f.Get("m", "B"); ok || f.Len() != 2 {
		t.Fatalf("B kept, len %d", f.Len())
	}
	if fp, ok := f.Get("m", "A"); !ok || fp != 3 {
		t.Fatalf("A = %d %v, want 3", fp, ok)
	}
}

func TestDecide(t *testing.T) {
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	p := Policy{MaxAttempts: 4, BaseBackoff: time.Second, MaxBackoff: 5 * time.Second, UnavailableDelay: 30 * time.Second}
	const (
		retrying = marketv1.ScrapeStatus_SCRAPE_STATUS_RETRYING
		failed   = marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED
		blocked  = marketv1.ScrapeStatus_SCRAPE_STATUS_BLOCKED
	)
	cases := []struct {
		name     string
		p        Policy
		attempt  int
		class    Class
		jitter   float64
		deadline time.Time
		want     Decision
	}{
		{"first transient, no jitter", p, 1, Transient, 0, time.Time{}, Decision{Retry: true, Delay: 500 * time.Millisecond, Status: retrying}},
		{"first transient, full jitter", p, 1, Transient, 0.999999999, time.Time{}, Decision{Retry: true, Delay: time.Second - 1, Status: retrying}},
		{"third doubles twice", p, 3, Transient, 1, time.Time{}, Decision{Retry: true, Delay: 4 * time.Second, Status: retrying}},
		{"capped", Policy{MaxAttempts: 10, BaseBackoff: time.Second, MaxBackoff: 5 * time.Second}, 8, Transient, 1, time.Time{}, Decision{Retry: true, Delay: 5 * time.Second, Status: retrying}},
		{"last attempt dead-letters", p, 4, Transient, 0.5, time.Time{}, Decision{Status: failed, DeadLetter: true}},
		{"permanent at once", p, 1, Permanent, 0.5, time.Time{}, Decision{Status: failed, DeadLetter: true}},
		{"blocked not retried by default", p, 1, Blocked, 0.5, time.Time{}, Decision{Status: blocked}},
		{"blocked retried slowly when asked", Policy{MaxAttempts: 3, BaseBackoff: time.Second, MaxBackoff: 5 * time.Second, BlockedBackoff: 10 * time.Minute}, 1, Blocked, 1, time.Time{}, Decision{Retry: true, Delay: 10 * time.Minute, Status: retrying}},
		{"blocked last attempt", Policy{MaxAttempts: 2, BlockedBackoff: time.Minute}, 2, Blocked, 0, time.Time{}, Decision{Status: blocked}},
		{"breaker open waits for the breaker", p, 1, Unavailable, 0, time.Time{}, Decision{Retry: true, Delay: 30 * time.Second, Status: retrying}},
		{"retry past the deadline", p, 1, Transient, 1, now.Add(time.Second / 2), Decision{Status: failed, DeadLetter: true}},
		{"retry before the deadline", p, 1, Transient, 1, now.Add(2 * time.Second), Decision{Retry: true, Delay: time.Second, Status: retrying}},
		{"defaults", Policy{}, 1, Transient, 1, time.Time{}, Decision{Retry: true, Delay: 5 * time.Second, Status: retrying}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.Decide(tc.attempt, tc.class, tc.jitter, now, tc.deadline)
			if got.Why == "" {
				t.Error("no reason given")
			}
			got.Why = ""
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestScheduleSlots(t *testing.T) {
	s := Schedule{Every: 15 * time.Minute, Jitter: 15 * time.Minute}
	now := time.Date(2026, 8, 1, 12, 7, 0, 0, time.UTC)
	kws := []string{"portable charger", "usb c hub", "yoga mat", "coffee grinder", "desk lamp", "dog bed"}
	offsets := map[time.Duration]bool{}
	for _, kw := range kws {
		slot := s.Slot("amazon.com", kw, now)
		off := s.Offset("amazon.com", kw)
		offsets[off] = true
		if off < 0 || off >= s.Jitter {
			t.Errorf("%s: offset %v outside [0, %v)", kw, off, s.Jitter)
		}
		if slot.After(now) || !now.Before(slot.Add(s.Every)) {
			t.Errorf("%s: slot %v does not contain %v", kw, slot, now)
		}
		if got := s.Slot("amazon.com", kw, slot); !got.Equal(slot) {
			t.Errorf("%s: slot of the slot's start is %v, want %v", kw, got, slot)
		}
		if got := s.Slot("amazon.com", kw, slot.Add(-time.Nanosecond)); !got.Equal(slot.Add(-s.Every)) {
			t.Errorf("%s: slot just before the start is %v, want the previous one", kw, got)
		}
		if got := s.Next("amazon.com", kw, now); !got.Equal(slot.Add(s.Every)) {
			t.Errorf("%s: next %v", kw, got)
		}
		if s.Offset("amazon.com", "  "+strings.ToUpper(kw)) != off {
			t.Errorf("%s: offset depends on case or spacing", kw)
		}
		id := ScheduledJobID("amazon.com", kw, 3, slot)
		if id != ScheduledJobID("amazon.com", strings.ToUpper(kw), 3, slot.In(time.FixedZone("x", 3600))) {
			t.Errorf("%s: job id not deterministic", kw)
		}
		for _, other := range []string{ScheduledJobID("amazon.de", kw, 3, slot), ScheduledJobID("amazon.com", kw, 2, slot),
			ScheduledJobID("amazon.com", kw, 3, slot.Add(s.Every))} {
			if other == id {
				t.Errorf("%s: distinct jobs share id %s", kw, id)
			}
		}
	}
	if len(offsets) < len(kws)-1 {
		t.Errorf("offsets %v: keywords are not spread", offsets)
	}
	if (Schedule{Every: time.Minute}).Offset("m", "k") != 0 {
		t.Error("offset without jitter")
	}
	before := time.Unix(-1, 0)
	if got := (Schedule{Every: time.Minute}).Slot("m", "k", before); !got.Equal(time.Unix(-60, 0).UTC()) {
		t.Errorf("slot before 1970: %v", got)
	}
	if (Schedule{}).Validate() == nil || (Schedule{Every: time.Minute, Jitter: -1}).Validate() == nil {
		t.Error("bad schedules accepted")
	}
}

func TestEventIDs(t *testing.T) {
	a := EventID("job", 1, "search", "url", "2")
	for _, other := range []string{EventID("job", 2, "search", "url", "2"), EventID("job", 1, "product", "url", "2"),
		EventID("job", 1, "search", "url2"), EventID("job2", 1, "search", "url", "2"), EventID("job", 1, "search", "ur", "l2")} {
		if other == a {
			t.Fatalf("distinct events share id %s", a)
		}
	}
	if a != EventID("job", 1, "search", "url", "2") {
		t.Fatal("not deterministic")
	}
}

func TestTerminal(t *testing.T) {
	for s := range marketv1.ScrapeStatus_name {
		st := marketv1.ScrapeStatus(s)
		want := st >= marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED && st != marketv1.ScrapeStatus_SCRAPE_STATUS_RETRYING
		if Terminal(st) != want {
			t.Errorf("Terminal(%v) = %v", st, !want)
		}
	}
}
