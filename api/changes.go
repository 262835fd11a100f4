package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/spool"
	rproj "github.com/marketinsightspro/marketinsights/projections/redis"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// followChanges subscribes to the change channel, invalidates what each message makes stale
// and forwards it to the WebSocket clients. After a reconnection (pub/sub is at most once) it
// empties every cache and tells the clients to reload. It closes subscribed once the first
// subscription is confirmed and returns when ctx ends.
func (s *Server) followChanges(ctx context.Context, subscribed chan<- struct{}) error {
	ps := s.opts.Store.rdb().Subscribe(ctx, s.opts.Store.ks.Channel())
	// Receive does not return when ctx ends; closing the subscription makes it return.
	stop := make(chan struct{})
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		select {
		case <-ctx.Done():
		case <-stop:
		}
		_ = ps.Close()
	}()
	defer func() { close(stop); <-closed }()
	first := true
	backoff := 100 * time.Millisecond
	for {
		msg, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.opts.Logger.Warn("change channel", "channel", s.opts.Store.ks.Channel(), "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			backoff = 100 * time.Millisecond
			if m.Kind != "subscribe" {
				continue
			}
			if first {
				first = false
				close(subscribed)
				continue
			}
			// Messages may have been missed while the connection was down.
			s.invalidate("", "")
			s.hub.Broadcast(Event{Change: rproj.Change{Kind: rproj.KindGeneration}})
		case *goredis.Message:
			var c rproj.Change
			if err := json.Unmarshal([]byte(m.Payload), &c); err != nil || c.Kind == "" {
				continue
			}
			s.m.Changes.WithLabelValues(c.Kind).Inc()
			s.apply(c)
			s.hub.Broadcast(Event{Change: c})
		}
	}
}

// apply invalidates the L1 entries a change makes stale.
func (s *Server) apply(c rproj.Change) {
	switch c.Kind {
	case rproj.KindGeneration:
		s.invalidate("", "")
	case rproj.KindKeyword:
		s.reports.forget(c.Keyword)
		s.keywords.forget("")
	case rproj.KindWindow:
		s.windows.forget(c.Keyword)
		s.keywords.forget("")
	case rproj.KindProduct:
		s.products.forget(c.ASIN)
	case rproj.KindAnomaly:
		s.anomalies.forget("")
		if c.Keyword != "" {
			s.anomalies.forget(c.Keyword)
		}
	}
}

// viewCounter counts report views per keyword between flushes.
type viewCounter struct {
	mu     sync.Mutex
	counts map[string]int64
}

func newViewCounter() *viewCounter { return &viewCounter{counts: map[string]int64{}} }

func (v *viewCounter) add(kw string) {
	v.mu.Lock()
	v.counts[kw]++
	v.mu.Unlock()
}

func (v *viewCounter) take() map[string]int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := v.counts
	v.counts = map[string]int64{}
	return out
}

// viewsKey is the sorted set of keywords by report views, outside the generations (it is the
// API's own state, not a projection): <prefix>api:views.
func (s *Server) viewsKey() string { return s.opts.Store.ks.Prefix() + "api:views" }

// flushViews adds the counted views to the views set every 10 s and once more at the end.
func (s *Server) flushViews(ctx context.Context) {
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.FlushViews(ctx)
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			s.FlushViews(fctx)
			cancel()
			return
		}
	}
}

// FlushViews writes the views counted since the last flush to Redis.
func (s *Server) FlushViews(ctx context.Context) {
	counts := s.views.take()
	if len(counts) == 0 {
		return
	}
	pipe := s.opts.Store.rdb().Pipeline()
	for kw, n := range counts {
		pipe.ZIncrBy(ctx, s.viewsKey(), float64(n), kw)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		s.opts.Logger.Warn("write report views", "key", s.viewsKey(), "err", err)
	}
}

// Warm loads the reports and windows of the most viewed keywords into the L1 caches.
func (s *Server) Warm(ctx context.Context) error {
	if s.opts.WarmKeywords <= 0 {
		return nil
	}
	kws, err := s.opts.Store.rdb().ZRevRange(ctx, s.viewsKey(), 0, int64(s.opts.WarmKeywords-1)).Result()
	if err != nil {
		return fmt.Errorf("read the most viewed keywords from %s: %w", s.viewsKey(), err)
	}
	gen, err := s.opts.Store.Generation(ctx)
	if errors.Is(err, ErrNoGeneration) {
		return nil
	}
	if err != nil {
		return err
	}
	warmed := 0
	for _, kw := range kws {
		snap, err := s.opts.Store.Snapshot(ctx, gen, kw)
		if err != nil {
			return fmt.Errorf("warm keyword %q: %w", kw, err)
		}
		if snap == nil {
			continue
		}
		s.reports.put(kw, snap)
		if ws, err := s.opts.Store.Windows(ctx, gen, kw, WindowSeries); err == nil && len(ws) > 0 {
			s.windows.put(kw, ws)
		}
		warmed++
	}
	s.opts.Logger.Info("caches warmed", "keywords", warmed, "of_most_viewed", len(kws))
	return nil
}

// emitAction writes the user action a request served to market.user-actions.v1, without
// waiting (a failure is counted and logged, never answered).
func (s *Server) emitAction(r *http.Request, route string, status int, a action) {
	user, err := userOf(r)
	if err != nil {
		user = "anonymous"
	}
	s.produceAction(userAction(user, route, clientHash(r), status, a, time.Now()))
}

// userAction builds the UserAction event of a served request.
func userAction(user, route, clientHash string, status int, a action, now time.Time) *marketv1.UserAction {
	return &marketv1.UserAction{
		Envelope: marketv1.NewEnvelope("api", "", now), UserId: user, Kind: a.kind, Keyword: a.keyword, Asin: a.asin,
		AnalysisId: a.analysisID, Params: a.params, Route: route, Status: int32(status), ClientHash: clientHash,
	}
}

// produceAction writes a user action asynchronously, never blocking the request: into the
// spool when there is one, else into Kafka's buffer.
func (s *Server) produceAction(ev *marketv1.UserAction) {
	if s.opts.Kafka == nil && s.opts.Spool == nil {
		return
	}
	rec, err := topics.NewEventRecord(topics.MustLookup(topics.UserActions), ev)
	if err != nil {
		s.m.ActionsFailed.Inc()
		return
	}
	rec.Topic = s.topic(topics.UserActions)
	if s.opts.Spool != nil {
		// The spool counts and logs a record it refuses because it is full.
		if err := s.opts.Spool.Append(rec); err != nil {
			s.m.ActionsFailed.Inc()
			if !errors.Is(err, spool.ErrFull) {
				s.opts.Logger.Warn("spool a user action", "err", err)
			}
		}
		return
	}
	// TryProduce fails at once when the client's buffer is full (Kafka slow or away) instead of
	// holding the request: the audit loses those actions, counted, and the API keeps answering.
	s.opts.Kafka.TryProduce(context.Background(), rec, func(_ *kgo.Record, err error) {
		if err != nil {
			s.m.ActionsFailed.Inc()
			s.opts.Logger.Warn("write a user action", "topic", rec.Topic, "err", err)
		}
	})
}
