package analyses

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/lovoo/goka"
)

// Ticker drives the saga's timeouts: every interval it visits the analyses of the partitions
// its processor owns (goka's VisitAll on the VisitTick edge) with the current time; due
// analyses get a SagaTick through the loopback. It must run in the process of the processor it
// ticks.
type Ticker struct {
	proc     *goka.Processor
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger
}

// NewTicker returns a ticker of a saga processor built by New. now is the clock (time.Now in
// production; tests pass a fake one); log may be nil.
func NewTicker(proc *goka.Processor, interval time.Duration, now func() time.Time, log *slog.Logger) *Ticker {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Ticker{proc: proc, interval: interval, now: now, log: log}
}

// Tick visits every analysis once with the clock's time and returns how many were visited.
func (t *Ticker) Tick(ctx context.Context) (int64, error) {
	n, err := t.proc.VisitAllWithStats(ctx, VisitTick, t.now())
	if err != nil {
		return n, fmt.Errorf("visit analyses for ticks: %w", err)
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
		return fmt.Errorf("analysis ticker: wait for the processor: %w", err)
	}
	tk := time.NewTicker(t.interval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
		}
		n, err := t.Tick(ctx)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, goka.ErrVisitAborted):
			t.log.Info("analysis tick visit aborted by a rebalance; retrying next interval", "visited", n)
		default:
			t.log.Warn("analysis tick visit failed", "visited", n, "error", err)
		}
	}
}
