package projections

import (
	"context"
	"errors"
	"sync"
)

// Runner is a projector (or anything else) that runs until its context ends.
type Runner interface {
	Run(ctx context.Context) error
}

// RunAll runs every runner until ctx ends or one fails, then stops the others and waits for
// every one to return. It returns the first failure (nil when all stopped cleanly).
func RunAll(ctx context.Context, runners ...Runner) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(runners))
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errs <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
