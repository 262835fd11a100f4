package worker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// errCancelled is the cause of a job context cancelled by a CANCELLED status.
var errCancelled = errors.New("cancelled by a CANCELLED status")

// cancellations follows the status topic for CANCELLED statuses written by others (the
// analysis saga's compensation): a cancelled job still queued is dropped, a running one stops
// before its next page and produces no observations, a retry waiting for its backoff is not
// re-requested.
type cancellations struct {
	cl        *kgo.Client
	t         topics.Topic
	cancelled *lru[struct{}]

	mu      sync.Mutex
	running map[string]context.CancelCauseFunc
}

func newCancellations(kcfg config.Kafka, w *Worker) (*cancellations, error) {
	t := topics.MustLookup(topics.ScrapeStatus)
	t.Name = w.cfg.Topics.Status
	cl, err := kafkaclient.New(kcfg, w.cfg.Logger,
		kgo.ConsumeTopics(t.Name),
		kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(w.cfg.Now().Add(-w.cfg.CancelLookback).UnixMilli())))
	if err != nil {
		return nil, err
	}
	return &cancellations{cl: cl, t: t, cancelled: newLRU[struct{}](10000), running: map[string]context.CancelCauseFunc{}}, nil
}

// run reads the status topic until ctx ends.
func (c *cancellations) run(ctx context.Context) {
	for {
		fs := c.cl.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachRecord(func(r *kgo.Record) {
			m, err := topics.DecodeRecord(c.t, r)
			if err != nil {
				return
			}
			if s := m.(*marketv1.ScrapeStatusChanged); s.GetStatus() == marketv1.ScrapeStatus_SCRAPE_STATUS_CANCELLED && s.GetJobId() != "" {
				c.cancel(s.GetJobId())
			}
		})
	}
}

// cancel records a job as cancelled and stops it if it runs.
func (c *cancellations) cancel(job string) {
	c.cancelled.put(job, struct{}{})
	c.mu.Lock()
	stop := c.running[job]
	c.mu.Unlock()
	if stop != nil {
		stop(errCancelled)
	}
}

// isCancelled reports whether a CANCELLED status of the job was seen.
func (c *cancellations) isCancelled(job string) bool {
	if c == nil {
		return false
	}
	_, ok := c.cancelled.get(job)
	return ok
}

// watch returns a context of the job that a CANCELLED status cancels, and its release.
func (c *cancellations) watch(ctx context.Context, job string) (context.Context, func()) {
	ctx, stop := context.WithCancelCause(ctx)
	if c == nil {
		return ctx, func() { stop(nil) }
	}
	c.mu.Lock()
	c.running[job] = stop
	c.mu.Unlock()
	if c.isCancelled(job) {
		stop(errCancelled)
	}
	return ctx, func() {
		c.mu.Lock()
		delete(c.running, job)
		c.mu.Unlock()
		stop(nil)
	}
}

func (c *cancellations) close() {
	if c != nil {
		c.cl.Close()
	}
}

// sleep waits d or until the job is cancelled (false) or stopping closes (false).
func (c *cancellations) sleep(job string, d time.Duration, stopping <-chan struct{}) (cancelled, stopped bool) {
	ctx, release := c.watch(context.Background(), job)
	defer release()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return false, false
	case <-ctx.Done():
		return true, false
	case <-stopping:
		return false, true
	}
}
