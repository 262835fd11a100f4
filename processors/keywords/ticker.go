package keywords

import (
	"log/slog"
	"time"

	"github.com/lovoo/goka"

	"github.com/marketinsightspro/marketinsights/processors"
)

// NewTicker returns the ticker that drives the processing-time closing of windows of a
// keyword-windows processor built by New: every interval it visits the keywords of the
// partitions the processor owns with the current time; due keywords get a WindowTick through the
// loopback. now is the clock (time.Now in production; tests pass a fake one); log may be nil.
func NewTicker(proc *goka.Processor, interval time.Duration, now func() time.Time, log *slog.Logger) *processors.Ticker {
	return processors.NewTicker(proc, VisitTick, "keyword", interval, now, log)
}
