package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/jobs"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Worker consumes scrape requests and runs them; see the package documentation.
type Worker struct {
	cfg Config
	log *slog.Logger
	cl  *kgo.Client
	m   *metrics
	t   struct {
		status, search, products topics.Topic
		requests                 [jobs.NumQueues]topics.Topic
	}
	queueOf map[string]jobs.Queue

	offsets *offsets
	cancels *cancellations
	fpMu    sync.Mutex
	fps     *jobs.Fingerprints
	last    *lru[*lastPage]
	done    *lru[struct{}] // jobID/attempt of attempts that ended

	mu      sync.Mutex
	queues  [jobs.NumQueues][]*pending
	paused  [jobs.NumQueues]bool
	picker  *jobs.Picker
	active  map[string]*pending // jobID/attempt accepted and not ended, with their duplicates
	running int

	wake       chan struct{}
	stopping   chan struct{}
	jobCtx     context.Context
	cancelJobs context.CancelFunc
	jobs       sync.WaitGroup
	runOnce    sync.Once
}

// pending is an accepted request record.
type pending struct {
	rec   *kgo.Record
	req   *marketv1.ScrapeRequested
	queue jobs.Queue
	gen   uint64
	key   string
	dups  []*pending // later records of the same attempt, done when this one is
}

// New builds a worker whose consumer joins cfg.Group on the brokers of kcfg.
func New(kcfg config.Kafka, cfg Config) (*Worker, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	w := &Worker{
		cfg: cfg, log: cfg.Logger, m: newMetrics(cfg.Registerer),
		queueOf: map[string]jobs.Queue{},
		offsets: newOffsets(), fps: jobs.NewFingerprints(cfg.RememberProducts),
		last: newLRU[*lastPage](cfg.RememberPages), done: newLRU[struct{}](10000),
		picker: jobs.NewPicker(cfg.Weights), active: map[string]*pending{},
		wake: make(chan struct{}, 1), stopping: make(chan struct{}),
	}
	w.jobCtx, w.cancelJobs = context.WithCancel(context.Background())
	named := func(catalog, name string) topics.Topic {
		t := topics.MustLookup(catalog)
		t.Name = name
		return t
	}
	w.t.status = named(topics.ScrapeStatus, cfg.Topics.Status)
	w.t.search = named(topics.SearchResults, cfg.Topics.SearchResults)
	w.t.products = named(topics.ProductObservations, cfg.Topics.Products)
	def := DefaultTopics()
	for q := range jobs.NumQueues {
		w.t.requests[q] = named(def.Requests[q], cfg.Topics.Requests[q])
		w.queueOf[cfg.Topics.Requests[q]] = q
	}
	cl, err := kafkaclient.New(kcfg, cfg.Logger,
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topics.Requests[:]...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		// No rebalance between a poll and the acceptance of its records: revoke callbacks never
		// race the accepting of records of the partitions they take away.
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, lost map[string][]int32) { w.release(ctx, lost, true) }),
		kgo.OnPartitionsLost(func(ctx context.Context, cl *kgo.Client, lost map[string][]int32) { w.release(ctx, lost, false) }),
	)
	if err != nil {
		return nil, fmt.Errorf("scrape worker: %w", err)
	}
	w.cl = cl
	if w.cancels, err = newCancellations(kcfg, w); err != nil {
		cl.Close()
		return nil, fmt.Errorf("scrape worker: %w", err)
	}
	return w, nil
}

// Run consumes and runs jobs until ctx ends, then shuts down: it stops taking jobs, hands back
// the queued ones, waits up to ShutdownGrace for running jobs (then cancels them and hands them
// back too), commits what finished, leaves the group and closes the client. It returns once
// every goroutine it started has returned. A Worker runs once.
func (w *Worker) Run(ctx context.Context) error {
	err := errors.New("worker: Run called twice")
	w.runOnce.Do(func() { err = w.run(ctx) })
	return err
}

func (w *Worker) run(ctx context.Context) error {
	var bg sync.WaitGroup
	bg.Go(func() { w.dispatch(ctx) })
	bg.Go(func() { w.commitLoop(ctx) })
	bg.Go(func() { w.cancels.run(ctx) })
	w.log.Info("scrape worker started", "group", w.cfg.Group, "topics", w.cfg.Topics.Requests, "concurrency", w.cfg.Concurrency,
		"weights", w.cfg.Weights.String())
	for {
		fetches := w.cl.PollRecords(ctx, 64)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			w.cl.AllowRebalance() // leaving the group at Close is a rebalance too
			break
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				w.log.Warn("scrape requests: fetch", "topic", topic, "partition", p, "err", err)
			}
		})
		fetches.EachRecord(func(r *kgo.Record) { w.accept(ctx, r) })
		w.cl.AllowRebalance()
	}
	close(w.stopping)
	bg.Wait()
	w.mu.Lock()
	handedBack := 0
	for q := range w.queues {
		for _, p := range w.queues[q] {
			delete(w.active, p.key)
			handedBack++
		}
		w.queues[q] = nil
	}
	w.mu.Unlock()
	finished := make(chan struct{})
	go func() { w.jobs.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(w.cfg.ShutdownGrace):
		w.log.Warn("scrape worker: jobs still running after the shutdown grace; handing them back", "grace", w.cfg.ShutdownGrace)
		w.cancelJobs()
		<-finished
	}
	w.cancelJobs()
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.commit(cctx, nil); err != nil {
		w.log.Warn("scrape worker: final commit", "err", err)
	}
	w.cl.Close()
	w.cancels.close()
	w.log.Info("scrape worker stopped", "handed_back", handedBack)
	return nil
}

// Close releases the client of a worker that never ran.
func (w *Worker) Close() {
	w.runOnce.Do(func() { w.cl.Close(); w.cancels.close() })
}

// accept decodes a request record and queues it, or ends it at once (undecodable, a duplicate,
// past its deadline).
func (w *Worker) accept(ctx context.Context, r *kgo.Record) {
	q, ok := w.queueOf[r.Topic]
	if !ok {
		return
	}
	p := &pending{rec: r, queue: q, gen: w.offsets.accept(tp{r.Topic, r.Partition}, r.Offset, r.LeaderEpoch)}
	msg, err := topics.DecodeRecord(w.t.requests[q], r)
	if err == nil {
		p.req = msg.(*marketv1.ScrapeRequested)
		if p.req.GetJobId() == "" {
			err = errors.New("scrape request without a job id")
		}
	}
	if err != nil {
		w.log.Warn("scrape request undecodable: dead-lettered", "topic", r.Topic, "offset", r.Offset, "err", err)
		if err := w.produce(ctx, w.deadLetter(r, err)); err != nil {
			w.log.Error("dead-letter an undecodable request", "err", err)
			return // not done: redelivered
		}
		w.finish(p)
		return
	}
	p.key = p.req.GetJobId() + "/" + strconv.Itoa(int(max(p.req.GetAttempt(), 1)))
	if _, ok := w.done.get(p.key); ok {
		w.log.Debug("scrape request already run", "job", p.req.GetJobId(), "attempt", p.req.GetAttempt())
		w.finish(p)
		return
	}
	if w.cancels.isCancelled(p.req.GetJobId()) {
		w.log.Info("scrape request of a cancelled job dropped", "job", p.req.GetJobId())
		w.finish(p)
		return
	}
	w.mu.Lock()
	if a, ok := w.active[p.key]; ok {
		a.dups = append(a.dups, p)
		w.mu.Unlock()
		return
	}
	w.active[p.key] = p
	w.mu.Unlock()
	if dl := p.req.GetDeadline(); dl != nil && !w.cfg.Now().Before(dl.AsTime()) {
		a := newAttempt(w, p.req)
		st := a.status(marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED, "deadline "+dl.AsTime().UTC().Format(time.RFC3339)+" passed before the job started; dropped")
		if err := w.produce(ctx, st); err != nil {
			w.handBack(p)
			return
		}
		w.m.job("failed", 0)
		w.end(p)
		return
	}
	w.produceAsync(newAttempt(w, p.req).status(marketv1.ScrapeStatus_SCRAPE_STATUS_QUEUED, ""))
	w.mu.Lock()
	w.queues[q] = append(w.queues[q], p)
	if len(w.queues[q]) >= w.cfg.QueueLimit && !w.paused[q] {
		w.paused[q] = true
		w.cl.PauseFetchTopics(r.Topic)
	}
	w.m.depth(q.String(), len(w.queues[q]))
	w.mu.Unlock()
	w.signal()
}

func (w *Worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// dispatch starts queued jobs, Concurrency at a time, choosing the queue by weight.
func (w *Worker) dispatch(ctx context.Context) {
	for {
		w.mu.Lock()
		var nonEmpty [jobs.NumQueues]bool
		for q := range w.queues {
			nonEmpty[q] = len(w.queues[q]) > 0
		}
		var p *pending
		if w.running < w.cfg.Concurrency {
			if q, ok := w.picker.Pick(nonEmpty); ok {
				p = w.queues[q][0]
				w.queues[q] = w.queues[q][1:]
				w.m.depth(q.String(), len(w.queues[q]))
				if w.paused[q] && len(w.queues[q]) < w.cfg.QueueLimit {
					w.paused[q] = false
					w.cl.ResumeFetchTopics(w.cfg.Topics.Requests[q])
				}
				w.running++
				w.m.setRunning(w.running)
			}
		}
		w.mu.Unlock()
		if p == nil {
			select {
			case <-w.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		w.jobs.Go(func() {
			after := w.runJob(p)
			w.mu.Lock()
			w.running--
			w.m.setRunning(w.running)
			w.mu.Unlock()
			w.signal()
			if after != nil {
				after()
			}
		})
	}
}

// runJob runs one attempt and produces its events; it returns the wait for a retry (run outside
// the job's slot), or nil.
func (w *Worker) runJob(p *pending) (after func()) {
	req := p.req
	a := newAttempt(w, req)
	ctx := w.jobCtx
	deadline := time.Time{}
	if dl := req.GetDeadline(); dl != nil {
		deadline = dl.AsTime()
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	log := w.log.With("job", req.GetJobId(), "attempt", a.number(), "keyword", a.keyword, "priority", p.queue.String())
	if w.cancels.isCancelled(req.GetJobId()) {
		log.Info("scrape job cancelled before it started")
		w.end(p)
		return nil
	}
	if !deadline.IsZero() && !w.cfg.Now().Before(deadline) {
		reason := "deadline " + deadline.UTC().Format(time.RFC3339) + " passed while the job was queued; dropped"
		if err := w.produce(w.jobCtx, a.status(marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED, reason)); err != nil {
			w.handBack(p)
			return nil
		}
		log.Info("scrape job past its deadline", "reason", reason)
		w.m.job("failed", 0)
		w.end(p)
		return nil
	}
	ctx, release := w.cancels.watch(ctx, req.GetJobId())
	defer release()
	out := a.run(ctx)
	elapsed := w.cfg.Now().Sub(a.started)
	if w.jobCtx.Err() != nil || (w.isStopping() && (out.err != nil || a.failed > 0)) {
		// During a shutdown only a clean success counts: a failure may be the shutdown's (the
		// browser gone, connections closed), so the next owner runs the attempt again.
		log.Info("scrape job handed back at shutdown", "err", out.err, "failed_pages", a.failed)
		w.handBack(p)
		return nil
	}
	if errors.Is(context.Cause(ctx), errCancelled) {
		reason := fmt.Sprintf("cancelled while running, after %d of %d pages; nothing observed", a.pagesDone, a.pagesTotal)
		if err := w.produce(w.jobCtx, a.status(marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED, reason)); err != nil {
			w.handBack(p)
			return nil
		}
		log.Info("scrape job cancelled", "reason", reason)
		w.m.job("cancelled", elapsed.Seconds())
		w.end(p)
		return nil
	}
	if !deadline.IsZero() && !w.cfg.Now().Before(deadline) {
		out = outcome{err: fmt.Errorf("deadline %s passed after %d of %d pages; dropped", deadline.UTC().Format(time.RFC3339), a.pagesDone, a.pagesTotal)}
		if err := w.produce(w.jobCtx, a.status(marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED, out.err.Error())); err != nil {
			w.handBack(p)
			return nil
		}
		log.Info("scrape job past its deadline", "reason", out.err)
		w.m.job("failed", elapsed.Seconds())
		w.end(p)
		return nil
	}
	if out.err == nil {
		if err := w.produce(w.jobCtx, a.records...); err != nil {
			out = outcome{err: fmt.Errorf("produce the job's %d events: %w", len(a.records), err)}
		}
	}
	if out.err == nil {
		// Remember first: whoever reads the final status and asks again finds the memory updated.
		w.remember(a)
		if err := w.produce(w.jobCtx, a.status(out.status, out.reason)); err != nil {
			log.Error("produce the final status", "err", err)
			w.handBack(p)
			return nil
		}
		log.Info("scrape job done", "status", out.status.String(), "pages", a.pagesDone, "listings", a.listings,
			"events", len(a.records), "seconds", elapsed.Seconds(), "reason", out.reason)
		w.m.job(statusLabel(out.status), elapsed.Seconds())
		w.end(p)
		return nil
	}
	d := w.cfg.Retry.Decide(int(a.number()), classify(out.err), rand.Float64(), w.cfg.Now(), deadline)
	reason := reasonOf(out.err) + " (" + d.Why + ")"
	log.Info("scrape job attempt failed", "status", d.Status.String(), "reason", reason)
	w.m.job(statusLabel(d.Status), elapsed.Seconds())
	if !d.Retry {
		// The dead letter first: a reader of the final status finds it written.
		if d.DeadLetter {
			if err := w.produce(w.jobCtx, w.deadLetter(p.rec, errors.New(reason))); err != nil {
				log.Error("dead-letter the failed job", "err", err)
				w.handBack(p)
				return nil
			}
		}
		if err := w.produce(w.jobCtx, a.status(d.Status, reason)); err != nil {
			log.Error("produce the failed job's status", "err", err)
			w.handBack(p)
			return nil
		}
		w.end(p)
		return nil
	}
	if err := w.produce(w.jobCtx, a.status(d.Status, reason)); err != nil {
		w.handBack(p)
		return nil
	}
	return func() { w.retryLater(p, a, d.Delay, log) }
}

// retryLater re-requests the job with attempt+1 after delay; the request's offset is committed
// only then, so a shutdown during the wait hands the attempt back.
func (w *Worker) retryLater(p *pending, a *attempt, delay time.Duration, log *slog.Logger) {
	cancelled, stopped := w.cancels.sleep(p.req.GetJobId(), delay, w.stopping)
	if stopped {
		w.handBack(p)
		return
	}
	if cancelled {
		log.Info("scrape job cancelled while waiting to retry")
		w.end(p)
		return
	}
	next := &marketv1.ScrapeRequested{Envelope: &marketv1.Envelope{
		EventId: jobs.EventID(p.req.GetJobId(), a.number()+1, "request"), EventTime: timestamppb.New(w.cfg.Now()),
		Producer: w.cfg.Producer, SchemaVersion: marketv1.SchemaVersion, CorrelationId: a.correlation, CausationId: a.reqID},
		JobId: p.req.GetJobId(), Kind: p.req.GetKind(), Marketplace: p.req.GetMarketplace(), Keyword: p.req.GetKeyword(),
		Asins: p.req.GetAsins(), Pages: p.req.GetPages(), Priority: p.req.GetPriority(), RequestedBy: p.req.GetRequestedBy(),
		Deadline: p.req.GetDeadline(), AnalysisId: p.req.GetAnalysisId(), Attempt: a.number() + 1}
	rec, err := topics.NewRecord(w.t.requests[p.queue], next.JobId, next)
	if err == nil {
		err = w.produce(w.jobCtx, rec)
	}
	if err != nil {
		log.Error("re-request the job", "err", err)
		w.handBack(p)
		return
	}
	log.Info("scrape job re-requested", "next_attempt", next.Attempt, "after", delay)
	w.end(p)
}

// isStopping reports whether the shutdown has begun.
func (w *Worker) isStopping() bool {
	select {
	case <-w.stopping:
		return true
	default:
		return false
	}
}

// remember keeps what a finished attempt saw: the card fingerprints of the products whose pages
// it fetched (or whose cards did not change), and its fresh search pages. A product selected but
// not fetched (over the bound, or its page failed) keeps its old fingerprint, so the next job
// selects it again.
func (w *Worker) remember(a *attempt) {
	mp := a.marketplace("")
	w.fpMu.Lock()
	for _, c := range a.cards {
		if old, ok := w.fps.Get(mp, c.ASIN); a.fetched[c.ASIN] || (ok && old == c.Fingerprint) {
			w.fps.Put(mp, c.ASIN, c.Fingerprint)
		}
	}
	w.fpMu.Unlock()
	for i, lp := range a.fresh {
		w.last.put(pageKey(mp, a.keyword, i+1), lp)
	}
}

// end marks an attempt ended: its record and its duplicates are done and committable.
func (w *Worker) end(p *pending) {
	w.done.put(p.key, struct{}{})
	w.mu.Lock()
	delete(w.active, p.key)
	dups := p.dups
	w.mu.Unlock()
	w.finish(p)
	for _, d := range dups {
		w.finish(d)
	}
}

// finish marks one record done.
func (w *Worker) finish(p *pending) {
	w.offsets.done(tp{p.rec.Topic, p.rec.Partition}, p.gen, p.rec.Offset)
}

// handBack leaves an attempt's record uncommitted, so it is delivered again (after a restart or
// to the partition's next owner).
func (w *Worker) handBack(p *pending) {
	w.mu.Lock()
	delete(w.active, p.key)
	w.mu.Unlock()
}

// release drops the queued requests of revoked or lost partitions, commits what finished of
// them (revoked only) and forgets them, so their running jobs' ends are ignored.
func (w *Worker) release(ctx context.Context, parts map[string][]int32, commit bool) {
	gone := map[tp]bool{}
	var list []tp
	for topic, ps := range parts {
		for _, p := range ps {
			gone[tp{topic, p}] = true
			list = append(list, tp{topic, p})
		}
	}
	w.mu.Lock()
	for q := range w.queues {
		kept := w.queues[q][:0]
		for _, p := range w.queues[q] {
			if gone[tp{p.rec.Topic, p.rec.Partition}] {
				delete(w.active, p.key)
				continue
			}
			kept = append(kept, p)
		}
		w.queues[q] = kept
	}
	w.mu.Unlock()
	if commit {
		if err := w.commit(ctx, gone); err != nil {
			w.log.Warn("commit revoked partitions", "err", err)
		}
	}
	w.offsets.forget(list)
}

// commitLoop commits finished offsets every CommitInterval until ctx ends.
func (w *Worker) commitLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.CommitInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.commit(ctx, nil); err != nil && ctx.Err() == nil {
				w.log.Warn("commit scrape request offsets", "err", err)
			}
		}
	}
}

// commit commits the committable offsets (of only's partitions, when set).
func (w *Worker) commit(ctx context.Context, only map[tp]bool) error {
	points := w.offsets.committable(only)
	if len(points) == 0 {
		return nil
	}
	offs := map[string]map[int32]kgo.EpochOffset{}
	for p, c := range points {
		if offs[p.topic] == nil {
			offs[p.topic] = map[int32]kgo.EpochOffset{}
		}
		offs[p.topic][p.partition] = kgo.EpochOffset{Epoch: c.epoch, Offset: c.offset}
	}
	var cerr error
	w.cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			cerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if e := kerr.ErrorForCode(p.ErrorCode); e != nil {
					cerr = errors.Join(cerr, fmt.Errorf("%s/%d: %w", t.Topic, p.Partition, e))
				}
			}
		}
	})
	if cerr != nil {
		return fmt.Errorf("commit offsets of %d partitions: %w", len(points), cerr)
	}
	w.offsets.markCommitted(points)
	return nil
}

// produce writes records and waits for all of them.
func (w *Worker) produce(ctx context.Context, recs ...*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return w.cl.ProduceSync(ctx, recs...).FirstErr()
}

// produceAsync writes a progress record without waiting; a failure is logged (the final status
// is produced synchronously).
func (w *Worker) produceAsync(r *kgo.Record) {
	w.cl.Produce(context.WithoutCancel(w.jobCtx), r, func(r *kgo.Record, err error) {
		if err != nil {
			w.log.Warn("produce a scrape status", "err", err)
		}
	})
}

// progress reports the attempt's progress; the attempt's statuses are produced in the order of
// their counts, though product pages finish on several goroutines.
func (w *Worker) progress(a *attempt, s marketv1.ScrapeStatus, reason string) {
	a.emitMu.Lock()
	defer a.emitMu.Unlock()
	w.produceAsync(a.status(s, reason))
}

// deadLetter is the dead-letter record of a request.
func (w *Worker) deadLetter(r *kgo.Record, cause error) *kgo.Record {
	dl := topics.DeadLetter(r, "scrape", cause, w.cfg.Now())
	dl.Topic = w.cfg.Topics.DeadLetters
	return dl
}

// breaker is the state of a host's breaker.
func (w *Worker) breaker(host string) string {
	if w.cfg.Breakers == nil {
		return "closed"
	}
	return w.cfg.Breakers.BreakerState(host)
}

// status is a ScrapeStatusChanged record of the attempt as it stands.
func (a *attempt) status(s marketv1.ScrapeStatus, reason string) *kgo.Record {
	a.mu.Lock()
	ev := &marketv1.ScrapeStatusChanged{JobId: a.req.GetJobId(), Status: s, Attempt: a.number(), PagesDone: a.pagesDone,
		PagesTotal: a.pagesTotal, Reason: reason, Url: a.lastURL, HttpStatus: a.lastHTTP, Keyword: a.keyword,
		AnalysisId: a.req.GetAnalysisId(), ListingsObserved: a.listings}
	a.mu.Unlock()
	if a.site.Base != nil {
		ev.BreakerState = a.w.breaker(a.site.Host())
	}
	ev.Envelope = &marketv1.Envelope{
		EventId:   jobs.EventID(a.req.GetJobId(), a.number(), "status", s.String(), strconv.Itoa(int(ev.PagesDone)), strconv.Itoa(int(ev.PagesTotal))),
		EventTime: timestamppb.New(a.w.cfg.Now()), Producer: a.w.cfg.Producer, SchemaVersion: marketv1.SchemaVersion,
		CorrelationId: a.correlation, CausationId: a.reqID,
	}
	rec, err := topics.NewRecord(a.w.t.status, ev.JobId, ev)
	if err != nil {
		panic(fmt.Sprintf("worker: encode a status: %v", err)) // a ScrapeStatusChanged for its own topic always encodes
	}
	return rec
}

func statusLabel(s marketv1.ScrapeStatus) string {
	switch s {
	case marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED:
		return "succeeded"
	case marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED:
		return "failed"
	case marketv1.ScrapeStatus_SCRAPE_STATUS_BLOCKED:
		return "blocked"
	case marketv1.ScrapeStatus_SCRAPE_STATUS_RETRYING:
		return "retrying"
	case marketv1.ScrapeStatus_SCRAPE_STATUS_STALE:
		return "stale"
	case marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED:
		return "cancelled"
	}
	return "other"
}
