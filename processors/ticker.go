package processors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lovoo/goka"
)

// Ticker drives processing-time work of a goka processor (goka has no timers): every interval it
// visits the keys of the partitions its processor owns (goka's VisitAll on a visit edge) with the
// current time, so a callback can act on keys that are due (close windows, time out sagas) through
// the processor's loopback. It must run in the process of the processor it ticks.
type Ticker struct {
	proc     *goka.Processor
	edge     string
	what     string
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger
}

// NewTicker returns a ticker of proc that visits its keys on the visit edge named edge; what
// names the keys in errors and logs ("keyword", "analysis"). now is the clock (time.Now in
// production; tests pass a fake one); log may be nil.
func NewTicker(proc *goka.Processor, edge, what string, interval time.Duration, now func() time.Time, log *slog.Logger) *Ticker {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Ticker{proc: proc, edge: edge, what: what, interval: interval, now: now, log: log}
}

// Tick visits every key once with the clock's time and returns how many were visited.
func (t *Ticker) Tick(ctx context.Context) (int64, error) {
	n, err := t.proc.VisitAllWithStats(ctx, t.edge, t.now())
	if err != nil {
		return n, fmt.Errorf("visit %s keys for ticks: %w", t.what, err)
	}
	return n, nil
}

// Run waits until the processor is ready, then ticks every interval until ctx ends; it returns
// nil then. A visit cut short by a rebalance is logged and retried at the next interval.
func (t *Ticker) Run(ctx context.Context) error {
	if err := t.proc.WaitForReadyContext(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%s ticker: wait for the processor: %w", t.what, err)
	}
	tk := time.NewTicker(t.interval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
		start := time.Now()
		n, err := t.Tick(ctx)
		switch {
		case err == nil:
			t.log.Debug(t.what+" ticks sent", "visited", n, "took", time.Since(start))
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, goka.ErrVisitAborted):
			t.log.Info(t.what+" tick visit aborted by a rebalance; retrying next interval", "visited", n)
		default:
			t.log.Warn(t.what+" tick visit failed", "visited", n, "error", err)
		}
	}
}
