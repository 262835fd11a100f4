package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

type produceCmd struct {
	Topic    string `arg:"" help:"Topic of the catalog to write to."`
	File     string `short:"f" placeholder:"FILE" help:"Read JSON lines from FILE instead of standard input."`
	Producer string `default:"cli/produce" help:"Producer written into envelopes that name none."`
}

func (c *produceCmd) Run(e *env) error {
	t, ok := topics.Lookup(c.Topic)
	if !ok {
		return usageError{fmt.Errorf("topic %q: %w (see 'marketinsights topics list')", c.Topic, topics.ErrUnknownTopic)}
	}
	var in io.Reader = e.stdin
	if c.File != "" {
		f, err := os.Open(c.File)
		if err != nil {
			return usageError{fmt.Errorf("open input: %w", err)}
		}
		defer f.Close()
		in = f
	}
	// Every line is parsed and checked before anything is written: a bad line rejects the batch.
	recs, err := topics.ReadJSONLines(t, in, topics.EventDefaults{Producer: c.Producer})
	if err != nil {
		return usageError{fmt.Errorf("nothing written to %s:\n%w", t.Name, err)}
	}
	if len(recs) == 0 {
		fmt.Fprintf(e.stdout, "no records to write to %s\n", t.Name)
		return nil
	}
	// One transaction: readers (read-committed) see all of the batch or none of it.
	cl, err := kafkaclient.New(e.cfg.Kafka, nil, kgo.TransactionalID("marketinsights-produce-"+marketv1.NewEventID()))
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	perr := cl.ProduceSync(e.ctx, recs...).FirstErr()
	commit := kgo.TryCommit
	if perr != nil {
		commit = kgo.TryAbort
	}
	if err := cl.EndTransaction(context.WithoutCancel(e.ctx), commit); err != nil || perr != nil {
		return fmt.Errorf("write %d records to %s (transaction aborted, nothing visible): %w", len(recs), t.Name, errors.Join(perr, err))
	}
	fmt.Fprintf(e.stdout, "wrote %d records to %s\n", len(recs), t.Name)
	return nil
}
