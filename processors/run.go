package processors

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/lovoo/goka"
)

// Run runs the processors until ctx ends or one of them fails, then stops them all and waits
// for every one to return. The error names the group that failed.
func Run(ctx context.Context, log *slog.Logger, procs ...*goka.Processor) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(procs))
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			group := p.Graph().Group()
			if err := p.Run(ctx); err != nil {
				errs <- fmt.Errorf("processor %s: %w", group, err)
				cancel()
				return
			}
			log.Info("processor stopped", "group", string(group))
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs // nil when every processor stopped cleanly
}

// WaitReady blocks until every processor has recovered its tables and is processing, or ctx ends.
func WaitReady(ctx context.Context, procs ...*goka.Processor) error {
	for _, p := range procs {
		if err := p.WaitForReadyContext(ctx); err != nil {
			return fmt.Errorf("wait for processor %s: %w", p.Graph().Group(), err)
		}
	}
	return nil
}
