package main

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

func TestAnalyzeRequestsAndFollows(t *testing.T) {
	args := brokerArgs(t)
	id := marketv1.NewEventID()
	code, out, errOut := runCLI(t, "", append(args, "analyze", "Portable  Charger", "--pages", "2", "--id", id)...)
	if code != 0 {
		t.Fatalf("analyze: exit %d: %s", code, errOut)
	}
	var printed topics.RenderedRecord
	if err := json.Unmarshal([]byte(out), &printed); err != nil || printed.Key != id {
		t.Fatalf("analyze printed %q (%v)", out, err)
	}
	var req *marketv1.AnalysisRequested
	for _, r := range tailLines(t, args, topics.AnalysisEvents) {
		if r.Key == id {
			var ev struct {
				Requested struct {
					Keyword string `json:"keyword"`
					Pages   int32  `json:"pages"`
				} `json:"requested"`
			}
			if err := json.Unmarshal(r.Value, &ev); err != nil {
				t.Fatal(err)
			}
			req = &marketv1.AnalysisRequested{Keyword: ev.Requested.Keyword, Pages: ev.Requested.Pages}
		}
	}
	if req == nil || req.GetKeyword() != "Portable  Charger" || req.GetPages() != 2 {
		t.Fatalf("request on the topic: %v", req)
	}

	for _, bad := range [][]string{{"--pages", "50"}, {"--id", "not-a-uuid"}, {"--deadline", "-1s"}} {
		if code, _, errOut := runCLI(t, "", append(append(args, "analyze", "kw"), bad...)...); code != 2 {
			t.Errorf("analyze %v: exit %d, want 2 (%s)", bad, code, errOut)
		}
	}

	// --follow prints the transitions of its analysis (not of others) until it ends; a failure
	// with a stale result ends with that result and exit 1.
	id = marketv1.NewEventID()
	type result struct {
		code        int
		out, errOut string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := runCLI(t, "", append(args, "analyze", "portable charger", "--id", id, "--follow", "--wait", "1m")...)
		done <- result{code, out, errOut}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !hasKey(tailLines(t, args, topics.AnalysisEvents), id) {
		if time.Now().After(deadline) {
			t.Fatal("the request never appeared")
		}
		time.Sleep(50 * time.Millisecond)
	}
	step := &marketv1.AnalysisEvent{Envelope: marketv1.NewEnvelope("test", id, time.Now()), AnalysisId: id,
		Event: &marketv1.AnalysisEvent_StepChanged{StepChanged: &marketv1.AnalysisStepChanged{Step: marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING, Progress: 0.1}}}
	other := &marketv1.AnalysisEvent{Envelope: marketv1.NewEnvelope("test", "other", time.Now()), AnalysisId: "other",
		Event: &marketv1.AnalysisEvent_Completed{Completed: &marketv1.AnalysisCompleted{Keyword: "x"}}}
	failed := &marketv1.AnalysisEvent{Envelope: marketv1.NewEnvelope("test", id, time.Now()), AnalysisId: id,
		Event: &marketv1.AnalysisEvent_Failed{Failed: &marketv1.AnalysisFailed{Reason: "scrape timed out after 2m0s", StaleResultAvailable: true}}}
	stale := &marketv1.AnalysisEvent{Envelope: marketv1.NewEnvelope("test", id, time.Now()), AnalysisId: id,
		Event: &marketv1.AnalysisEvent_Completed{Completed: &marketv1.AnalysisCompleted{Keyword: "portable charger", Stale: true}}}
	produceEvents(t, id, step, failed, stale)
	produceEvents(t, "other", other)

	var res result
	select {
	case res = <-done:
	case <-time.After(time.Minute):
		t.Fatal("analyze --follow did not end")
	}
	if res.code != 1 || !strings.Contains(res.errOut, "scrape timed out after 2m0s") {
		t.Errorf("analyze --follow: exit %d, stderr %q", res.code, res.errOut)
	}
	var keys []string
	sc := bufio.NewScanner(strings.NewReader(res.out))
	for sc.Scan() {
		var r topics.RenderedRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		keys = append(keys, r.Key)
	}
	if len(keys) != 4 || strings.Count(strings.Join(keys, ","), id) != 4 {
		t.Errorf("analyze --follow printed records keyed %v, want the request and 3 transitions of %s", keys, id)
	}
}

func hasKey(recs []topics.RenderedRecord, key string) bool {
	for _, r := range recs {
		if r.Key == key {
			return true
		}
	}
	return false
}

func produceEvents(t *testing.T, key string, evs ...*marketv1.AnalysisEvent) {
	t.Helper()
	tp := topics.MustLookup(topics.AnalysisEvents)
	var recs []*kgo.Record
	for _, ev := range evs {
		r, err := topics.NewRecord(tp, key, ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := testenv.Kafka(t).Client(t).ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}
