package importer

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/parse"
	"github.com/marketinsightspro/marketinsights/topics"
)

// readAll imports input and collects the events.
func readAll(t testing.TB, input string, format Format, opts Options) ([]*marketv1.ProductObserved, Stats, error) {
	t.Helper()
	var evs []*marketv1.ProductObserved
	st, err := Read(strings.NewReader(input), format, opts, func(ev *marketv1.ProductObserved) error {
		evs = append(evs, ev)
		return nil
	})
	return evs, st, err
}

func str(s string) *string   { return &s }
func i64(n int64) *int64     { return &n }
func i32(n int32) *int32     { return &n }
func f64(x float64) *float64 { return &x }
func boolp(b bool) *bool     { return &b }

func usd(minor int64) *marketv1.Money { return &marketv1.Money{AmountMinor: minor, Currency: "USD"} }
func eur(minor int64) *marketv1.Money { return &marketv1.Money{AmountMinor: minor, Currency: "EUR"} }

// stripped returns a copy of ev without its envelope, for comparing content.
func stripped(ev *marketv1.ProductObserved) *marketv1.ProductObserved {
	c := proto.Clone(ev).(*marketv1.ProductObserved)
	c.Envelope = nil
	return c
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRead(t *testing.T) {
	const canonicalHeader = "asin,title,brand,category,price,list_price,currency,rating,review_count,bought_past_month,sales_rank,rank_category,prime,availability,seller_count,image_url,keyword,position,timestamp\n"
	tests := []struct {
		name    string
		input   string
		format  Format
		opts    Options
		want    []*marketv1.ProductObserved
		times   []time.Time
		ignored []string
	}{
		{
			name: "canonical CSV, every column",
			input: canonicalHeader +
				`b0abc12345,"Steel Bottle, 1L",Acme,Water Bottles,$19.99,24.99,USD,4.6,"1,234",1K+,"5,432",Sports & Outdoors,yes,In Stock,7,https://m.media-amazon.com/images/I/x.jpg,Water  Bottle,3,2026-02-01T10:00:00Z` + "\n",
			want: []*marketv1.ProductObserved{{
				Asin: "B0ABC12345", Marketplace: "amazon.com", Keyword: "water bottle", Position: i32(3),
				Source: marketv1.ObservationSource_OBSERVATION_SOURCE_IMPORT,
				Attributes: &marketv1.ProductAttributes{
					Title: str("Steel Bottle, 1L"), Brand: str("Acme"), Category: str("Water Bottles"),
					Price: usd(1999), ListPrice: usd(2499), Rating: f64(4.6), ReviewCount: i64(1234),
					BoughtPastMonth: i64(1000), Ranks: []*marketv1.BestSellersRank{{Rank: 5432, Category: "Sports & Outdoors"}},
					Prime: boolp(true), Availability: marketv1.Availability_AVAILABILITY_IN_STOCK, SellerCount: i32(7),
					ImageUrl: str("https://m.media-amazon.com/images/I/x.jpg"),
				},
			}},
			times: []time.Time{time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)},
		},
		{
			name:  "minimal CSV uses default time, marketplace and its currency",
			input: "ASIN,Price\nB000000001,12.50\n",
			opts:  Options{Marketplace: "www.amazon.de", DefaultTime: t0},
			want: []*marketv1.ProductObserved{{
				Asin: "B000000001", Marketplace: "amazon.de", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_IMPORT,
				Attributes: &marketv1.ProductAttributes{Price: eur(1250)},
			}},
			times: []time.Time{t0},
		},
		{
			name:  "currency option and column, timestamps in several forms",
			input: "asin,price,currency,date\nB000000001,10,,1767225600\nB000000002,11,GBP,1767225600000\nB000000003,12,,2026-01-01 00:00\n",
			opts:  Options{Currency: "eur"},
			want: []*marketv1.ProductObserved{
				{Asin: "B000000001", Marketplace: "amazon.com", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_IMPORT, Attributes: &marketv1.ProductAttributes{Price: eur(1000)}},
				{Asin: "B000000002", Marketplace: "amazon.com", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_IMPORT, Attributes: &marketv1.ProductAttributes{Price: &marketv1.Money{AmountMinor: 1100, Currency: "GBP"}}},
				{Asin: "B000000003", Marketplace: "amazon.com", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_IMPORT, Attributes: &marketv1.ProductAttributes{Price: eur(1200)}},
			},
			times: []time.Time{time.Unix(1767225600, 0), time.Unix(1767225600, 0), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		},
		{
			name: "Keepa export",
			input: "Locale,Image,Title,Sales Rank: Current,Sales Rank: 90 days avg.,Bought in past month,Reviews: Rating,Reviews: Review Count,Buy Box 🚚: Current,Amazon: Current,New: Current,List Price: Current,New Offer Count: Current,\"Count of retrieved live offers: New, FBA\",Categories: Root,Categories: Sub,ASIN,Brand,Last Update,Tracking since\n" +
				`com,71AbcDef.jpg;81Xyz.jpg,"Acme Bottle 32oz, ""Insulated""","12,345","13,000",2000,4.7,"8,912",$ 24.99,$ 25.49,$ 22.00,$ 34.99,14,3,Sports & Outdoors,Water Bottles,B07XYZ1234,Acme,2026-02-10 08:30,2019-05-01 00:00` + "\n" +
				`de,-,Trinkflasche,-,-,-,-,-,-,"19,99 €",-,-,-,-,Sport & Freizeit,-,B07XYZ9999,-,2026-02-10 08:31,-` + "\n",
			ignored: []string{"Sales Rank: 90 days avg.", "Tracking since"},
			want: []*marketv1.ProductObserved{
				{
					Asin: "B07XYZ1234", Marketplace: "amazon.com", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_IMPORT,
					Attributes: &marketv1.ProductAttributes{
						Title: str(`Acme Bottle 32oz, "Insulated"`), Brand: str("Acme"), Category: str("Water Bottles"),
						Price: usd(2499), ListPrice: usd(3499), Rating: f64(4.7), ReviewCount: i64(8912), BoughtPastMonth: i64(2000),
						Ranks:       []*marketv1.BestSellersRank{{Rank: 12345, Category: "Sports & Outdoors"}},
						SellerCount: i32(3), ImageUrl: str("https://m.media-amazon.com/images/I/71AbcDef.jpg"),
					},
				},
				{
					// The Buy Box is empty: the Amazon price is the next alias.
					Asin: "B07XYZ9999", Marketplace: "amazon.de", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_IMPORT,
					Attributes: &marketv1.ProductAttributes{Title: str("Trinkflasche"), Price: eur(1999)},
				},
			},
			times: []time.Time{time.Date(2026, 2, 10, 8, 30, 0, 0, time.UTC), time.Date(2026, 2, 10, 8, 31, 0, 0, time.UTC)},
		},
		{
			name:  "semicolon-separated with BOM and CRLF",
			input: "\ufeffASIN;Title;Price\r\nB000000001;Mug;3,50\r\n",
			opts:  Options{Marketplace: "amazon.fr", DefaultTime: t0},
			want: []*marketv1.ProductObserved{{
				Asin: "B000000001", Marketplace: "amazon.fr", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_IMPORT,
				Attributes: &marketv1.ProductAttributes{Title: str("Mug"), Price: eur(350)},
			}},
			times: []time.Time{t0},
		},
		{
			name:    "flat JSONL with numbers, booleans, nulls and an unknown key",
			input:   "\n" + `{"asin":"B000000001","price":19.99,"rating":4,"review_count":0,"prime":false,"title":null,"sponsored":true,"position":1,"timestamp":"2026-02-01T10:00:00+01:00","extra":"x"}` + "\n\n",
			format:  JSONL,
			ignored: []string{"extra"},
			want: []*marketv1.ProductObserved{{
				Asin: "B000000001", Marketplace: "amazon.com", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_IMPORT,
				Sponsored: boolp(true), Position: i32(1),
				Attributes: &marketv1.ProductAttributes{Price: usd(1999), Rating: f64(4), ReviewCount: i64(0), Prime: boolp(false)},
			}},
			times: []time.Time{time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)},
		},
		{
			name:  "protojson ProductObserved, auto-detected",
			input: `  {"envelope":{"eventId":"x","eventTime":"2026-02-01T10:00:00Z"},"asin":"B000000001","source":"OBSERVATION_SOURCE_PRODUCT_PAGE","attributes":{"title":"Mug","price":{"amountMinor":"350","currency":"EUR"}}}` + "\n",
			want: []*marketv1.ProductObserved{{
				Asin: "B000000001", Marketplace: "amazon.com", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_IMPORT,
				Attributes: &marketv1.ProductAttributes{Title: str("Mug"), Price: eur(350)},
			}},
			times: []time.Time{time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Producer = "import/test"
			evs, st, err := readAll(t, tc.input, tc.format, opts)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(st.Bad) != 0 {
				t.Fatalf("bad rows: %v", st.Bad)
			}
			if st.Rows != len(tc.want) || st.Imported != len(tc.want) || len(evs) != len(tc.want) {
				t.Fatalf("rows %d imported %d events %d, want %d", st.Rows, st.Imported, len(evs), len(tc.want))
			}
			if strings.Join(st.IgnoredColumns, "|") != strings.Join(tc.ignored, "|") {
				t.Errorf("ignored columns %q, want %q", st.IgnoredColumns, tc.ignored)
			}
			for i, ev := range evs {
				if !proto.Equal(stripped(ev), tc.want[i]) {
					t.Errorf("event %d:\n got %v\nwant %v", i, stripped(ev), tc.want[i])
				}
				env := ev.GetEnvelope()
				if err := marketv1.ValidateEnvelope(env); err != nil {
					t.Errorf("event %d: %v", i, err)
				}
				if !env.GetEventTime().AsTime().Equal(tc.times[i]) {
					t.Errorf("event %d: time %v, want %v", i, env.GetEventTime().AsTime(), tc.times[i])
				}
				if env.GetProducer() != "import/test" || env.GetSchemaVersion() != marketv1.SchemaVersion {
					t.Errorf("event %d: envelope %v", i, env)
				}
				if id := uuid.MustParse(env.GetEventId()); id.Version() != 5 || env.GetEventId() != EventID(ev, tc.times[i]) {
					t.Errorf("event %d: id %s is not the UUIDv5 of its content", i, env.GetEventId())
				}
			}
		})
	}
}

func TestReadAbsentVersusZero(t *testing.T) {
	in := "asin,price,rating,review_count,bought_past_month,seller_count,prime,title\n" +
		"B000000001,0,0,0,0,0,no,0\n" +
		"B000000002,,,,,,,\n" +
		"B000000003,-,-,-,-,-,-,-\n" +
		"B000000004,N/A,N/A,N/A,N/A,N/A,N/A,N/A\n" +
		"B000000005\n"
	evs, st, err := readAll(t, in, CSV, Options{DefaultTime: t0})
	if err != nil || len(st.Bad) != 0 || len(evs) != 5 {
		t.Fatalf("Read: %v, bad %v, %d events", err, st.Bad, len(evs))
	}
	zero := &marketv1.ProductAttributes{Price: usd(0), Rating: f64(0), ReviewCount: i64(0), BoughtPastMonth: i64(0), SellerCount: i32(0), Prime: boolp(false), Title: str("0")}
	if !proto.Equal(evs[0].GetAttributes(), zero) {
		t.Errorf("zeros: got %v, want %v", evs[0].GetAttributes(), zero)
	}
	for _, ev := range evs[1:] {
		if !proto.Equal(ev.GetAttributes(), &marketv1.ProductAttributes{}) {
			t.Errorf("%s: empty cells gave %v, want no attributes", ev.GetAsin(), ev.GetAttributes())
		}
	}
}

func TestReadBadRows(t *testing.T) {
	in := "asin,title,price,rating,review_count,timestamp\n" + // line 1
		"B000000001,ok,1.00,4.5,10,2026-01-01\n" + // 2 good
		",no asin,1.00,,,2026-01-01\n" + // 3
		"B00000000,short asin,,,,2026-01-01\n" + // 4
		"B000000004,bad price,abc,,,2026-01-01\n" + // 5
		"B000000005,bad rating,,6.1,,2026-01-01\n" + // 6
		"B000000006,bad count,,,1.5,2026-01-01\n" + // 7
		"B000000007,bad time,,,,yesterday\n" + // 8
		"B000000008,no time,,,,\n" + // 9
		"B000000009,\"multi\nline\",2.00,,,2026-01-01\n" + // 10-11 good
		"B000000010,\"broken \"quote\",1,,,2026-01-01\n" + // 12 csv error
		"B000000011,last,3.00,,,2026-01-01\n" // 13 good
	evs, st, err := readAll(t, in, CSV, Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	want := []struct {
		line int
		col  string
		err  error
	}{
		{3, "asin", ErrMissingASIN},
		{4, "asin", ErrInvalidASIN},
		{5, "price", parse.ErrNoPrice},
		{6, "rating", ErrInvalidValue},
		{7, "review_count", ErrInvalidValue},
		{8, "timestamp", ErrInvalidValue},
		{9, "timestamp", ErrMissingTime},
		{12, "", ErrInvalidValue},
	}
	if len(st.Bad) != len(want) {
		t.Fatalf("bad rows %v, want %d", st.Bad, len(want))
	}
	for i, w := range want {
		b := st.Bad[i]
		if b.Line != w.line || b.Column != w.col || !errors.Is(b, w.err) {
			t.Errorf("bad row %d: %v (line %d column %q), want line %d column %q %v", i, b, b.Line, b.Column, w.line, w.col, w.err)
		}
	}
	var got []string
	for _, ev := range evs {
		got = append(got, ev.GetAsin())
	}
	if strings.Join(got, " ") != "B000000001 B000000009 B000000011" || st.Imported != 3 || st.Rows != 11 {
		t.Errorf("imported %v (%d of %d rows)", got, st.Imported, st.Rows)
	}
}

func TestReadJSONLBadRows(t *testing.T) {
	in := `{"asin":"B000000001","timestamp":"2026-01-01"}` + "\n" +
		`{"asin":"B000000002","timestamp":"2026-01-01"` + "\n" +
		`[1,2]` + "\n" +
		`{"asin":"B000000004","price":{"x":1},"timestamp":"2026-01-01"}` + "\n" +
		`{"asin":"B000000005","timestamp":"2026-01-01"} {}` + "\n" +
		`{"envelope":{},"asin":"B000000006"}` + "\n" +
		`{"attributes":{"nope":1},"asin":"B000000007"}` + "\n" +
		`{"asin":"B000000008","timestamp":"2026-01-01"}`
	evs, st, err := readAll(t, in, JSONL, Options{})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	var lines []int
	for _, b := range st.Bad {
		lines = append(lines, b.Line)
	}
	if len(evs) != 2 || st.Rows != 8 || len(lines) != 6 || lines[0] != 2 || lines[5] != 7 {
		t.Errorf("events %d rows %d bad %v", len(evs), st.Rows, st.Bad)
	}
	if st.Bad[2].Column != "price" || !errors.Is(st.Bad[4], ErrMissingTime) {
		t.Errorf("bad rows %v", st.Bad)
	}
}

func TestReadFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, input string
		format      Format
		want        error
	}{
		{"empty", "", Auto, ErrEmpty},
		{"blank", " \r\n\n", Auto, ErrEmpty},
		{"BOM only", "\ufeff", CSV, ErrEmpty},
		{"blank JSONL", "\n\n", JSONL, ErrEmpty},
		{"no asin column", "title,price\nx,1\n", Auto, ErrNoASINColumn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(t, tc.input, tc.format, Options{DefaultTime: t0})
			if !errors.Is(err, tc.want) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
	boom := errors.New("boom")
	n := 0
	st, err := Read(strings.NewReader("asin\nB000000001\nB000000002\nB000000003\n"), CSV, Options{DefaultTime: t0},
		func(*marketv1.ProductObserved) error {
			if n++; n == 2 {
				return boom
			}
			return nil
		})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "line 3") || st.Imported != 1 {
		t.Errorf("emit error: %v, %+v", err, st)
	}
}

func TestEventIDsAreDeterministic(t *testing.T) {
	csvIn := "asin,price,rating,timestamp\nB000000001,$1.00,4.5,2026-01-01T00:00:00Z\nB000000002,2.00,,2026-01-01T00:00:00Z\n"
	ids := func(input string, format Format, opts Options) []string {
		evs, st, err := readAll(t, input, format, opts)
		if err != nil || len(st.Bad) != 0 {
			t.Fatalf("Read: %v %v", err, st.Bad)
		}
		var out []string
		for _, ev := range evs {
			out = append(out, ev.GetEnvelope().GetEventId())
		}
		return out
	}
	first := ids(csvIn, CSV, Options{Producer: "a", CorrelationID: "run-1"})
	if first[0] == first[1] {
		t.Fatalf("two products share an id")
	}
	variants := map[string][]string{
		"again, other producer and correlation":    ids(csvIn, CSV, Options{Producer: "b", CorrelationID: "run-2", DefaultTime: t0}),
		"CRLF, BOM, reordered and renamed columns": ids("\ufeffTimestamp,Reviews: Rating,Buy Box: Current,ASIN\r\n2026-01-01 00:00,4.50,$ 1.00,b000000001\r\n1767225600,,2,B000000002\r\n", Auto, Options{}),
		"JSONL": ids(`{"asin":"B000000001","price":"1.00","rating":4.5,"timestamp":"2026-01-01T00:00:00Z"}`+"\n"+`{"asin":"B000000002","price":2,"timestamp":1767225600}`, Auto, Options{}),
	}
	for name, got := range variants {
		if strings.Join(got, ",") != strings.Join(first, ",") {
			t.Errorf("%s: ids %v, want %v", name, got, first)
		}
	}
	changed := map[string]string{
		"price":       "asin,price,rating,timestamp\nB000000001,$1.01,4.5,2026-01-01T00:00:00Z\n",
		"time":        "asin,price,rating,timestamp\nB000000001,$1.00,4.5,2026-01-01T00:00:01Z\n",
		"rating gone": "asin,price,rating,timestamp\nB000000001,$1.00,,2026-01-01T00:00:00Z\n",
		"marketplace": "asin,price,rating,timestamp,marketplace\nB000000001,$1.00,4.5,2026-01-01T00:00:00Z,amazon.ca\n",
	}
	for name, in := range changed {
		if got := ids(in, CSV, Options{}); got[0] == first[0] {
			t.Errorf("%s changed but the id did not", name)
		}
	}
}

func TestParseHelpers(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1,234": 1234, "1.234.567": 1234567, "12 345": 12345, "1K+": 1000, "2.5M": 2500000, "#17": 17, "50+": 50, "1234.0": 1234} {
		if got, err := parseCount(in); err != nil || got != want {
			t.Errorf("parseCount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"1.5", "abc", "1,23", "-3", "", "1e3"} {
		if got, err := parseCount(in); err == nil {
			t.Errorf("parseCount(%q) = %d, want an error", in, got)
		}
	}
	for in, want := range map[string]marketv1.Availability{
		"in_stock": marketv1.Availability_AVAILABILITY_IN_STOCK, "AVAILABILITY_OUT_OF_STOCK": marketv1.Availability_AVAILABILITY_OUT_OF_STOCK,
		"Only 3 left in stock": marketv1.Availability_AVAILABILITY_LOW_STOCK, "Pre-order": marketv1.Availability_AVAILABILITY_PREORDER,
		"Currently unavailable.": marketv1.Availability_AVAILABILITY_OUT_OF_STOCK,
	} {
		if got, err := parseAvailability(in); err != nil || got != want {
			t.Errorf("parseAvailability(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if berlin == nil {
		berlin = time.FixedZone("CET", 3600)
	}
	if got, err := parseTime("2026-01-01 01:00", berlin); err != nil || !got.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("parseTime in Berlin = %v, %v", got, err)
	}
	for _, in := range []string{"0", "-5", "1900-01-01", "01/02/2026"} {
		if _, err := parseTime(in, time.UTC); err == nil {
			t.Errorf("parseTime(%q): want an error", in)
		}
	}
	for in, want := range map[string]string{"https://www.Amazon.DE/s?k=x": "amazon.de", "co.uk": "amazon.co.uk", "amazon.com": "amazon.com"} {
		if got := normaliseMarketplace(in); got != want {
			t.Errorf("normaliseMarketplace(%q) = %q, want %q", in, got, want)
		}
	}
	if f, err := ParseFormat("NDJSON"); err != nil || f != JSONL {
		t.Errorf("ParseFormat: %v %v", f, err)
	}
}

func TestEmitter(t *testing.T) {
	topic := topics.MustLookup(topics.ProductObservations)
	var recs []*kgo.Record
	emit := Emitter(topic, func(r *kgo.Record) error { recs = append(recs, r); return nil })
	evs, _, err := readAll(t, "asin\nB000000001\n", CSV, Options{DefaultTime: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := emit(evs[0]); err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	if r.Topic != topics.ProductObservations || string(r.Key) != "B000000001" {
		t.Fatalf("record %s key %s", r.Topic, r.Key)
	}
	if id, _ := topics.Header(r, topics.HeaderEventID); id != evs[0].GetEnvelope().GetEventId() {
		t.Errorf("event-id header %q", id)
	}
	got, err := topics.DecodeRecord(topic, r)
	if err != nil || !proto.Equal(got, evs[0]) {
		t.Errorf("decoded %v, %v", got, err)
	}
}

// FuzzReadCSV checks that Read never panics and that every imported row has a valid ASIN and envelope.
func FuzzReadCSV(f *testing.F) {
	f.Add("asin,price,timestamp\nB000000001,$1.00,2026-01-01\n")
	f.Add("\ufeffASIN;Buy Box: Current;Last Update\r\nB000000001;19,99 €;1767225600\r\n")
	f.Add("asin,rating,review_count,bought_past_month,position\nB000000001,4.5,\"1,2\",1K+,0\n")
	f.Add(`{"asin":"B000000001","price":1}` + "\n" + `{"envelope":{},"asin":"b"}`)
	f.Add("asin,title\n\"B000000001,\"x\n")
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = Read(strings.NewReader(in), Auto, Options{DefaultTime: t0}, func(ev *marketv1.ProductObserved) error {
			if _, err := normaliseASIN(ev.GetAsin()); err != nil || ev.GetAsin() == "" {
				t.Fatalf("imported an event without a valid ASIN: %q", ev.GetAsin())
			}
			if err := marketv1.ValidateEnvelope(ev.GetEnvelope()); err != nil {
				t.Fatalf("imported an event with a bad envelope: %v", err)
			}
			if _, err := protojson.Marshal(ev); err != nil {
				t.Fatalf("event does not marshal: %v", err)
			}
			return nil
		})
	})
}
