package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/jobs"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Request describes a search job to ask for.
type Request struct {
	// JobID is the job's id; empty gets a new UUIDv7.
	JobID string
	// Keyword to search.
	Keyword string
	// Marketplace domain (default amazon.com).
	Marketplace string
	// Pages of results (default 1).
	Pages int
	// Queue is the priority.
	Queue jobs.Queue
	// RequestedBy says who asks ("cli", "schedule", "user:<id>").
	RequestedBy string
	// Deadline, when set, drops the job if it has not finished by then.
	Deadline time.Time
	// AnalysisID is the analysis the job belongs to, if any.
	AnalysisID string
	// Producer is the envelope's producer.
	Producer string
	// EventID is the request's event id; empty gets a new UUIDv7.
	EventID string
}

// NewRequest builds the ScrapeRequested of r at now (attempt 1).
func NewRequest(r Request, now time.Time) *marketv1.ScrapeRequested {
	if r.JobID == "" {
		r.JobID = marketv1.NewEventID()
	}
	if r.Marketplace == "" {
		r.Marketplace = "amazon.com"
	}
	corr := r.AnalysisID
	if corr == "" {
		corr = r.JobID
	}
	env := marketv1.NewEnvelope(r.Producer, corr, now)
	if r.EventID != "" {
		env.EventId = r.EventID
	}
	req := &marketv1.ScrapeRequested{Envelope: env, JobId: r.JobID, Kind: marketv1.ScrapeKind_SCRAPE_KIND_SEARCH,
		Marketplace: r.Marketplace, Keyword: jobs.NormalizeKeyword(r.Keyword), Pages: int32(max(r.Pages, 1)),
		Priority: r.Queue.Priority(), RequestedBy: r.RequestedBy, AnalysisId: r.AnalysisID, Attempt: 1}
	if !r.Deadline.IsZero() {
		req.Deadline = timestamppb.New(r.Deadline)
	}
	return req
}

// Enqueue produces a request on its priority's topic of ts (DefaultTopics when zero) and waits
// for it to be written.
func Enqueue(ctx context.Context, cl *kgo.Client, ts Topics, req *marketv1.ScrapeRequested) error {
	q := jobs.QueueOf(req.GetPriority())
	name := ts.Requests[q]
	if name == "" {
		name = DefaultTopics().Requests[q]
	}
	t := topics.MustLookup(DefaultTopics().Requests[q])
	t.Name = name
	rec, err := topics.NewRecord(t, req.GetJobId(), req)
	if err != nil {
		return fmt.Errorf("encode scrape request %s: %w", req.GetJobId(), err)
	}
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return fmt.Errorf("produce scrape request %s to %s: %w", req.GetJobId(), name, err)
	}
	return nil
}

// Follow reads the status topic from `since` and calls fn with every status of job, until a
// terminal status (see jobs.Terminal) or ctx ends; it returns the last status seen. cl must
// consume statusTopic (kgo.ConsumeTopics) from a time before the job was requested.
func Follow(ctx context.Context, cl *kgo.Client, statusTopic, job string, fn func(*marketv1.ScrapeStatusChanged)) (*marketv1.ScrapeStatusChanged, error) {
	t := topics.MustLookup(topics.ScrapeStatus)
	t.Name = statusTopic
	var last *marketv1.ScrapeStatusChanged
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return last, ctx.Err()
		}
		if fetches.IsClientClosed() {
			return last, errors.New("follow: client closed")
		}
		var ferr error
		fetches.EachError(func(topic string, p int32, err error) { ferr = fmt.Errorf("read %s/%d: %w", topic, p, err) })
		if ferr != nil {
			return last, ferr
		}
		var done bool
		fetches.EachRecord(func(r *kgo.Record) {
			if done || string(r.Key) != job {
				return
			}
			m, err := topics.DecodeRecord(t, r)
			if err != nil {
				return
			}
			st := m.(*marketv1.ScrapeStatusChanged)
			last = st
			if fn != nil {
				fn(st)
			}
			done = jobs.Terminal(st.GetStatus())
		})
		if done {
			return last, nil
		}
	}
}

// Tracked is one keyword the scheduler scrapes on its schedule.
type Tracked struct {
	// Keyword to search.
	Keyword string
	// Marketplace domain (default amazon.com).
	Marketplace string
}

// Scheduler requests the scrape of tracked keywords once per slot of a jobs.Schedule, with
// deterministic job ids, so two schedulers (or one restarted) ask for the same jobs and the
// workers run each once.
type Scheduler struct {
	// Client produces the requests.
	Client *kgo.Client
	// Topics are where the requests go (the Queue's topic).
	Topics Topics
	// Schedule gives the slots.
	Schedule jobs.Schedule
	// Keywords are the tracked keywords.
	Keywords []Tracked
	// Pages per job (default 1).
	Pages int
	// Priority of scheduled jobs; unspecified is normal.
	Priority marketv1.Priority
	// Producer is the envelope's producer (default "scheduler").
	Producer string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger logs (default discards).
	Logger *slog.Logger
}

// Run requests the current slot of every keyword at once, then each next slot when it starts,
// until ctx ends. Each job's deadline is the end of its keyword's next slot: a job may wait
// behind others for up to a period, but one not done when its successor's period ends is
// pointless. At most two jobs of a keyword are therefore pending at once.
func (s *Scheduler) Run(ctx context.Context) error {
	if err := s.Schedule.Validate(); err != nil {
		return err
	}
	now := s.Now
	if now == nil {
		now = time.Now
	}
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	producer := s.Producer
	if producer == "" {
		producer = "scheduler"
	}
	next := make([]time.Time, len(s.Keywords))
	for i, k := range s.Keywords {
		next[i] = s.Schedule.Slot(mpOr(k.Marketplace), k.Keyword, now())
	}
	for {
		soonest := time.Time{}
		for i, k := range s.Keywords {
			if !next[i].After(now()) {
				slot := next[i]
				mp := mpOr(k.Marketplace)
				id := jobs.ScheduledJobID(mp, k.Keyword, s.Pages, slot)
				req := NewRequest(Request{JobID: id, Keyword: k.Keyword, Marketplace: mp, Pages: s.Pages, Queue: jobs.QueueOf(s.Priority),
					RequestedBy: "schedule", Deadline: slot.Add(2 * s.Schedule.Every), Producer: producer,
					EventID: jobs.EventID(id, 1, "request")}, now())
				if err := Enqueue(ctx, s.Client, s.Topics, req); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					log.Error("schedule: request a scrape", "keyword", k.Keyword, "err", err)
				} else {
					log.Info("scheduled scrape requested", "keyword", k.Keyword, "marketplace", mp, "slot", slot, "job", id)
				}
				next[i] = s.Schedule.Next(mp, k.Keyword, slot)
			}
			if soonest.IsZero() || next[i].Before(soonest) {
				soonest = next[i]
			}
		}
		if len(s.Keywords) == 0 {
			<-ctx.Done()
			return nil
		}
		t := time.NewTimer(max(soonest.Sub(now()), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func mpOr(mp string) string {
	if mp == "" {
		return "amazon.com"
	}
	return mp
}
