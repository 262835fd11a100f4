package topics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

func TestReadJSONLines(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	d := EventDefaults{Producer: "test", Now: func() time.Time { return now }}
	tp := MustLookup(SearchResults)
	cases := []struct {
		name      string
		in        string
		wantN     int
		wantErrs  []string // substrings, each must appear
		wantLines []int
	}{
		{name: "good lines, blanks and comments", in: "{\"keyword\":\"a\"}\n\n# note\n{\"keyword\":\"b\",\"page\":2}\n", wantN: 2},
		{name: "wrong type names the field", in: "{\"keyword\":\"a\",\"page\":\"two\"}\n", wantErrs: []string{"line 1", "page"}, wantLines: []int{1}},
		{name: "unknown field", in: "{\"keyword\":\"a\"}\n{\"keyword\":\"a\",\"pgae\":1}\n", wantErrs: []string{"line 2", "pgae"}, wantLines: []int{2}},
		{name: "missing key", in: "{\"page\":1}\n", wantErrs: []string{"line 1", "keyword", "record key"}, wantLines: []int{1}},
		{name: "bad event id", in: "{\"keyword\":\"a\",\"envelope\":{\"event_id\":\"nope\"}}\n", wantErrs: []string{"envelope.event_id", "not a UUID"}},
		{name: "not JSON", in: "{\"keyword\":\n", wantErrs: []string{"line 1"}},
		{name: "one bad line rejects the batch", in: "{\"keyword\":\"a\"}\n{\"keyword\":1}\n{\"keyword\":\"c\"}\n", wantErrs: []string{"line 2"}, wantLines: []int{2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := ReadJSONLines(tp, strings.NewReader(tc.in), d)
			if len(tc.wantErrs) == 0 {
				if err != nil {
					t.Fatalf("ReadJSONLines: %v", err)
				}
				if len(recs) != tc.wantN {
					t.Fatalf("got %d records, want %d", len(recs), tc.wantN)
				}
				for _, r := range recs {
					v, err := DecodeRecord(tp, r)
					if err != nil {
						t.Fatal(err)
					}
					env := v.(*marketv1.SearchResultsObserved).GetEnvelope()
					if env.GetProducer() != "test" || !env.GetEventTime().AsTime().Equal(now) || env.GetSchemaVersion() != marketv1.SchemaVersion {
						t.Fatalf("envelope defaults not filled: %v", env)
					}
					if err := marketv1.ValidateEnvelope(env); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			if recs != nil {
				t.Fatalf("got %d records with an error; a rejected batch must yield none", len(recs))
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tc.wantErrs)
			}
			for _, s := range tc.wantErrs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			for _, line := range tc.wantLines {
				var le *LineError
				if !errors.As(err, &le) || le.Line != line {
					t.Errorf("error %v: want a LineError for line %d", err, line)
				}
			}
		})
	}
}

func TestReadJSONLinesRefusesRawTopic(t *testing.T) {
	_, err := ReadJSONLines(MustLookup(DeadLetters), strings.NewReader("{}\n"), EventDefaults{})
	if !errors.Is(err, ErrRawTopic) {
		t.Fatalf("error = %v, want ErrRawTopic", err)
	}
}

func FuzzReadJSONLines(f *testing.F) {
	f.Add("{\"keyword\":\"a\",\"listings\":[{\"asin\":\"B0\",\"attributes\":{\"price\":{\"amount_minor\":\"1\"}}}]}\n")
	f.Add("{\"keyword\":1}\n#x\n\n")
	tp := MustLookup(SearchResults)
	f.Fuzz(func(t *testing.T, in string) {
		recs, err := ReadJSONLines(tp, strings.NewReader(in), EventDefaults{Producer: "fuzz"})
		if err != nil && recs != nil {
			t.Fatalf("records returned with an error")
		}
		for _, r := range recs {
			if _, err := DecodeRecord(tp, r); err != nil {
				t.Fatalf("accepted line does not decode: %v", err)
			}
		}
	})
}

func FuzzRender(f *testing.F) {
	f.Add([]byte{0x0a, 0x02, 0x08, 0x01})
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, value []byte) {
		for _, name := range []string{SearchResults, ProductObservations, AnalysisEvents, DeadLetters} {
			_ = Render(&kgo.Record{Topic: name, Value: value})
		}
	})
}
