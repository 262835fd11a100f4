package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/internal/logging"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/importer"
	"github.com/marketinsightspro/marketinsights/topics"
)

type importCmd struct {
	File        string    `arg:"" type:"existingfile" help:"CSV (Keepa exports included) or JSON lines of product snapshots; see docs/import.md."`
	Format      string    `default:"auto" enum:"auto,csv,jsonl" help:"Input format: ${enum}."`
	Marketplace string    `default:"amazon.com" help:"Marketplace of rows that do not name one."`
	Currency    string    `help:"Currency of prices without a symbol; default the marketplace's."`
	DefaultTime time.Time `placeholder:"RFC3339" help:"Event time of rows without a timestamp (keep it fixed so a re-import gives the same event ids); without it such rows are bad."`
	Timezone    string    `default:"UTC" help:"Time zone of timestamps written without one."`
	ShowBad     int       `default:"20" help:"How many bad rows to print (all are counted)."`
}

// countingReader counts the bytes read, for the progress line.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *importCmd) Run(e *env) error {
	format, err := importer.ParseFormat(c.Format)
	if err != nil {
		return usageError{err}
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return usageError{fmt.Errorf("--timezone %q: %w", c.Timezone, err)}
	}
	f, err := os.Open(c.File)
	if err != nil {
		return usageError{fmt.Errorf("open %s: %w", c.File, err)}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", c.File, err)
	}
	cl, err := kafkaclient.New(e.cfg.Kafka, nil)
	if err != nil {
		return err
	}
	defer cl.Close()

	var prodErr atomic.Pointer[error]
	var produced atomic.Int64
	send := func(rec *kgo.Record) error {
		if p := prodErr.Load(); p != nil {
			return *p
		}
		cl.Produce(e.ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil {
				prodErr.CompareAndSwap(nil, &err)
				return
			}
			produced.Add(1)
		})
		return e.ctx.Err()
	}
	in := &countingReader{r: f}
	stopProgress := progress(e, in, st.Size(), &produced)
	runID := marketv1.NewEventID()
	stats, err := importer.Read(in, format, importer.Options{Marketplace: c.Marketplace, Currency: c.Currency,
		DefaultTime: c.DefaultTime, Location: loc, Producer: "import", CorrelationID: runID},
		importer.Emitter(topics.MustLookup(topics.ProductObservations), send))
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(e.ctx), time.Minute)
	defer cancel()
	ferr := cl.Flush(flushCtx)
	stopProgress()
	if p := prodErr.Load(); p != nil {
		ferr = errors.Join(ferr, *p)
	}
	for i, b := range stats.Bad {
		if i == c.ShowBad {
			fmt.Fprintf(e.stderr, "... and %d more bad rows\n", len(stats.Bad)-c.ShowBad)
			break
		}
		fmt.Fprintf(e.stderr, "skipped %v\n", b)
	}
	if len(stats.IgnoredColumns) > 0 {
		fmt.Fprintf(e.stderr, "ignored columns: %v\n", stats.IgnoredColumns)
	}
	fmt.Fprintf(e.stdout, "%s: %d rows, %d imported to %s, %d bad (run %s)\n", c.File, stats.Rows, produced.Load(),
		topics.ProductObservations, len(stats.Bad), runID)
	if err != nil {
		return fmt.Errorf("import %s: %w", c.File, err)
	}
	if ferr != nil {
		return fmt.Errorf("write to %s: %w", topics.ProductObservations, ferr)
	}
	return nil
}

// progress shows bytes read, rows written and an ETA: a redrawn line on a terminal, a log line
// every 10 s otherwise. The returned func stops it.
func progress(e *env, in *countingReader, total int64, rows *atomic.Int64) func() {
	return showProgress(e, "importing", in.n.Load, func() int64 { return total }, func() string {
		return fmt.Sprintf("%d rows written", rows.Load())
	})
}

// showProgress reports done() of total() with an ETA and detail(): a redrawn line on a terminal,
// a log line every 10 s otherwise. The returned func stops it.
func showProgress(e *env, what string, done, total func() int64, detail func() string) func() {
	tty := logging.IsTerminal(e.stderr)
	every := 10 * time.Second
	if tty {
		every = 200 * time.Millisecond
	}
	start := time.Now()
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				if tty {
					fmt.Fprintln(e.stderr)
				}
				return
			case <-t.C:
				frac := float64(done()) / float64(max(total(), 1))
				eta := "?"
				if frac > 0 {
					eta = (time.Duration(float64(time.Since(start))/frac) - time.Since(start)).Round(time.Second).String()
				}
				if tty {
					fmt.Fprintf(e.stderr, "\r%s %5.1f%%  %s  ETA %s   ", what, 100*frac, detail(), eta)
				} else {
					e.log.Info(what, "percent", fmt.Sprintf("%.1f", 100*frac), "detail", detail(), "eta", eta)
				}
			}
		}
	}()
	return func() { close(stop); <-stopped }
}
