package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Options configure a Projector; zero values take the documented defaults.
type Options struct {
	// Topic is the topic projected.
	Topic string
	// Group is the consumer group; empty reads the partitions directly from Start to Until (replay).
	Group string
	// BatchRows flushes when this many rows are pending (default 5000); a poll takes at most the
	// records that complete the batch, so a batch of one-row records is exactly this size.
	BatchRows int
	// FlushInterval flushes pending rows at least this often (default 500ms).
	FlushInterval time.Duration
	// MinBackoff is the first wait after a failed write (default 100ms); it doubles up to MaxBackoff.
	MinBackoff time.Duration
	// MaxBackoff caps the wait between retries of a failed write (default 10s).
	MaxBackoff time.Duration
	// DeadLetterTopic receives poison records (default the catalog's dead-letter topic).
	DeadLetterTopic string
	// Start is where a group without committed offsets, or a replay, begins (default: earliest).
	Start *kgo.Offset
	// Until, in replay mode, is the end offset per partition to stop at (exclusive).
	Until map[int32]int64
	// From, in replay mode, is the start offset per partition; partitions it lacks start at Start.
	From map[int32]int64
	// Log receives the projector's logs (default: discarded).
	Log *slog.Logger
	// Metrics records the projector's work (nil: nothing recorded).
	Metrics *Metrics
	// Client options added to the Kafka client (tests use them to shorten timeouts).
	Client []kgo.Opt
	// OnWritten, when set, is called with the records of every batch right after its rows were
	// written (before the commit), from the goroutine that wrote them; benchmarks measure
	// freshness with it.
	OnWritten func(recs []*kgo.Record, at time.Time)
}

func (o *Options) defaults() {
	if o.BatchRows <= 0 {
		o.BatchRows = 5000
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 500 * time.Millisecond
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(10*time.Second, o.MinBackoff)
	}
	if o.DeadLetterTopic == "" {
		o.DeadLetterTopic = topics.DeadLetters
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Projector consumes one topic into one Sink: records are batched by size and time, written,
// and only then committed. A failed write is retried with backoff while fetching is paused, so
// nothing is dropped and the broker's records wait in the log instead of in memory.
type Projector[R any] struct {
	sink Sink[R]
	opts Options
	cl   *kgo.Client

	pending  []item[R]
	rows     int
	inflight *inflightWrite[R]
	consumed atomic.Int64
	written  atomic.Int64
}

// item is one record with the rows it projects.
type item[R any] struct {
	rec  *kgo.Record
	rows []R
}

// New returns a projector of opts.Topic into sink over a new Kafka client.
func New[R any](cfg config.Kafka, sink Sink[R], opts Options) (*Projector[R], error) {
	opts.defaults()
	if opts.Topic == "" {
		return nil, errors.New("projector: no topic")
	}
	start := kgo.NewOffset().AtStart()
	if opts.Start != nil {
		start = *opts.Start
	}
	kopts := []kgo.Opt{kgo.ProducerLinger(0)}
	if opts.Group != "" {
		kopts = append(kopts,
			kgo.DisableAutoCommit(),
			kgo.ConsumerGroup(opts.Group),
			kgo.ConsumeTopics(opts.Topic),
			kgo.ConsumeResetOffset(start),
			kgo.BlockRebalanceOnPoll(),
		)
	} else {
		parts := map[int32]kgo.Offset{}
		for p := range opts.Until {
			parts[p] = start
			if o, ok := opts.From[p]; ok {
				parts[p] = kgo.NewOffset().At(o)
			}
		}
		// Control records (transaction markers) take offsets too: keep them to know where the end is.
		kopts = append(kopts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{opts.Topic: parts}), kgo.KeepControlRecords())
	}
	kopts = append(kopts, opts.Client...)
	cl, err := kafkaclient.New(cfg, opts.Log, kopts...)
	if err != nil {
		return nil, fmt.Errorf("projector %s: %w", sink.Name(), err)
	}
	return &Projector[R]{sink: sink, opts: opts, cl: cl}, nil
}

// Consumed returns the records consumed so far (poison ones included).
func (p *Projector[R]) Consumed() int64 { return p.consumed.Load() }

// Written returns the rows written so far.
func (p *Projector[R]) Written() int64 { return p.written.Load() }

// syncEvery bounds how long a consumer-group projector goes without a point where nothing is
// pending or in flight, at which it lets the group rebalance.
const syncEvery = 3 * time.Second

// Run projects until ctx ends (or, in replay mode, until every partition reached Until); pending
// rows are written and committed before it returns. It closes the Kafka client.
//
// Writes are pipelined: while one batch is being written, the next is fetched and decoded; at
// most one write is in flight, and the loop waits for it before starting the next, so a slow or
// failing store stops the polling (and franz-go then stops fetching). Offsets of a batch are
// committed when its write succeeded, while the next batch's write runs. Rebalances are allowed only at points where nothing is
// pending or in flight, at least every syncEvery.
func (p *Projector[R]) Run(ctx context.Context) error {
	defer p.Close()
	remaining := map[int32]int64{}
	for part, end := range p.opts.Until {
		if end > p.opts.From[part] {
			remaining[part] = end
		}
	}
	replay := p.opts.Group == ""
	p.opts.Log.Info("projector started", "sink", p.sink.Name(), "topic", p.opts.Topic, "group", p.opts.Group)
	var flushAt time.Time
	lastSync := time.Now()
	for {
		if replay && len(remaining) == 0 {
			return p.finish(ctx)
		}
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if len(p.pending) > 0 || p.inflight != nil {
			deadline := flushAt
			if len(p.pending) == 0 {
				deadline = time.Now().Add(p.opts.FlushInterval)
			}
			pollCtx, cancel = context.WithDeadline(ctx, deadline)
		}
		// Poll at most what completes the batch, so that a batch of one-row records is exactly
		// BatchRows rows and the rest waits in the client's buffer for the next one.
		fetches := p.cl.PollRecords(pollCtx, max(p.opts.BatchRows-p.rows, 1))
		cancel()
		if ctx.Err() != nil {
			return p.finish(ctx)
		}
		var fatal error
		fetches.EachError(func(topic string, part int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			p.opts.Log.Warn("fetch failed", "sink", p.sink.Name(), "topic", topic, "partition", part, "err", err)
			if errors.Is(err, kgo.ErrClientClosed) {
				fatal = err
			}
		})
		if fatal != nil {
			return fmt.Errorf("projector %s: %w", p.sink.Name(), fatal)
		}
		for it := fetches.RecordIter(); !it.Done(); {
			r := it.Next()
			if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
			if r.Attrs.IsControl() || (replay && r.Offset >= p.opts.Until[r.Partition]) {
				continue
			}
			p.consumed.Add(1)
			p.opts.Metrics.consumed(p.sink.Name(), r)
			rows, err := p.sink.Rows(r)
			if err != nil {
				if err := p.deadLetter(ctx, r, err); err != nil {
					return p.stopped(ctx, err) // not committed: dead-lettered again after a restart
				}
				rows = nil // kept as an item without rows, so its offset is committed with its batch
			}
			if len(p.pending) == 0 {
				flushAt = time.Now().Add(p.opts.FlushInterval)
			}
			p.pending = append(p.pending, item[R]{rec: r, rows: rows})
			p.rows += len(rows)
		}
		if err := p.reap(ctx, false); err != nil {
			return p.stopped(ctx, err)
		}
		due := p.rows >= p.opts.BatchRows || (len(p.pending) > 0 && !time.Now().Before(flushAt)) || (replay && len(remaining) == 0)
		if due {
			written, err := p.collect(true)
			if err != nil {
				return p.stopped(ctx, err)
			}
			// The next write starts before the previous batch's commit, which then overlaps it
			// instead of delaying it: the commit still follows its own batch's write.
			p.startWrite(ctx)
			if err := p.commit(ctx, written); err != nil {
				return p.finish(ctx) // commit fails only when ctx ended: a shutdown
			}
		}
		if !replay && (time.Since(lastSync) >= syncEvery || (len(p.pending) == 0 && p.inflight == nil)) {
			if err := p.flush(ctx); err != nil {
				return p.stopped(ctx, err)
			}
			p.cl.AllowRebalance()
			lastSync = time.Now()
		}
	}
}

// stopped turns an error caused by ctx ending into a clean stop.
func (p *Projector[R]) stopped(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// inflightWrite is a batch being written by its own goroutine.
type inflightWrite[R any] struct {
	items []item[R]
	done  chan error
}

// startWrite hands the pending batch to a goroutine that writes it.
func (p *Projector[R]) startWrite(ctx context.Context) {
	w := &inflightWrite[R]{items: p.pending, done: make(chan error, 1)}
	rows := p.rows
	p.pending, p.rows = nil, 0
	p.inflight = w
	go func() {
		paused := false
		err := p.write(ctx, w.items, rows, &paused)
		if paused {
			p.cl.ResumeFetchTopics(p.opts.Topic)
		}
		w.done <- err
	}()
}

// reap collects the in-flight write (waiting for it when wait is set) and commits its records.
func (p *Projector[R]) reap(ctx context.Context, wait bool) error {
	items, err := p.collect(wait)
	if err != nil {
		return err
	}
	return p.commit(ctx, items)
}

// collect returns the items of the in-flight write once it succeeded (waiting for it when wait
// is set); none when no write is in flight or, without wait, it is still running.
func (p *Projector[R]) collect(wait bool) ([]item[R], error) {
	w := p.inflight
	if w == nil {
		return nil, nil
	}
	var err error
	if wait {
		err = <-w.done
	} else {
		select {
		case err = <-w.done:
		default:
			return nil, nil
		}
	}
	p.inflight = nil
	if err != nil {
		return nil, err
	}
	return w.items, nil
}

// finish writes what is pending with a short grace period after ctx ended.
func (p *Projector[R]) finish(ctx context.Context) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if p.inflight != nil {
		// The in-flight write runs on ctx, which ended: collect it, then write its items again.
		w := p.inflight
		p.inflight = nil
		if err := <-w.done; err == nil {
			if err := p.commit(fctx, w.items); err != nil {
				p.opts.Log.Warn("commit at shutdown failed; records will be projected again", "sink", p.sink.Name(), "err", err)
			}
		} else {
			p.pending = append(w.items, p.pending...)
			for _, it := range w.items {
				p.rows += len(it.rows)
			}
		}
	}
	if len(p.pending) == 0 {
		return nil
	}
	if err := p.flush(fctx); err != nil {
		p.opts.Log.Warn("pending rows not written at shutdown; they will be consumed again", "sink", p.sink.Name(), "records", len(p.pending), "err", err)
	}
	return nil
}

// flush waits for the in-flight write, then writes the pending rows synchronously and commits.
func (p *Projector[R]) flush(ctx context.Context) error {
	if err := p.reap(ctx, true); err != nil {
		return err
	}
	if len(p.pending) == 0 {
		return nil
	}
	items := p.pending
	paused := false
	err := p.write(ctx, items, p.rows, &paused)
	if paused {
		p.cl.ResumeFetchTopics(p.opts.Topic)
	}
	if err != nil {
		return err
	}
	p.pending, p.rows = nil, 0
	return p.commit(ctx, items)
}

// write stores the rows of items. A transient failure is retried with backoff (fetching paused
// meanwhile); rows the store refuses are split until the poison records are isolated and
// dead-lettered.
func (p *Projector[R]) write(ctx context.Context, items []item[R], n int, paused *bool) error {
	rows := make([]R, 0, n)
	for _, it := range items {
		rows = append(rows, it.rows...)
	}
	if len(rows) == 0 {
		return nil
	}
	backoff := p.opts.MinBackoff
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := p.sink.Write(ctx, rows)
		p.opts.Metrics.wrote(p.sink.Name(), len(rows), time.Since(start), err)
		if err == nil {
			p.written.Add(int64(len(rows)))
			if p.opts.OnWritten != nil {
				recs := make([]*kgo.Record, len(items))
				for i, it := range items {
					recs[i] = it.rec
				}
				p.opts.OnWritten(recs, time.Now())
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if IsPermanent(err) {
			if len(items) == 1 {
				return p.deadLetter(ctx, items[0].rec, err)
			}
			half := len(items) / 2
			if err := p.write(ctx, items[:half], 0, paused); err != nil {
				return err
			}
			return p.write(ctx, items[half:], 0, paused)
		}
		if !*paused {
			p.cl.PauseFetchTopics(p.opts.Topic)
			*paused = true
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		p.opts.Log.Warn("write failed; retrying", "sink", p.sink.Name(), "rows", len(rows), "attempt", attempt, "retry_in", wait.Round(time.Millisecond), "err", err)
		p.opts.Metrics.retried(p.sink.Name())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		backoff = min(2*backoff, p.opts.MaxBackoff)
	}
}

// commit commits the offsets of items' records (a no-op in replay mode), retrying transient
// failures; the rows are written, so a commit that keeps failing only means a later redelivery.
func (p *Projector[R]) commit(ctx context.Context, items []item[R]) error {
	if p.opts.Group == "" || len(items) == 0 {
		return nil
	}
	recs := make([]*kgo.Record, len(items))
	for i, it := range items {
		recs[i] = it.rec
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = p.cl.CommitRecords(ctx, recs...); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	p.opts.Log.Warn("commit failed; records will be projected again", "sink", p.sink.Name(), "err", err)
	return nil
}

// deadLetter sends r to the dead-letter topic (waiting for the broker's ack) and counts it.
func (p *Projector[R]) deadLetter(ctx context.Context, r *kgo.Record, cause error) error {
	dl := topics.DeadLetter(r, "project/"+p.sink.Name(), cause, time.Now())
	dl.Topic = p.opts.DeadLetterTopic
	p.opts.Log.Warn("poison record dead-lettered", "sink", p.sink.Name(), "topic", r.Topic, "partition", r.Partition, "offset", r.Offset, "err", cause)
	if err := p.cl.ProduceSync(ctx, dl).FirstErr(); err != nil {
		return fmt.Errorf("projector %s: dead-letter record %s/%d@%d: %w", p.sink.Name(), r.Topic, r.Partition, r.Offset, err)
	}
	p.opts.Metrics.deadLettered(p.sink.Name())
	return nil
}

// Close releases the Kafka client of a projector that will not Run.
func (p *Projector[R]) Close() {
	if p.opts.Group != "" {
		p.cl.AllowRebalance() // a client blocking rebalances would wait forever to leave its group
	}
	p.cl.Close()
}
