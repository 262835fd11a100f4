package analyses

import (
	"context"
	"fmt"

	"github.com/lovoo/goka"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Statuses answers what an analysis' state is, from a goka view of the saga's table (every
// partition, kept up to date in the background). The API serves it.
type Statuses struct {
	view *goka.View
}

// NewStatuses returns a view of the saga's table; Run it before asking.
func NewStatuses(env gokaenv.Env, cfg Config, opts ...goka.ViewOption) (*Statuses, error) {
	v, err := goka.NewView(env.Brokers, cfg.TableOf(), processors.Codec(topics.AnalysisSagaTable),
		env.ViewOptions(string(cfg.Group), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("create view of %s: %w", cfg.TableOf(), err)
	}
	return &Statuses{view: v}, nil
}

// Run keeps the view up to date until ctx ends.
func (s *Statuses) Run(ctx context.Context) error {
	if err := s.view.Run(ctx); err != nil {
		return fmt.Errorf("run view of the analyses: %w", err)
	}
	return nil
}

// WaitReady blocks until the view has caught up with the table, or ctx ends.
func (s *Statuses) WaitReady(ctx context.Context) error {
	select {
	case <-s.view.WaitRunning():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the view of the analyses: %w", ctx.Err())
	}
}

// Status returns an analysis' state, or nil when the saga has none (unknown, not yet
// processed, or finished longer ago than the retention).
func (s *Statuses) Status(analysisID string) (*marketv1.AnalysisState, error) {
	v, err := s.view.Get(analysisID)
	if err != nil {
		return nil, fmt.Errorf("get analysis %s: %w", analysisID, err)
	}
	st, _ := v.(*marketv1.AnalysisState)
	return st, nil
}
