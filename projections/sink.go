package projections

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Sink turns a topic's records into rows and writes batches of them to a read model.
type Sink[R any] interface {
	// Name identifies the sink in logs, metrics and dead-letter headers, e.g. "clickhouse/observations".
	Name() string
	// Rows decodes one record into the rows it projects (none is fine). An error makes the
	// record poison: it is dead-lettered and the projector goes on.
	Rows(r *kgo.Record) ([]R, error)
	// Write stores rows; it must be idempotent (the same rows twice leave one logical row each).
	// An error wrapped by Permanent says the rows themselves are refused; any other error is
	// retried with backoff.
	Write(ctx context.Context, rows []R) error
}

// permanentError marks a write error caused by the rows, not by the store being unavailable.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err to say that retrying the same rows cannot succeed.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
