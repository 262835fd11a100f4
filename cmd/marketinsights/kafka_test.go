package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// brokerArgs points the CLI at the test broker; topics are the catalog's, shared by the package.
func brokerArgs(t *testing.T) []string {
	t.Helper()
	k := testenv.Kafka(t)
	code, out, errOut := runCLI(t, "", "--kafka-brokers", strings.Join(k.Brokers, ","), "topics", "apply")
	if code != 0 {
		t.Fatalf("topics apply: exit %d\n%s%s", code, out, errOut)
	}
	return []string{"--kafka-brokers", strings.Join(k.Brokers, ",")}
}

// tailLines reads a topic from the start to its current end and returns the decoded lines.
func tailLines(t *testing.T, args []string, topic string) []topics.RenderedRecord {
	t.Helper()
	code, out, errOut := runCLI(t, "", append(args, "tail", topic, "--from", "earliest", "--no-follow")...)
	if code != 0 {
		t.Fatalf("tail: exit %d: %s", code, errOut)
	}
	var recs []topics.RenderedRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r topics.RenderedRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("tail printed a line that is not JSON: %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

func TestTopicsApplyTwiceChangesNothing(t *testing.T) {
	args := brokerArgs(t) // the first apply
	code, out, errOut := runCLI(t, "", append(args, "topics", "apply")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := fmt.Sprintf("0 created, %d unchanged, 0 drifted, 0 fixed, 0 failed", len(topics.All()))
	if !strings.Contains(out, want) {
		t.Fatalf("second apply:\n%s\nwant %q", out, want)
	}
}

func TestProduceThenTailRoundTrip(t *testing.T) {
	args := brokerArgs(t)
	kw := "round trip " + marketv1.NewEventID()
	ids := []string{marketv1.NewEventID(), marketv1.NewEventID()}
	in := fmt.Sprintf(`{"envelope":{"event_id":%q,"event_time":"2026-11-25T10:00:00Z"},"keyword":%q,"marketplace":"amazon.com","page":1,"listings":[{"asin":"B0ROUND001","position":1,"attributes":{"price":{"amount_minor":"129999","currency":"USD"},"rating":0}}]}
{"envelope":{"event_id":%q},"keyword":%q,"page":2}
`, ids[0], kw, ids[1], kw)
	code, out, errOut := runCLI(t, in, append(args, "produce", topics.SearchResults)...)
	if code != 0 || !strings.Contains(out, "wrote 2 records") {
		t.Fatalf("produce: exit %d, %s%s", code, out, errOut)
	}
	found := map[string]topics.RenderedRecord{}
	for _, r := range tailLines(t, args, topics.SearchResults) {
		if r.Key == kw {
			found[r.Headers[topics.HeaderEventID]] = r
		}
	}
	if len(found) != 2 {
		t.Fatalf("tail found %d of the 2 records produced", len(found))
	}
	first := found[ids[0]]
	var v map[string]any
	if err := json.Unmarshal(first.Value, &v); err != nil {
		t.Fatal(err)
	}
	if first.Headers[topics.HeaderSchema] != "market.v1.SearchResultsObserved" || v["keyword"] != kw ||
		!strings.Contains(string(first.Value), `"rating":0`) || !strings.Contains(string(first.Value), `"event_time":"2026-11-25T10:00:00Z"`) {
		t.Fatalf("decoded record lost data: %s %v", first.Value, first.Headers)
	}
	if found[ids[1]].Value == nil || !strings.Contains(string(found[ids[1]].Value), `"producer":"cli/produce"`) {
		t.Fatalf("defaults not filled: %s", found[ids[1]].Value)
	}
}

func TestProduceRejectsWholeBatchOnBadLine(t *testing.T) {
	args := brokerArgs(t)
	kw := "rejected " + marketv1.NewEventID()
	in := fmt.Sprintf("{\"keyword\":%q}\n{\"keyword\":%q,\"page\":\"three\"}\n{\"keyword\":%q,\"listings\":[{\"asin\":\"B0\",\"positon\":1}]}\n", kw, kw, kw)
	code, out, errOut := runCLI(t, in, append(args, "produce", topics.SearchResults)...)
	if code != 2 {
		t.Fatalf("exit %d, want 2: %s%s", code, out, errOut)
	}
	for _, want := range []string{"nothing written", "line 2", "page", "line 3", "positon"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	for _, r := range tailLines(t, args, topics.SearchResults) {
		if r.Key == kw {
			t.Fatalf("a record of the rejected batch was written: %+v", r)
		}
	}
	code, _, errOut = runCLI(t, "{}\n", append(args, "produce", "no-such-topic")...)
	if code != 2 || !strings.Contains(errOut, "not in the catalog") {
		t.Fatalf("unknown topic: exit %d: %s", code, errOut)
	}
}

func TestTailPrintsUndecodableAsBase64AndGoesOn(t *testing.T) {
	args := brokerArgs(t)
	k := testenv.Kafka(t)
	cl := k.Client(t)
	key := "garbage " + marketv1.NewEventID()
	good, err := topics.NewEventRecord(topics.MustLookup(topics.SearchResults), &marketv1.SearchResultsObserved{
		Envelope: marketv1.NewEnvelope("test", "", time.Now()), Keyword: key})
	if err != nil {
		t.Fatal(err)
	}
	bad := &kgo.Record{Topic: topics.SearchResults, Key: []byte(key), Value: []byte{0xff, 0xfe, 0x00, 0x01}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, bad, good).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var sawBad, sawGood bool
	for _, r := range tailLines(t, args, topics.SearchResults) {
		if r.Key != key {
			continue
		}
		switch {
		case r.ValueBase64 == "//4AAQ==" && strings.Contains(r.Error, "decode") && r.Value == nil:
			sawBad = true
		case r.Value != nil && sawBad:
			sawGood = true
		}
	}
	if !sawBad || !sawGood {
		t.Fatalf("tail: undecodable record printed as base64: %v; next record decoded after it: %v", sawBad, sawGood)
	}
}
