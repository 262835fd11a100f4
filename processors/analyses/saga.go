package analyses

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/processors/keywords"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// KeywordLookup returns the keyword-windows state of a normalised keyword, or nil when the
// keyword has none.
type KeywordLookup func(keyword string) *marketv1.KeywordWindowsState

// Effects are what applying one input to an analysis produced.
type Effects struct {
	// State is the analysis after the input (the one passed in, updated, or a new one).
	State *marketv1.AnalysisState
	// Changed is true when State must be written.
	Changed bool
	// Delete is true when the analysis must leave the table (finished and past its retention).
	Delete bool
	// Events are the transitions to emit to the events topic, key analysis id, in order.
	Events []*marketv1.AnalysisEvent
	// Scrapes are the scrape jobs to request, key job id.
	Scrapes []*marketv1.ScrapeRequested
	// Cancels are the cancellations of pending scrape jobs to emit to the scrape-status topic,
	// key job id.
	Cancels []*marketv1.ScrapeStatusChanged
	// Ignored says why the input made no transition ("" when it made one); the state may still
	// have changed (a status without progress is remembered as seen).
	Ignored string
}

// Reasons an input is ignored, the values of Effects.Ignored.
const (
	IgnoredDuplicate  = "duplicate"
	IgnoredUnknown    = "unknown_analysis"
	IgnoredFinished   = "finished"
	IgnoredOtherJob   = "other_job"
	IgnoredNotDue     = "not_due"
	IgnoredOwnEvent   = "own_event"
	IgnoredNoProgress = "no_progress"
)

// Progress milestones of an analysis in [0, 1].
const (
	progressRequested  = 0.05
	progressQueued     = 0.1
	progressScraped    = 0.8
	progressAggregated = 0.85
)

// ErrInvalidRequest is wrapped by the reasons of requests the saga refuses.
var ErrInvalidRequest = errors.New("invalid analysis request")

// Apply applies one input — an AnalysisEvent of the events topic or of the loopback — to an
// analysis' state (nil for an analysis not seen before) at processing time now, and returns the
// new state and what to emit. lookup is called only when the keyword's window is needed. The
// state is updated in place.
func Apply(st *marketv1.AnalysisState, id string, ev *marketv1.AnalysisEvent, now time.Time, lookup KeywordLookup, cfg Config) Effects {
	s := &saga{cfg: &cfg, id: id, now: now, lookup: lookup, cause: ev.GetEnvelope()}
	switch m := ev.GetEvent().(type) {
	case *marketv1.AnalysisEvent_Requested:
		return s.requested(st, m.Requested)
	case *marketv1.AnalysisEvent_ScrapeStatus:
		return s.scrapeStatus(st, m.ScrapeStatus)
	case *marketv1.AnalysisEvent_Tick:
		if t := m.Tick.GetNow(); t != nil {
			s.now = t.AsTime()
		}
		return s.tick(st)
	default: // the saga's own transitions, or a member this version does not know
		return Effects{State: st, Ignored: IgnoredOwnEvent}
	}
}

// saga is one Apply.
type saga struct {
	cfg    *Config
	id     string
	now    time.Time
	lookup KeywordLookup
	cause  *marketv1.Envelope
	out    Effects
}

// NormalizeKeyword returns the form keywords are keyed by in the keyword windows: lower case,
// inner white space collapsed to one space, trimmed.
func NormalizeKeyword(k string) string { return strings.Join(strings.Fields(strings.ToLower(k)), " ") }

// Finished reports whether an analysis has completed or failed.
func Finished(st *marketv1.AnalysisState) bool {
	switch st.GetStep() {
	case marketv1.AnalysisStep_ANALYSIS_STEP_COMPLETED, marketv1.AnalysisStep_ANALYSIS_STEP_FAILED:
		return true
	}
	return false
}

// ValidateRequest returns the request as the saga runs it (keyword normalised, marketplace and
// pages defaulted) or an error wrapping ErrInvalidRequest.
func ValidateRequest(req *marketv1.AnalysisRequested, cfg Config) (*marketv1.AnalysisRequested, error) {
	if req == nil {
		return nil, fmt.Errorf("%w: no request", ErrInvalidRequest)
	}
	kw := NormalizeKeyword(req.GetKeyword())
	if kw == "" {
		return nil, fmt.Errorf("%w: keyword is empty", ErrInvalidRequest)
	}
	if len(kw) > 200 {
		return nil, fmt.Errorf("%w: keyword is %d bytes long, at most 200", ErrInvalidRequest, len(kw))
	}
	pages := req.GetPages()
	if pages == 0 {
		pages = cfg.DefaultPages
	}
	if pages < 1 || pages > cfg.MaxPages {
		return nil, fmt.Errorf("%w: pages %d not in 1..%d", ErrInvalidRequest, req.GetPages(), cfg.MaxPages)
	}
	if d := req.GetDeadline(); d != nil && d.CheckValid() != nil {
		return nil, fmt.Errorf("%w: deadline: %w", ErrInvalidRequest, d.CheckValid())
	}
	mp := strings.ToLower(strings.TrimSpace(req.GetMarketplace()))
	if mp == "" {
		mp = cfg.Marketplace
	}
	return &marketv1.AnalysisRequested{Keyword: kw, Marketplace: mp, Pages: pages, UserId: req.GetUserId(), Deadline: req.GetDeadline()}, nil
}

// requested starts an analysis: it requests the scrape job and waits for it.
func (s *saga) requested(st *marketv1.AnalysisState, req *marketv1.AnalysisRequested) Effects {
	if st != nil {
		return Effects{State: st, Ignored: IgnoredDuplicate}
	}
	st = &marketv1.AnalysisState{
		AnalysisId:  s.id,
		Request:     req,
		Step:        marketv1.AnalysisStep_ANALYSIS_STEP_REQUESTED,
		RequestedAt: s.cause.GetEventTime(),
		StepStarted: timestamppb.New(s.now),
	}
	if st.RequestedAt == nil {
		st.RequestedAt = timestamppb.New(s.now)
	}
	s.out.State = st
	s.seen(st)
	valid, err := ValidateRequest(req, *s.cfg)
	if err != nil {
		s.fail(st, err.Error(), marketv1.AnalysisStep_ANALYSIS_STEP_REQUESTED, false)
		return s.out
	}
	st.Request = valid
	if d := valid.GetDeadline(); d != nil && !s.now.Before(d.AsTime()) {
		s.fail(st, fmt.Sprintf("the request's deadline %s had passed when the analysis started", d.AsTime().UTC().Format(time.RFC3339)),
			marketv1.AnalysisStep_ANALYSIS_STEP_REQUESTED, true)
		return s.out
	}
	st.ScrapeAttempt = 1
	job := JobID(s.id, st.ScrapeAttempt)
	st.PendingJobIds = []string{job}
	st.ScrapeRequestedAt = timestamppb.New(s.now)
	s.enter(st, marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING, s.cfg.ScrapeTimeout)
	st.Progress = progressRequested
	s.out.Scrapes = append(s.out.Scrapes, &marketv1.ScrapeRequested{
		Envelope:    s.envelope(nameID(nsScrape, job, "requested")),
		JobId:       job,
		Kind:        marketv1.ScrapeKind_SCRAPE_KIND_SEARCH,
		Marketplace: valid.GetMarketplace(),
		Keyword:     valid.GetKeyword(),
		Pages:       valid.GetPages(),
		Priority:    marketv1.Priority_PRIORITY_HIGH,
		RequestedBy: "analysis:" + s.id,
		Deadline:    st.StepDeadline,
		AnalysisId:  s.id,
		Attempt:     st.ScrapeAttempt,
	})
	s.stepChanged(st, fmt.Sprintf("scrape of %d pages of '%s' on %s requested", valid.GetPages(), valid.GetKeyword(), valid.GetMarketplace()), st.PendingJobIds)
	return s.out
}

// scrapeStatus follows the analysis' scrape job.
func (s *saga) scrapeStatus(st *marketv1.AnalysisState, ss *marketv1.ScrapeStatusChanged) Effects {
	s.out.State = st
	switch {
	case st == nil:
		s.out.Ignored = IgnoredUnknown
		return s.out
	case s.cause.GetEventId() != "" && slices.Contains(st.SeenEventIds, s.cause.GetEventId()):
		s.out.Ignored = IgnoredDuplicate
		return s.out
	case Finished(st):
		s.out.Ignored = IgnoredFinished
		return s.out
	case !slices.Contains(st.PendingJobIds, ss.GetJobId()):
		s.out.Ignored = IgnoredOtherJob
		return s.out
	}
	s.seen(st)
	switch ss.GetStatus() {
	case marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED:
		st.PendingJobIds = slices.DeleteFunc(st.PendingJobIds, func(j string) bool { return j == ss.GetJobId() })
		st.DoneJobIds = append(st.DoneJobIds, ss.GetJobId())
		st.ScrapeStatus = ss.GetStatus()
		// The job's pages include the product pages of its new or changed products, which are
		// not search pages: the window holds at most the search pages the analysis asked for.
		st.PagesScraped = max(ss.GetPagesDone(), 0)
		if want := st.GetRequest().GetPages(); want > 0 {
			st.PagesScraped = min(st.PagesScraped, want)
		}
		st.ScrapeFinishedAt = ss.GetEnvelope().GetEventTime()
		if st.ScrapeFinishedAt == nil {
			st.ScrapeFinishedAt = timestamppb.New(s.now)
		}
		if len(st.PendingJobIds) > 0 {
			return s.out // (one job per analysis today)
		}
		s.enter(st, marketv1.AnalysisStep_ANALYSIS_STEP_AGGREGATING, s.cfg.AggregateTimeout)
		st.Progress = max(st.Progress, progressAggregated)
		s.stepChanged(st, fmt.Sprintf("scrape done: %d pages, %d listings; waiting for the keyword's window to include them",
			ss.GetPagesDone(), ss.GetListingsObserved()), st.DoneJobIds)
		s.aggregate(st)
		return s.out
	case marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED, marketv1.ScrapeStatus_SCRAPE_STATUS_BLOCKED,
		marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED, marketv1.ScrapeStatus_SCRAPE_STATUS_STALE:
		st.PendingJobIds = slices.DeleteFunc(st.PendingJobIds, func(j string) bool { return j == ss.GetJobId() })
		st.ScrapeStatus = ss.GetStatus()
		s.fail(st, scrapeFailure(ss), marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING, true)
		return s.out
	case marketv1.ScrapeStatus_SCRAPE_STATUS_QUEUED, marketv1.ScrapeStatus_SCRAPE_STATUS_RUNNING, marketv1.ScrapeStatus_SCRAPE_STATUS_RETRYING:
		p := progressQueued
		if total := ss.GetPagesTotal(); total > 0 && ss.GetStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_QUEUED {
			done := min(max(ss.GetPagesDone(), 0), total)
			p += (progressScraped - progressQueued) * float64(done) / float64(total)
		}
		statusChanged := ss.GetStatus() != st.ScrapeStatus
		st.ScrapeStatus = ss.GetStatus()
		if p <= st.Progress && !statusChanged {
			s.out.Ignored = IgnoredNoProgress
			return s.out // the state still changed: the status' id is remembered
		}
		st.Progress = max(st.Progress, p)
		s.stepChanged(st, scrapeDetail(ss), st.PendingJobIds)
		return s.out
	default:
		s.out.Ignored = IgnoredNoProgress
		return s.out
	}
}

// tick times out a step, looks at the keyword's window again, or deletes a finished analysis
// past its retention.
func (s *saga) tick(st *marketv1.AnalysisState) Effects {
	s.out.State = st
	if st == nil {
		s.out.Ignored = IgnoredUnknown
		return s.out
	}
	if Finished(st) {
		if f := st.GetFinishedAt(); f != nil && !s.now.Before(f.AsTime().Add(s.cfg.Retention)) {
			s.out.Delete = true
			return s.out
		}
		s.out.Ignored = IgnoredNotDue
		return s.out
	}
	if st.GetStep() == marketv1.AnalysisStep_ANALYSIS_STEP_AGGREGATING && s.aggregate(st) {
		return s.out
	}
	d := st.GetStepDeadline()
	if d == nil || s.now.Before(d.AsTime()) {
		s.out.Ignored = IgnoredNotDue
		return s.out
	}
	s.fail(st, s.timeoutReason(st), st.GetStep(), true)
	return s.out
}

// timeoutReason says which limit an analysis' current step ran into.
func (s *saga) timeoutReason(st *marketv1.AnalysisState) string {
	if rd := st.GetRequest().GetDeadline(); rd != nil && !rd.AsTime().After(st.GetStepDeadline().AsTime()) {
		return fmt.Sprintf("the request's deadline %s passed during step %s", rd.AsTime().UTC().Format(time.RFC3339), stepName(st.GetStep()))
	}
	switch st.GetStep() {
	case marketv1.AnalysisStep_ANALYSIS_STEP_SCRAPING:
		last := "no status from a worker"
		if st.GetScrapeStatus() != marketv1.ScrapeStatus_SCRAPE_STATUS_UNSPECIFIED {
			last = "last status " + statusName(st.GetScrapeStatus())
		}
		return fmt.Sprintf("scrape timed out after %v (%s)", s.cfg.ScrapeTimeout, last)
	case marketv1.AnalysisStep_ANALYSIS_STEP_AGGREGATING:
		return fmt.Sprintf("the keyword's window did not include the scrape's %d pages within %v", st.GetPagesScraped(), s.cfg.AggregateTimeout)
	default:
		return fmt.Sprintf("step %s timed out", stepName(st.GetStep()))
	}
}

// aggregate completes the analysis when the keyword's window includes the scrape, and reports
// whether it did.
func (s *saga) aggregate(st *marketv1.AnalysisState) bool {
	kw := s.keyword(st)
	if !Includes(kw, st, s.cfg.ClockSkew) {
		return false
	}
	u, ok := keywords.CurrentWindow(kw, s.cfg.SummarySeries, s.cfg.Keywords)
	if !ok {
		return false
	}
	s.enter(st, marketv1.AnalysisStep_ANALYSIS_STEP_COMPLETED, 0)
	st.Progress = 1
	st.FinishedAt = timestamppb.New(s.now)
	st.Result = s.result(st, u, false)
	s.emit(st, &marketv1.AnalysisEvent_Completed{Completed: st.Result})
	return true
}

// Includes reports whether a keyword's windows include the pages of an analysis' scrape: at
// least as many search pages as the job reported done, capped by the pages the analysis asked
// for (the job's count includes product pages), at least one, with event times between the
// saga's request of the job and the job's success, widened by the clock skew.
func Includes(kw *marketv1.KeywordWindowsState, st *marketv1.AnalysisState, skew time.Duration) bool {
	if kw == nil || st.GetScrapeRequestedAt() == nil || st.GetScrapeFinishedAt() == nil {
		return false
	}
	from := st.GetScrapeRequestedAt().AsTime().Add(-skew)
	to := st.GetScrapeFinishedAt().AsTime().Add(skew + time.Millisecond)
	return keywords.PagesBetween(kw, from, to) >= int(max(st.GetPagesScraped(), 1))
}

// fail compensates: it cancels the pending scrape jobs, marks the analysis failed with the
// reason, and serves the keyword's last window flagged stale when there is one (and stale is
// true).
func (s *saga) fail(st *marketv1.AnalysisState, reason string, step marketv1.AnalysisStep, stale bool) {
	cancelled := slices.Clone(st.PendingJobIds)
	for _, job := range cancelled {
		s.out.Cancels = append(s.out.Cancels, &marketv1.ScrapeStatusChanged{
			Envelope:   s.envelope(nameID(nsScrape, job, "cancelled")),
			JobId:      job,
			Status:     marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED,
			Attempt:    st.GetScrapeAttempt(),
			Reason:     fmt.Sprintf("analysis %s failed: %s", s.id, reason),
			Keyword:    st.GetRequest().GetKeyword(),
			AnalysisId: s.id,
		})
	}
	st.PendingJobIds = nil
	st.FailureReason = reason
	st.FailedStep = step
	s.enter(st, marketv1.AnalysisStep_ANALYSIS_STEP_FAILED, 0)
	st.FinishedAt = timestamppb.New(s.now)
	if stale {
		if u, ok := s.staleWindow(st); ok {
			st.Result = s.result(st, u, true)
		}
	}
	s.emit(st, &marketv1.AnalysisEvent_Failed{Failed: &marketv1.AnalysisFailed{
		Reason:               reason,
		FailedStep:           step,
		CancelledJobIds:      cancelled,
		StaleResultAvailable: st.Result != nil,
	}})
	if st.Result != nil {
		s.emit(st, &marketv1.AnalysisEvent_Completed{Completed: st.Result})
	}
}

// staleWindow returns the keyword's last window with pages, trying the configured series.
func (s *saga) staleWindow(st *marketv1.AnalysisState) (*marketv1.KeywordWindowUpdated, bool) {
	kw := s.keyword(st)
	for _, sr := range s.cfg.StaleSeries {
		if u, ok := keywords.CurrentWindow(kw, sr, s.cfg.Keywords); ok && u.GetPagesObserved() > 0 {
			return u, true
		}
	}
	return nil, false
}

func (s *saga) keyword(st *marketv1.AnalysisState) *marketv1.KeywordWindowsState {
	if s.lookup == nil || st.GetRequest().GetKeyword() == "" {
		return nil
	}
	return s.lookup(st.GetRequest().GetKeyword())
}

func (s *saga) result(st *marketv1.AnalysisState, u *marketv1.KeywordWindowUpdated, stale bool) *marketv1.AnalysisCompleted {
	return &marketv1.AnalysisCompleted{
		Keyword:    st.GetRequest().GetKeyword(),
		Window:     u.GetWindow(),
		Summary:    u.GetStats(),
		Stale:      stale,
		DurationMs: max(s.now.Sub(st.GetRequestedAt().AsTime()).Milliseconds(), 0),
	}
}

// enter moves the analysis to a step whose timeout is timeout (0: none), capped by the
// request's deadline.
func (s *saga) enter(st *marketv1.AnalysisState, step marketv1.AnalysisStep, timeout time.Duration) {
	st.Step = step
	st.StepStarted = timestamppb.New(s.now)
	st.StepDeadline = nil
	if timeout <= 0 {
		return
	}
	d := s.now.Add(timeout)
	if rd := st.GetRequest().GetDeadline(); rd != nil && rd.AsTime().Before(d) {
		d = rd.AsTime()
	}
	st.StepDeadline = timestamppb.New(d)
}

// stepChanged emits the analysis' current step and progress.
func (s *saga) stepChanged(st *marketv1.AnalysisState, detail string, jobs []string) {
	s.emit(st, &marketv1.AnalysisEvent_StepChanged{StepChanged: &marketv1.AnalysisStepChanged{
		Step: st.GetStep(), Progress: st.GetProgress(), Detail: detail, JobIds: slices.Clone(jobs),
	}})
}

// emit appends a transition: the first of an Apply increments the state's version; the event
// id is derived from the analysis id, that version and the event's index.
func (s *saga) emit(st *marketv1.AnalysisState, ev any) {
	if len(s.out.Events) == 0 {
		st.Version++
	}
	e := &marketv1.AnalysisEvent{
		Envelope:   s.envelope(nameID(nsEvent, s.id, fmt.Sprintf("%d/%d", st.GetVersion(), len(s.out.Events)))),
		AnalysisId: s.id,
	}
	switch m := ev.(type) {
	case *marketv1.AnalysisEvent_StepChanged:
		e.Event = m
	case *marketv1.AnalysisEvent_Completed:
		e.Event = m
	case *marketv1.AnalysisEvent_Failed:
		e.Event = m
	}
	s.out.Events = append(s.out.Events, e)
	s.out.Changed = true
}

// seen remembers the input's event id and marks the state changed.
func (s *saga) seen(st *marketv1.AnalysisState) {
	s.out.Changed = true
	id := s.cause.GetEventId()
	if id == "" {
		return
	}
	st.SeenEventIds = append(st.SeenEventIds, id)
	if n := len(st.SeenEventIds) - s.cfg.SeenEvents; n > 0 {
		st.SeenEventIds = slices.Delete(st.SeenEventIds, 0, n)
	}
}

func (s *saga) envelope(id string) *marketv1.Envelope {
	return &marketv1.Envelope{
		EventId:       id,
		EventTime:     timestamppb.New(s.now),
		Producer:      s.cfg.Producer,
		SchemaVersion: marketv1.SchemaVersion,
		CorrelationId: s.id,
		CausationId:   s.cause.GetEventId(),
	}
}

// scrapeFailure is the reason an analysis fails with when its scrape job ended without pages.
func scrapeFailure(ss *marketv1.ScrapeStatusChanged) string {
	why := ss.GetReason()
	if why == "" {
		why = "no reason given"
	}
	switch ss.GetStatus() {
	case marketv1.ScrapeStatus_SCRAPE_STATUS_BLOCKED:
		return "the marketplace blocked the scrape: " + why
	case marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED:
		return "the scrape job was cancelled: " + why
	case marketv1.ScrapeStatus_SCRAPE_STATUS_STALE:
		return fmt.Sprintf("the marketplace is unavailable (breaker %s), the scrape answered from its last result: %s", orUnknown(ss.GetBreakerState()), why)
	default:
		return "the scrape failed: " + why
	}
}

// scrapeDetail describes a scrape job's progress.
func scrapeDetail(ss *marketv1.ScrapeStatusChanged) string {
	switch ss.GetStatus() {
	case marketv1.ScrapeStatus_SCRAPE_STATUS_QUEUED:
		return "scrape queued"
	case marketv1.ScrapeStatus_SCRAPE_STATUS_RETRYING:
		return fmt.Sprintf("scrape retrying (attempt %d): %s", ss.GetAttempt(), orUnknown(ss.GetReason()))
	default:
		return fmt.Sprintf("scraping: page %d of %d, %d listings", ss.GetPagesDone(), ss.GetPagesTotal(), ss.GetListingsObserved())
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// stepName is a step without its enum prefix, lower case: "scraping".
func stepName(s marketv1.AnalysisStep) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "ANALYSIS_STEP_"))
}

// statusName is a scrape status without its enum prefix, lower case: "running".
func statusName(s marketv1.ScrapeStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "SCRAPE_STATUS_"))
}
