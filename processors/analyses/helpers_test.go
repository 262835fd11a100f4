package analyses

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/processors/keywords"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// t0 is the instant the tests' analyses are requested at.
var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

var testNamespace = uuid.MustParse("9a4c1f0e-2b6d-4e83-a1c7-5d0e3f9b8a21")

// testID returns a UUID derived from name.
func testID(name string) string { return uuid.NewSHA1(testNamespace, []byte(name)).String() }

// envAt returns an envelope at t whose id is derived from name.
func envAt(t time.Time, name string) *marketv1.Envelope {
	return &marketv1.Envelope{EventId: testID(name), EventTime: timestamppb.New(t), Producer: "test", SchemaVersion: marketv1.SchemaVersion}
}

// request returns the AnalysisRequested event of analysis id at t.
func request(id, keyword string, pages int32, t time.Time) *marketv1.AnalysisEvent {
	return &marketv1.AnalysisEvent{Envelope: envAt(t, "request/"+id), AnalysisId: id,
		Event: &marketv1.AnalysisEvent_Requested{Requested: &marketv1.AnalysisRequested{Keyword: keyword, Pages: pages, UserId: "user-1"}}}
}

// status returns a scrape job status as a worker reports it, named name.
func status(name, job, analysisID, keyword string, s marketv1.ScrapeStatus, done, total int32, t time.Time) *marketv1.ScrapeStatusChanged {
	return &marketv1.ScrapeStatusChanged{Envelope: envAt(t, "status/"+name), JobId: job, Status: s, Attempt: 1,
		PagesDone: done, PagesTotal: total, Keyword: keyword, AnalysisId: analysisID, ListingsObserved: done * 4,
		Reason: map[marketv1.ScrapeStatus]string{
			marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED:  "HTTP 503 after 4 attempts",
			marketv1.ScrapeStatus_SCRAPE_STATUS_BLOCKED: "robot check on page 1",
		}[s]}
}

// routed returns a status as the router forwards it to the saga's loopback.
func routed(t testing.TB, ss *marketv1.ScrapeStatusChanged) *marketv1.AnalysisEvent {
	t.Helper()
	ev, ok := Route(ss, "analysis-saga")
	if !ok {
		t.Fatalf("status %v not routed", ss)
	}
	return ev
}

// tickAt returns a tick of analysis id at now.
func tickAt(id string, now time.Time) *marketv1.AnalysisEvent {
	return &marketv1.AnalysisEvent{Envelope: envAt(now, fmt.Sprintf("tick/%s/%d", id, now.UnixNano())), AnalysisId: id,
		Event: &marketv1.AnalysisEvent_Tick{Tick: &marketv1.SagaTick{Now: timestamppb.New(now)}}}
}

// searchPage returns a search page of keyword at t with n listings, named name.
func searchPage(keyword, name string, page int32, t time.Time, n int) *marketv1.SearchResultsObserved {
	ls := make([]*marketv1.Listing, n)
	for i := range ls {
		ls[i] = &marketv1.Listing{Asin: fmt.Sprintf("B0%02dP%05d", page, i), Position: int32(i + 1), Attributes: &marketv1.ProductAttributes{
			Title:           proto.String(fmt.Sprintf("Charger %d/%d", page, i)),
			Brand:           proto.String([]string{"Anker", "Belkin", "Ugreen"}[i%3]),
			Price:           &marketv1.Money{AmountMinor: int64(1000 + 100*i + int(page)), Currency: "USD"},
			Rating:          proto.Float64(4.0 + float64(i%10)/10),
			ReviewCount:     proto.Int64(int64(100 * (i + 1))),
			BoughtPastMonth: proto.Int64(int64(50 * (i%4 + 1))),
		}}
	}
	return &marketv1.SearchResultsObserved{Envelope: envAt(t, "page/"+name), Keyword: keyword, Marketplace: "amazon.com", Page: page, Listings: ls}
}

// keywordState returns the keyword-windows state after the pages, applied by the real
// keyword-windows logic.
func keywordState(t testing.TB, cfg keywords.Config, pages ...*marketv1.SearchResultsObserved) *marketv1.KeywordWindowsState {
	t.Helper()
	var st *marketv1.KeywordWindowsState
	for _, p := range pages {
		out, err := keywords.Apply(st, p, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		st = out.State
	}
	return st
}
