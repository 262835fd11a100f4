package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

func bottle() *marketv1.ProductAttributes {
	return &marketv1.ProductAttributes{
		Title: proto.String("Steel Bottle"), Brand: proto.String("Acme"),
		Price:  &marketv1.Money{AmountMinor: 1999, Currency: "USD"},
		Rating: proto.Float64(4.5), ReviewCount: proto.Int64(120), BoughtPastMonth: proto.Int64(200),
		Ranks: []*marketv1.BestSellersRank{{Rank: 1500, Category: "Sports & Outdoors"}},
		Prime: proto.Bool(true), Availability: marketv1.Availability_AVAILABILITY_IN_STOCK,
	}
}

func TestProductSink(t *testing.T) {
	r := newRig(t, Options{})
	msgs := subscribe(t, r.env.Client, r.ks.Channel())
	v2 := productChange(2, "B01", 2, time.Minute, bottle())
	v2.PriceEwma = proto.Float64(2010.5)
	r.write(t, v2)
	want := map[string]string{
		"asin": "B01", "marketplace": "amazon.com", "title": "Steel Bottle", "brand": "Acme",
		"price_minor": "1999", "currency": "USD", "rating": "4.5", "review_count": "120", "bought_past_month": "200",
		"rank": "1500", "rank_category": "Sports & Outdoors", "ranks": `[{"rank":1500,"category":"Sports & Outdoors"}]`,
		"prime": "1", "availability": "in_stock",
		// The badge 200+ is the bucket [200, 300): its geometric mean.
		"sales_units": num(math.Sqrt(200 * 300)), "sales_low": "200", "sales_high": "300", "sales_method": "bought_past_month",
		"version": "2", "observation_count": "2", "price_ewma": "2010.5",
		"updated_at": fmt.Sprint(ms(time.Minute)), "event_id": eventID(2),
	}
	if got := r.hash(t, "p:B01"); !reflect.DeepEqual(got, want) {
		t.Fatalf("p:B01 after v2:\n got %v\nwant %v", got, want)
	}
	if got := msgs.drain(t); !slices.Equal(got, []string{fmt.Sprintf(`{"kind":"product","asin":"B01","version":2,"time":%d}`, ms(time.Minute))}) {
		t.Fatalf("messages after v2: %q", got)
	}
	ttl, err := r.env.Client.PTTL(context.Background(), r.gen(t)+"p:B01").Result()
	if err != nil || ttl < 29*24*time.Hour || ttl > 30*24*time.Hour {
		t.Errorf("TTL of p:B01: %v, %v; want 30 days", ttl, err)
	}
	sum := r.checksum(t)

	// An older version, and the same version again, change nothing and publish nothing.
	older := productChange(1, "B01", 1, 2*time.Minute, &marketv1.ProductAttributes{Title: proto.String("Old")})
	r.write(t, older, v2, v2)
	if got := r.checksum(t); got != sum {
		t.Errorf("an older or repeated version changed the keys")
	}
	if got := msgs.drain(t); len(got) != 0 {
		t.Errorf("messages for changes not applied: %q", got)
	}

	// A newer version replaces the hash: an attribute absent from it is absent from the hash.
	v3 := productChange(3, "B01", 3, 3*time.Minute, &marketv1.ProductAttributes{Title: proto.String("Steel Bottle 2")})
	r.write(t, v3)
	want = map[string]string{"asin": "B01", "marketplace": "amazon.com", "title": "Steel Bottle 2", "version": "3",
		"observation_count": "3", "updated_at": fmt.Sprint(ms(3 * time.Minute)), "event_id": eventID(3)}
	if got := r.hash(t, "p:B01"); !reflect.DeepEqual(got, want) {
		t.Fatalf("p:B01 after v3:\n got %v\nwant %v", got, want)
	}
	if got := msgs.drain(t); len(got) != 1 {
		t.Errorf("messages after v3: %q, want one", got)
	}
}

func TestKeywordSink(t *testing.T) {
	r := newRig(t, Options{KeywordRetention: 24 * time.Hour})
	msgs := subscribe(t, r.env.Client, r.ks.Channel())
	kw := "water bottle"
	a1 := bottle()
	a2 := &marketv1.ProductAttributes{Price: &marketv1.Money{AmountMinor: 999, Currency: "USD"},
		Ranks: []*marketv1.BestSellersRank{{Rank: 5000, Category: "Sports & Outdoors"}}}
	p1 := searchPage(1, kw, 1, 0,
		listingOf("A1", 1, a1), listingOf("A2", 2, a2), listingOf("A3", 3, nil),
		listingOf("A1", 5, &marketv1.ProductAttributes{Price: &marketv1.Money{AmountMinor: 1, Currency: "USD"}}), // organic duplicate: the better position wins
		listingOf("", 4, a2)) // no ASIN: skipped
	p1.Listings[0].Sponsored = proto.Bool(true)
	p2 := searchPage(2, kw, 2, 0, listingOf("A4", 1, nil))
	r.write(t, p1, p2)

	// Sports & Outdoors: 250,000 * rank^-0.82 (analytics/market's law for the category).
	a2Sales := 250_000 * math.Pow(5000, -0.82)
	checkZ := func(suffix, want string) {
		t.Helper()
		if got := join(r.zset(t, KeywordKey(kw, suffix))); got != want {
			t.Errorf("%s: got %s, want %s", suffix, got, want)
		}
	}
	checkZ(SuffixByPosition, "A1=1 A2=2 A3=3 A4=49")
	checkZ(SuffixByPrice, "A2=999 A1=1999")
	checkZ(SuffixByRating, "A1=4.5")
	checkZ(SuffixByReviews, "A1=120")
	checkZ(SuffixBySales, fmt.Sprintf("A2=%s A1=%s", num(a2Sales), num(math.Sqrt(200*300))))
	checkZ(SuffixLast, fmt.Sprintf("A1=%d A2=%d A3=%d A4=%d", ms(0), ms(0), ms(0), ms(0)))
	rows := r.hash(t, KeywordKey(kw, SuffixRows))
	wantRows := map[string]string{
		"A1": fmt.Sprintf(`{"asin":"A1","position":1,"page":1,"sponsored":true,"title":"Steel Bottle","brand":"Acme","price_minor":1999,"currency":"USD","rating":4.5,"review_count":120,"bought_past_month":200,"rank":1500,"rank_category":"Sports & Outdoors","prime":true,"availability":"in_stock","sales":{"units":%s,"low":200,"high":300,"method":"bought_past_month"},"time":%d,"event_id":"%s"}`,
			num(math.Sqrt(200*300)), ms(0), eventID(1)),
		"A2": fmt.Sprintf(`{"asin":"A2","position":2,"page":1,"price_minor":999,"currency":"USD","rank":5000,"rank_category":"Sports & Outdoors","sales":{"units":%s,"low":%s,"high":%s,"method":"rank_power_law"},"time":%d,"event_id":"%s"}`,
			num(a2Sales), num(a2Sales/2), num(a2Sales*2), ms(0), eventID(1)),
		"A3": fmt.Sprintf(`{"asin":"A3","position":3,"page":1,"time":%d,"event_id":"%s"}`, ms(0), eventID(1)),
		"A4": fmt.Sprintf(`{"asin":"A4","position":49,"page":2,"time":%d,"event_id":"%s"}`, ms(0), eventID(2)),
	}
	for _, asin := range sortedKeys(wantRows) {
		if !jsonEqual(rows[asin], wantRows[asin]) {
			t.Errorf("row %s:\n got %s\nwant %s", asin, rows[asin], wantRows[asin])
		}
	}
	if len(rows) != len(wantRows) {
		t.Errorf("rows: %v", sortedKeys(rows))
	}
	if got := msgs.drain(t); len(got) != 2 || got[0] != fmt.Sprintf(`{"kind":"keyword","keyword":"water bottle","time":%d}`, ms(0)) {
		t.Errorf("messages: %q", got)
	}
	sum := r.checksum(t)

	// The same pages again, and an older page, change nothing.
	older := searchPage(3, kw, 1, -time.Minute, listingOf("A1", 9, &marketv1.ProductAttributes{Price: &marketv1.Money{AmountMinor: 5, Currency: "USD"}}))
	r.write(t, p1, p2, older)
	if r.checksum(t) != sum {
		t.Error("repeated or older pages changed the keys")
	}
	if got := msgs.drain(t); len(got) != 0 {
		t.Errorf("messages for pages not applied: %q", got)
	}

	// A newer page moves A1 and drops its rating: it leaves the rating set.
	r.write(t, searchPage(4, kw, 1, time.Hour, listingOf("A1", 4, &marketv1.ProductAttributes{Price: &marketv1.Money{AmountMinor: 1899, Currency: "USD"}})))
	checkZ(SuffixByPosition, "A2=2 A3=3 A1=4 A4=49")
	checkZ(SuffixByPrice, "A2=999 A1=1899")
	checkZ(SuffixByRating, "")
	checkZ(SuffixBySales, fmt.Sprintf("A2=%s", num(a2Sales)))

	// 25 hours after the first pages, what was not listed since leaves every key of the keyword.
	r.write(t, searchPage(5, kw, 1, 25*time.Hour, listingOf("A5", 1, nil)))
	checkZ(SuffixByPosition, "A5=1 A1=4")
	checkZ(SuffixByPrice, "A1=1899")
	checkZ(SuffixLast, fmt.Sprintf("A1=%d A5=%d", ms(time.Hour), ms(25*time.Hour)))
	if got := sortedKeys(r.hash(t, KeywordKey(kw, SuffixRows))); !slices.Equal(got, []string{"A1", "A5"}) {
		t.Errorf("rows after the retention: %v", got)
	}
	if got := sortedKeys(r.hash(t, KeywordKey(kw, SuffixSeen))); !slices.Equal(got, []string{"A1", "A5"}) {
		t.Errorf("seen after the retention: %v", got)
	}
	// A page older than the retention allows changes nothing.
	sum = r.checksum(t)
	r.write(t, searchPage(6, kw, 1, 30*time.Minute, listingOf("A9", 1, nil)))
	if r.checksum(t) != sum {
		t.Error("a page older than newest - retention changed the keys")
	}
	ttl, err := r.env.Client.PTTL(context.Background(), r.gen(t)+KeywordKey(kw, SuffixRows)).Result()
	if err != nil || ttl < 6*24*time.Hour || ttl > 7*24*time.Hour {
		t.Errorf("TTL of the rows: %v, %v; want 7 days", ttl, err)
	}
}

func jsonEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func TestWindowSink(t *testing.T) {
	r := newRig(t, Options{})
	msgs := subscribe(t, r.env.Client, r.ks.Channel())
	kw := "water bottle"
	tum := marketv1.WindowKind_WINDOW_KIND_TUMBLING
	key := WindowKey(kw, tum, 3600)
	if key != "k:water bottle:win:tumbling:1h" {
		t.Fatalf("key %q", key)
	}
	steps := []struct {
		ev      *marketv1.KeywordWindowUpdated
		applied bool
		version string
		end     time.Duration
	}{
		{windowUpdate(1, kw, tum, time.Hour, time.Hour, 2), true, "2", time.Hour},
		{windowUpdate(2, kw, tum, time.Hour, time.Hour, 1), false, "2", time.Hour},      // older version
		{windowUpdate(1, kw, tum, time.Hour, time.Hour, 2), false, "2", time.Hour},      // redelivered
		{windowUpdate(3, kw, tum, time.Hour, time.Hour, 5), true, "5", time.Hour},       // newer version
		{windowUpdate(4, kw, tum, time.Hour, 2*time.Hour, 1), true, "1", 2 * time.Hour}, // later window
		{windowUpdate(5, kw, tum, time.Hour, time.Hour, 9), false, "1", 2 * time.Hour},  // earlier window's final
	}
	for i, s := range steps {
		r.write(t, s.ev)
		h := r.hash(t, key)
		if h["version"] != s.version || h["end_ms"] != fmt.Sprint(ms(s.end)) {
			t.Errorf("step %d: version %s end %s, want %s %d", i, h["version"], h["end_ms"], s.version, ms(s.end))
		}
		if got := msgs.drain(t); (len(got) == 1) != s.applied {
			t.Errorf("step %d: messages %q, applied %v", i, got, s.applied)
		}
	}
	want := map[string]string{
		"keyword": kw, "marketplace": "amazon.com", "series": "tumbling:1h", "size_seconds": "3600", "step_seconds": "3600",
		"start_ms": fmt.Sprint(ms(time.Hour)), "end_ms": fmt.Sprint(ms(2 * time.Hour)), "version": "1", "final": "0",
		"pages_observed": "1", "stats": `{"competitor_count":1,"currency":"USD","price_min_minor":"999"}`,
		"updated_at": fmt.Sprint(ms(2 * time.Hour)), "event_id": eventID(4),
	}
	if got := r.hash(t, key); !reflect.DeepEqual(got, want) {
		t.Errorf("window hash:\n got %v\nwant %v", got, want)
	}
	// Other series have their own key.
	r.write(t, windowUpdate(6, kw, marketv1.WindowKind_WINDOW_KIND_SLIDING, 24*time.Hour, time.Hour, 1))
	if h := r.hash(t, "k:water bottle:win:sliding:1d"); h["version"] != "1" {
		t.Errorf("sliding 24h window: %v", h)
	}
}

func TestAnomalySink(t *testing.T) {
	r := newRig(t, Options{AnomalyCap: 3})
	msgs := subscribe(t, r.env.Client, r.ks.Channel())
	var evs []*marketv1.AnomalyDetected
	for i := 1; i <= 5; i++ {
		kw := ""
		if i%2 == 1 {
			kw = "water bottle"
		}
		evs = append(evs, anomalyOf(i, fmt.Sprintf("a%d", i), kw, time.Duration(i)*time.Minute))
	}
	for _, ev := range evs {
		r.write(t, ev)
	}
	if got := len(msgs.drain(t)); got != 5 {
		t.Errorf("%d messages for 5 new anomalies", got)
	}
	check := func(stage string) {
		t.Helper()
		if got, want := join(r.zset(t, AnomalyFeedKey)), fmt.Sprintf("a3=%d a4=%d a5=%d", ms(3*time.Minute), ms(4*time.Minute), ms(5*time.Minute)); got != want {
			t.Errorf("%s: global feed %s, want %s", stage, got, want)
		}
		if got := sortedKeys(r.hash(t, AnomalyDataKey)); !slices.Equal(got, []string{"a3", "a4", "a5"}) {
			t.Errorf("%s: global data of %v", stage, got)
		}
		kw := "water bottle"
		if got, want := join(r.zset(t, KeywordKey(kw, SuffixAnomalyFeed))), fmt.Sprintf("a1=%d a3=%d a5=%d", ms(time.Minute), ms(3*time.Minute), ms(5*time.Minute)); got != want {
			t.Errorf("%s: keyword feed %s, want %s", stage, got, want)
		}
		if got := sortedKeys(r.hash(t, KeywordKey(kw, SuffixAnomalyData))); !slices.Equal(got, []string{"a1", "a3", "a5"}) {
			t.Errorf("%s: keyword data of %v", stage, got)
		}
	}
	check("after 5")
	data := r.hash(t, AnomalyDataKey)["a5"]
	var parsed map[string]any
	if err := json.Unmarshal([]byte(data), &parsed); err != nil || parsed["anomaly_id"] != "a5" || parsed["kind"] != "ANOMALY_KIND_PRICE_DROP" {
		t.Errorf("a5's data %s (%v)", data, err)
	}
	sum := r.checksum(t)
	// Redelivered: a5 (in both feeds), a4 (global only), a2 (trimmed from the global feed, so
	// re-added and trimmed at once).
	r.write(t, evs[4], evs[3], evs[1])
	check("after redelivery")
	if r.checksum(t) != sum {
		t.Error("redelivered anomalies changed the keys")
	}
	if got := msgs.drain(t); len(got) != 0 {
		t.Errorf("messages for redelivered anomalies: %q", got)
	}
}

func TestGenerations(t *testing.T) {
	r := newRig(t, Options{})
	ctx := context.Background()
	msgs := subscribe(t, r.env.Client, r.ks.Channel())
	g1 := r.gen(t)
	if g1 != r.env.Prefix+"g1:" {
		t.Fatalf("first generation %q", g1)
	}
	r.write(t, productChange(1, "B01", 1, 0, bottle()))
	msgs.drain(t)

	// While a replay builds g2, live writes go to both generations; only g1's are published.
	g2, err := r.ks.Begin(ctx)
	if err != nil || g2 != r.env.Prefix+"g2:" {
		t.Fatalf("Begin: %q, %v", g2, err)
	}
	replay := newRigOn(t, r.env, r.env.Client, r.env.Prefix, Options{Generation: g2})
	replay.write(t, productChange(1, "B01", 1, 0, bottle()))
	r.write(t, productChange(2, "B02", 1, time.Minute, bottle()))
	if got := msgs.drain(t); len(got) != 1 {
		t.Errorf("messages of a live write during a replay: %q, want one", got)
	}
	sum1, n1, err := Checksum(ctx, r.env.Client, g1)
	if err != nil {
		t.Fatal(err)
	}
	sum2, n2, err := Checksum(ctx, r.env.Client, g2)
	if err != nil {
		t.Fatal(err)
	}
	if sum1 != sum2 || n1 != 2 || n2 != 2 {
		t.Errorf("g1 %s (%d keys) and g2 %s (%d keys) differ", sum1, n1, sum2, n2)
	}
	if _, err := r.ks.DeleteGeneration(ctx, g2); err == nil {
		t.Error("deleted the next generation")
	}

	old, err := r.ks.Switch(ctx, g2)
	if err != nil || old != g1 {
		t.Fatalf("Switch: %q, %v", old, err)
	}
	if got := msgs.drain(t); !slices.Equal(got, []string{fmt.Sprintf(`{"kind":"generation","generation":"%s"}`, g2)}) {
		t.Errorf("switch messages: %q", got)
	}
	if got := r.gen(t); got != g2 {
		t.Errorf("current after the switch: %s", got)
	}
	r.write(t, productChange(3, "B03", 1, time.Minute, bottle()))
	if n, err := r.env.Client.Exists(ctx, g1+"p:B03", g2+"p:B03").Result(); err != nil || n != 1 {
		t.Errorf("after the switch, p:B03 in %d generations (%v)", n, err)
	}
	if _, err := r.ks.DeleteGeneration(ctx, g2); err == nil {
		t.Error("deleted the current generation")
	}
	n, err := r.ks.DeleteGeneration(ctx, old)
	if err != nil || n != 2 {
		t.Errorf("DeleteGeneration(%s): %d keys, %v", old, n, err)
	}
	if gens, err := r.ks.Generations(ctx); err != nil || !slices.Equal(gens, []string{g2}) {
		t.Errorf("generations left: %v, %v", gens, err)
	}
	for _, bad := range []string{"", "other:g1:", r.env.Prefix + "g0:", r.env.Prefix + "g01:", r.env.Prefix + "gx:"} {
		if _, err := r.ks.Switch(ctx, bad); err == nil {
			t.Errorf("Switch(%q) accepted", bad)
		}
	}
}
