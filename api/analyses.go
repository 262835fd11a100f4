package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/projections/clickhouse"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// AnalysisStatus is where an analysis stands, folded from its events.
type AnalysisStatus struct {
	ID        string    `json:"id"`
	Keyword   string    `json:"keyword,omitempty"`
	Step      string    `json:"step"`
	Progress  float64   `json:"progress"`
	Done      bool      `json:"done"`
	Failed    bool      `json:"failed"`
	Stale     bool      `json:"stale"`
	Detail    string    `json:"detail,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// Summary is the result's KeywordWindowStats as JSON (proto field names), once completed.
	Summary json.RawMessage `json:"summary,omitempty"`
}

// analysisFact is one transition of an analysis, as the events topic or the analyses table
// tells it: type requested, step_changed, completed or failed.
type analysisFact struct {
	typ, keyword, step, detail, reason string
	progress                           float64
	stale                              bool
	time                               time.Time
	summary                            json.RawMessage
}

// apply folds a fact into the status: progress never goes down, a failure stays a failure
// when its stale result follows, and nothing moves a finished analysis back.
func (s *AnalysisStatus) apply(f analysisFact) {
	if f.keyword != "" {
		s.Keyword = f.keyword
	}
	if f.time.After(s.UpdatedAt) {
		s.UpdatedAt = f.time.UTC()
	}
	switch f.typ {
	case "requested":
		if s.Step == "" {
			s.Step = "requested"
		}
	case "step_changed":
		if !s.Done {
			s.Step = f.step
			s.Detail = f.detail
		}
		s.Progress = max(s.Progress, f.progress)
	case "completed":
		s.Done, s.Progress = true, 1
		s.Stale = f.stale
		if !s.Failed {
			s.Step = "completed"
		}
		if len(f.summary) > 0 {
			s.Summary = f.summary
		}
	case "failed":
		s.Done, s.Failed, s.Step, s.Reason = true, true, "failed", f.reason
	}
}

// factOf reads the fact of an analysis event; ok is false for members that are not facts.
func factOf(ev *marketv1.AnalysisEvent) (analysisFact, bool) {
	f := analysisFact{time: ev.GetEnvelope().GetEventTime().AsTime()}
	switch e := ev.GetEvent().(type) {
	case *marketv1.AnalysisEvent_Requested:
		f.typ, f.keyword = "requested", e.Requested.GetKeyword()
	case *marketv1.AnalysisEvent_StepChanged:
		f.typ, f.step, f.progress, f.detail = "step_changed", clickhouse.EnumName(e.StepChanged.GetStep()), e.StepChanged.GetProgress(), e.StepChanged.GetDetail()
	case *marketv1.AnalysisEvent_Completed:
		f.typ, f.keyword, f.stale = "completed", e.Completed.GetKeyword(), e.Completed.GetStale()
		if s := e.Completed.GetSummary(); s != nil {
			if b, err := topics.MarshalJSON(s); err == nil {
				f.summary = b
			}
		}
	case *marketv1.AnalysisEvent_Failed:
		f.typ, f.reason = "failed", e.Failed.GetReason()
	default:
		return f, false
	}
	return f, true
}

// Tracker follows market.analysis-events.v1 from a while back and keeps the latest analyses'
// statuses in memory (bounded), telling a listener about every change.
type Tracker struct {
	cl       *kgo.Client
	statuses *LRU[string, *AnalysisStatus]
	mu       sync.Mutex
	onChange func(AnalysisStatus)
	log      *slog.Logger
	ready    chan struct{}
	once     sync.Once
}

// NewTracker returns a tracker reading topic through cl (a client made with the topic to
// consume, e.g. from an hour back); it keeps at most size analyses. A Server given the
// tracker forwards every change to its WebSocket clients.
func NewTracker(cl *kgo.Client, size int, log *slog.Logger) *Tracker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tracker{cl: cl, statuses: NewLRU[string, *AnalysisStatus](max(size, 16), 0), log: log, ready: make(chan struct{})}
}

// Ready is closed once the tracker has fetched for the first time.
func (t *Tracker) Ready() <-chan struct{} { return t.ready }

// Run follows the topic until ctx ends.
func (t *Tracker) Run(ctx context.Context) error {
	cat := topics.MustLookup(topics.AnalysisEvents)
	for {
		fs := t.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		t.once.Do(func() { close(t.ready) })
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				t.log.Warn("fetch analysis events", "topic", topic, "partition", p, "err", err)
			}
		})
		fs.EachRecord(func(r *kgo.Record) {
			m, err := topics.DecodeRecord(cat, r)
			if err != nil {
				return // the projections dead-letter what they cannot read
			}
			ev, ok := m.(*marketv1.AnalysisEvent)
			if !ok || ev.GetAnalysisId() == "" {
				return
			}
			t.Apply(ev)
		})
	}
}

// Apply folds one event into its analysis' status.
func (t *Tracker) Apply(ev *marketv1.AnalysisEvent) {
	f, ok := factOf(ev)
	if !ok {
		return
	}
	t.mu.Lock()
	st, ok := t.statuses.Get(ev.GetAnalysisId())
	if !ok {
		st = &AnalysisStatus{ID: ev.GetAnalysisId()}
		t.statuses.Add(st.ID, st)
	}
	st.apply(f)
	cp := *st
	onChange := t.onChange
	t.mu.Unlock()
	if onChange != nil {
		onChange(cp)
	}
}

// Status returns an analysis' status, if the tracker holds it.
func (t *Tracker) Status(id string) (AnalysisStatus, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.statuses.Get(id)
	if !ok {
		return AnalysisStatus{}, false
	}
	return *st, true
}

// AnalysisStatus folds an analysis' rows of the ClickHouse analyses table; nil when
// it has none.
func (h *History) AnalysisStatus(ctx context.Context, id string) (*AnalysisStatus, error) {
	facts, err := h.analysisFacts(ctx, id)
	if err != nil || len(facts) == 0 {
		return nil, err
	}
	st := &AnalysisStatus{ID: id}
	for _, f := range facts {
		st.apply(f)
	}
	return st, nil
}

// analysisRequest is the body of POST /api/v1/analyses.
type analysisRequest struct {
	Keyword     string `json:"keyword"`
	Pages       int32  `json:"pages"`
	Marketplace string `json:"marketplace"`
}

// newAnalysisEvent builds the AnalysisRequested event that starts an analysis.
func newAnalysisEvent(id, user string, req analysisRequest, now time.Time) *marketv1.AnalysisEvent {
	return &marketv1.AnalysisEvent{
		Envelope:   marketv1.NewEnvelope("api", id, now),
		AnalysisId: id,
		Event: &marketv1.AnalysisEvent_Requested{Requested: &marketv1.AnalysisRequested{
			Keyword: req.Keyword, Marketplace: req.Marketplace, Pages: req.Pages, UserId: user}},
	}
}
