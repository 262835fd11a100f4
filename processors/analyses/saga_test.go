package analyses

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

const (
	kwText = "usb c charger"
	anID   = "an-1"
)

var (
	running   = marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING
	queued    = marketv1.ScrapeStatus_SCRAPE_STATUS_QUEUED
	succeeded = marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED
	failed    = marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED
	blocked   = marketv1.ScrapeStatus_SCRAPE_STATUS_BLOCKED
	retrying  = marketv1.ScrapeStatus_SCRAPE_STATUS_RETRYING
)

// want is what one input must produce.
type want struct {
	step    marketv1.AnalysisStep
	events  []string // "step:<step>", "completed", "completed:stale", "failed", "failed:stale"
	scrapes int
	cancels int
	ignored string
	changed bool
	deleted bool
}

// in is one input of a scenario at t0+at, with the keyword's window state the lookup returns.
type in struct {
	ev   func(t *testing.T) *marketv1.AnalysisEvent
	at   time.Duration
	kw   *marketv1.KeywordWindowsState
	want want
}

func describe(evs []*marketv1.AnalysisEvent) []string {
	var out []string
	for _, e := range evs {
		switch m := e.GetEvent().(type) {
		case *marketv1.AnalysisEvent_StepChanged:
			out = append(out, "step:"+stepName(m.StepChanged.GetStep()))
		case *marketv1.AnalysisEvent_Completed:
			if m.Completed.GetStale() {
				out = append(out, "completed:stale")
			} else {
				out = append(out, "completed")
			}
		case *marketv1.AnalysisEvent_Failed:
			if m.Failed.GetStaleResultAvailable() {
				out = append(out, "failed:stale")
			} else {
				out = append(out, "failed")
			}
		default:
			out = append(out, "?")
		}
	}
	return out
}

func TestApplyTransitions(t *testing.T) {
	cfg := DefaultConfig()
	job := JobID(anID, 1)
	req := func(pages int32) func(*testing.T) *marketv1.AnalysisEvent {
		return func(*testing.T) *marketv1.AnalysisEvent { return request(anID, "  USB C  Charger ", pages, t0) }
	}
	st := func(name string, s marketv1.ScrapeStatus, done, total int32, at time.Duration) func(*testing.T) *marketv1.AnalysisEvent {
		return func(t *testing.T) *marketv1.AnalysisEvent {
			return routed(t, status(name, job, anID, kwText, s, done, total, t0.Add(at)))
		}
	}
	tick := func(at time.Duration) func(*testing.T) *marketv1.AnalysisEvent {
		return func(*testing.T) *marketv1.AnalysisEvent { return tickAt(anID, t0.Add(at)) }
	}
	own := func(*testing.T) *marketv1.AnalysisEvent {
		return &marketv1.AnalysisEvent{Envelope: envAt(t0, "own"), AnalysisId: anID,
			Event: &marketv1.AnalysisEvent_StepChanged{StepChanged: &marketv1.AnalysisStepChanged{Step: marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING}}}
	}
	// Keyword states: before the scrape (an older page, 30 minutes earlier), and after it (the
	// three pages of the scrape, fetched 10-12 s after the request, applied too).
	old := searchPage(kwText, "old", 1, t0.Add(-30*time.Minute), 10)
	before := keywordState(t, cfg.Keywords, old)
	scraped := keywordState(t, cfg.Keywords, old,
		searchPage(kwText, "p1", 1, t0.Add(10*time.Second), 12),
		searchPage(kwText, "p2", 2, t0.Add(11*time.Second), 12),
		searchPage(kwText, "p3", 3, t0.Add(12*time.Second), 12))
	partial := keywordState(t, cfg.Keywords, old, searchPage(kwText, "p1", 1, t0.Add(10*time.Second), 12))

	const (
		scraping    = marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING
		aggregating = marketv1.AnalysisStep_ANALYSIS_STEP_AGGREGATING
		completed   = marketv1.AnalysisStep_ANALYSIS_STEP_COMPLETED
		failedStep  = marketv1.AnalysisStep_ANALYSIS_STEP_FAILED
	)
	started := in{ev: req(3), want: want{step: scraping, events: []string{"step:scraping"}, scrapes: 1, changed: true}}
	for _, tc := range []struct {
		name   string
		inputs []in
	}{
		{"request starts the scrape", []in{started}},
		{"redelivered request changes nothing", []in{started, {ev: req(3), at: time.Second, want: want{step: scraping, ignored: IgnoredDuplicate}}}},
		{"empty keyword fails at once", []in{{ev: func(*testing.T) *marketv1.AnalysisEvent { return request(anID, "   ", 3, t0) },
			want: want{step: failedStep, events: []string{"failed"}, changed: true}}}},
		{"too many pages fail at once", []in{{ev: req(500), kw: before, want: want{step: failedStep, events: []string{"failed"}, changed: true}}}},
		{"progress, redelivery, no progress", []in{started,
			{ev: st("q", queued, 0, 3, time.Second), at: time.Second, want: want{step: scraping, events: []string{"step:scraping"}, changed: true}},
			{ev: st("r1", running, 1, 3, 5*time.Second), at: 5 * time.Second, want: want{step: scraping, events: []string{"step:scraping"}, changed: true}},
			{ev: st("r1", running, 1, 3, 5*time.Second), at: 6 * time.Second, want: want{step: scraping, ignored: IgnoredDuplicate}},
			{ev: st("r1-again", running, 1, 3, 6*time.Second), at: 6 * time.Second, want: want{step: scraping, ignored: IgnoredNoProgress, changed: true}},
			{ev: st("r0", running, 0, 3, 4*time.Second), at: 7 * time.Second, want: want{step: scraping, ignored: IgnoredNoProgress, changed: true}},
			{ev: st("retry", retrying, 1, 3, 8*time.Second), at: 8 * time.Second, want: want{step: scraping, events: []string{"step:scraping"}, changed: true}},
		}},
		{"status of another job is ignored", []in{started, {ev: func(t *testing.T) *marketv1.AnalysisEvent {
			return routed(t, status("x", "other-job", anID, kwText, succeeded, 3, 3, t0))
		}, want: want{step: scraping, ignored: IgnoredOtherJob}}}},
		{"status of an unknown analysis is ignored", []in{{ev: st("r", running, 1, 3, 0), want: want{ignored: IgnoredUnknown}}}},
		{"own transitions are ignored", []in{started, {ev: own, want: want{step: scraping, ignored: IgnoredOwnEvent}}}},
		{"success, window already includes the scrape: completed", []in{started,
			{ev: st("ok", succeeded, 3, 3, 13*time.Second), at: 14 * time.Second, kw: scraped,
				want: want{step: completed, events: []string{"step:aggregating", "completed"}, changed: true}},
			{ev: st("late-run", running, 2, 3, 12*time.Second), at: 15 * time.Second, kw: scraped, want: want{step: completed, ignored: IgnoredFinished}},
		}},
		{"success counting product pages (3 search + 48 product): the 3 search pages complete it", []in{started,
			{ev: st("ok", succeeded, 51, 51, 13*time.Second), at: 14 * time.Second, kw: scraped,
				want: want{step: completed, events: []string{"step:aggregating", "completed"}, changed: true}},
		}},
		{"success, then the window catches up on a tick", []in{started,
			{ev: st("ok", succeeded, 3, 3, 13*time.Second), at: 14 * time.Second, kw: partial,
				want: want{step: aggregating, events: []string{"step:aggregating"}, changed: true}},
			{ev: tick(15 * time.Second), at: 15 * time.Second, kw: partial, want: want{step: aggregating, ignored: IgnoredNotDue}},
			{ev: tick(16 * time.Second), at: 16 * time.Second, kw: scraped, want: want{step: completed, events: []string{"completed"}, changed: true}},
		}},
		{"window never includes the scrape: aggregation times out with the stale window", []in{started,
			{ev: st("ok", succeeded, 3, 3, 13*time.Second), at: 14 * time.Second, kw: before,
				want: want{step: aggregating, events: []string{"step:aggregating"}, changed: true}},
			{ev: tick(14*time.Second + cfg.AggregateTimeout), kw: partial,
				want: want{step: failedStep, events: []string{"failed:stale", "completed:stale"}, changed: true}},
		}},
		{"failed scrape compensates with the stale window", []in{started,
			{ev: st("f", failed, 1, 3, 20*time.Second), at: 20 * time.Second, kw: before,
				want: want{step: failedStep, events: []string{"failed:stale", "completed:stale"}, changed: true}},
			{ev: st("f2", failed, 1, 3, 21*time.Second), at: 21 * time.Second, kw: before, want: want{step: failedStep, ignored: IgnoredFinished}},
		}},
		{"blocked scrape of a keyword never seen: failed without a result", []in{started,
			{ev: st("b", blocked, 0, 3, 20*time.Second), at: 20 * time.Second,
				want: want{step: failedStep, events: []string{"failed"}, changed: true}},
		}},
		{"scrape times out: job cancelled, stale window served", []in{started,
			{ev: st("r1", running, 1, 3, 5*time.Second), at: 5 * time.Second, want: want{step: scraping, events: []string{"step:scraping"}, changed: true}},
			{ev: tick(cfg.ScrapeTimeout - time.Millisecond), kw: before, want: want{step: scraping, ignored: IgnoredNotDue}},
			{ev: tick(cfg.ScrapeTimeout), kw: before, want: want{step: failedStep, events: []string{"failed:stale", "completed:stale"}, cancels: 1, changed: true}},
			{ev: tick(cfg.ScrapeTimeout + time.Second), kw: before, want: want{step: failedStep, ignored: IgnoredNotDue}},
			{ev: tick(cfg.ScrapeTimeout + cfg.Retention), kw: before, want: want{step: failedStep, deleted: true}},
		}},
		{"tick of an unknown analysis creates nothing", []in{{ev: tick(time.Hour), want: want{ignored: IgnoredUnknown}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var state *marketv1.AnalysisState
			var lastVersion int64
			for i, x := range tc.inputs {
				kw := x.kw
				lookups := 0
				out := Apply(state, anID, x.ev(t), t0.Add(x.at), func(k string) *marketv1.KeywordWindowsState {
					lookups++
					if k != kwText {
						t.Errorf("input %d looked up keyword %q, want %q", i, k, kwText)
					}
					return kw
				}, cfg)
				if got := describe(out.Events); !slices.Equal(got, x.want.events) {
					t.Errorf("input %d: events %v, want %v", i, got, x.want.events)
				}
				if len(out.Scrapes) != x.want.scrapes || len(out.Cancels) != x.want.cancels {
					t.Errorf("input %d: %d scrapes and %d cancels, want %d and %d", i, len(out.Scrapes), len(out.Cancels), x.want.scrapes, x.want.cancels)
				}
				if out.Ignored != x.want.ignored || out.Changed != x.want.changed || out.Delete != x.want.deleted {
					t.Errorf("input %d: ignored %q changed %v delete %v, want %q %v %v", i, out.Ignored, out.Changed, out.Delete,
						x.want.ignored, x.want.changed, x.want.deleted)
				}
				if out.State.GetStep() != x.want.step {
					t.Errorf("input %d: step %v, want %v", i, out.State.GetStep(), x.want.step)
				}
				if len(out.Events) > 0 && out.State.GetVersion() != lastVersion+1 {
					t.Errorf("input %d: version %d after %d: a transition increments it once", i, out.State.GetVersion(), lastVersion)
				}
				if len(out.Events) == 0 && out.State.GetVersion() != lastVersion {
					t.Errorf("input %d: version moved without a transition", i)
				}
				checkEvents(t, out, anID)
				state, lastVersion = out.State, out.State.GetVersion()
				if out.Delete {
					state, lastVersion = nil, 0
				}
			}
		})
	}
}

// checkEvents checks what every emitted event must carry.
func checkEvents(t *testing.T, out Effects, id string) {
	t.Helper()
	ids := map[string]bool{}
	for _, e := range out.Events {
		if e.GetAnalysisId() != id || e.GetEnvelope().GetCorrelationId() != id || e.GetEnvelope().GetEventId() == "" {
			t.Errorf("event %v: analysis id, correlation id and event id must be set", e)
		}
		if ids[e.GetEnvelope().GetEventId()] {
			t.Errorf("event id %s repeated", e.GetEnvelope().GetEventId())
		}
		ids[e.GetEnvelope().GetEventId()] = true
		if c := e.GetCompleted(); c != nil && (c.GetSummary() == nil || c.GetWindow() == nil || c.GetKeyword() != kwText) {
			t.Errorf("completed %v: summary, window and keyword must be set", c)
		}
	}
}

func TestApplyRequestEffects(t *testing.T) {
	cfg := DefaultConfig()
	out := Apply(nil, anID, request(anID, " USB  C Charger", 0, t0.Add(-time.Second)), t0, nil, cfg)
	if len(out.Scrapes) != 1 {
		t.Fatalf("scrapes %v", out.Scrapes)
	}
	s := out.Scrapes[0]
	wantJob := JobID(anID, 1)
	if s.GetJobId() != wantJob || s.GetKeyword() != kwText || s.GetPages() != cfg.DefaultPages || s.GetPriority() != marketv1.Priority_PRIORITY_HIGH ||
		s.GetKind() != marketv1.ScrapeKind_SCRAPE_KIND_SEARCH || s.GetAnalysisId() != anID || s.GetAttempt() != 1 ||
		s.GetMarketplace() != "amazon.com" || s.GetRequestedBy() != "analysis:"+anID {
		t.Errorf("scrape request %v", s)
	}
	if !s.GetDeadline().AsTime().Equal(t0.Add(cfg.ScrapeTimeout)) {
		t.Errorf("job deadline %v, want the scrape step's deadline %v", s.GetDeadline().AsTime(), t0.Add(cfg.ScrapeTimeout))
	}
	if JobID(anID, 1) != wantJob || JobID(anID, 2) == wantJob || JobID("an-2", 1) == wantJob {
		t.Error("job ids must be deterministic per analysis and attempt")
	}
	again := Apply(nil, anID, request(anID, " USB  C Charger", 0, t0.Add(-time.Second)), t0.Add(time.Minute), nil, cfg)
	if again.Scrapes[0].GetEnvelope().GetEventId() != s.GetEnvelope().GetEventId() || again.Events[0].GetEnvelope().GetEventId() != out.Events[0].GetEnvelope().GetEventId() {
		t.Error("a request applied afresh (the state lost) must emit the same event ids")
	}
	st := out.State
	if st.GetRequest().GetKeyword() != kwText || st.GetProgress() != progressRequested || !slices.Equal(st.GetPendingJobIds(), []string{wantJob}) ||
		!st.GetRequestedAt().AsTime().Equal(t0.Add(-time.Second)) || !st.GetScrapeRequestedAt().AsTime().Equal(t0) {
		t.Errorf("state %v", st)
	}

	// A request deadline earlier than the step timeout caps the job's deadline, and the
	// timeout names it.
	req := request("an-2", kwText, 2, t0)
	req.GetRequested().Deadline = timestamppb.New(t0.Add(30 * time.Second))
	out = Apply(nil, "an-2", req, t0, nil, cfg)
	if d := out.Scrapes[0].GetDeadline().AsTime(); !d.Equal(t0.Add(30 * time.Second)) {
		t.Errorf("job deadline %v, want the request's", d)
	}
	out = Apply(out.State, "an-2", tickAt("an-2", t0.Add(30*time.Second)), t0, nil, cfg)
	if f := out.Events[0].GetFailed(); f == nil || !strings.Contains(f.GetReason(), "deadline") || !slices.Equal(f.GetCancelledJobIds(), []string{JobID("an-2", 1)}) {
		t.Errorf("after the request's deadline: %v", out.Events)
	}

	// A request whose deadline has passed fails at once, without a job.
	req = request("an-3", kwText, 2, t0)
	req.GetRequested().Deadline = timestamppb.New(t0.Add(-time.Second))
	out = Apply(nil, "an-3", req, t0, nil, cfg)
	if out.State.GetStep() != marketv1.AnalysisStep_ANALYSIS_STEP_FAILED || len(out.Scrapes) != 0 {
		t.Errorf("request past its deadline: %v", out.State)
	}
}

func TestApplyCompensation(t *testing.T) {
	cfg := DefaultConfig()
	kw := keywordState(t, cfg.Keywords, searchPage(kwText, "old", 1, t0.Add(-20*time.Minute), 8))
	lookup := func(string) *marketv1.KeywordWindowsState { return kw }
	out := Apply(nil, anID, request(anID, kwText, 3, t0), t0, lookup, cfg)
	out = Apply(out.State, anID, tickAt(anID, t0.Add(cfg.ScrapeTimeout+time.Second)), t0, lookup, cfg)
	if len(out.Cancels) != 1 {
		t.Fatalf("cancels %v", out.Cancels)
	}
	c := out.Cancels[0]
	if c.GetJobId() != JobID(anID, 1) || c.GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED || c.GetAnalysisId() != anID ||
		c.GetKeyword() != kwText || c.GetEnvelope().GetProducer() != cfg.Producer || !strings.Contains(c.GetReason(), "timed out") {
		t.Errorf("cancel %v", c)
	}
	f := out.Events[0].GetFailed()
	if f.GetFailedStep() != marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING || !strings.Contains(f.GetReason(), "scrape timed out after 2m0s (no status from a worker)") ||
		!slices.Equal(f.GetCancelledJobIds(), []string{JobID(anID, 1)}) || !f.GetStaleResultAvailable() {
		t.Errorf("failed %v", f)
	}
	res := out.Events[1].GetCompleted()
	if !res.GetStale() || res.GetSummary().GetCompetitorCount() != 8 || !proto.Equal(res, out.State.GetResult()) {
		t.Errorf("stale result %v", res)
	}
	if st := out.State; len(st.GetPendingJobIds()) != 0 || st.GetFailureReason() != f.GetReason() || st.GetFinishedAt() == nil {
		t.Errorf("failed state %v", st)
	}
	if _, ok := Route(c, cfg.Producer); ok {
		t.Error("the router must not forward the saga's own cancellations")
	}
}

func TestValidateRequest(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		name string
		req  *marketv1.AnalysisRequested
		ok   bool
	}{
		{"defaults", &marketv1.AnalysisRequested{Keyword: "Kw"}, true},
		{"max pages", &marketv1.AnalysisRequested{Keyword: "kw", Pages: cfg.MaxPages}, true},
		{"nil", nil, false},
		{"blank keyword", &marketv1.AnalysisRequested{Keyword: " \t"}, false},
		{"long keyword", &marketv1.AnalysisRequested{Keyword: strings.Repeat("k", 201)}, false},
		{"negative pages", &marketv1.AnalysisRequested{Keyword: "kw", Pages: -1}, false},
		{"too many pages", &marketv1.AnalysisRequested{Keyword: "kw", Pages: cfg.MaxPages + 1}, false},
		{"invalid deadline", &marketv1.AnalysisRequested{Keyword: "kw", Deadline: &timestamppb.Timestamp{Nanos: -1}}, false},
	} {
		_, err := ValidateRequest(tc.req, cfg)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidRequest)) {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*Config){
		"same groups":    func(c *Config) { c.RouterGroup = c.Group },
		"unknown series": func(c *Config) { c.SummarySeries.Size = 3 * time.Hour },
		"no timeout":     func(c *Config) { c.ScrapeTimeout = 0 },
		"pages":          func(c *Config) { c.DefaultPages = c.MaxPages + 1 },
		"seen":           func(c *Config) { c.SeenEvents = 0 },
		"no events":      func(c *Config) { c.Events = "" },
	} {
		c := DefaultConfig()
		change(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
