package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/processors/analyses"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

type analyzeCmd struct {
	Keyword     string        `arg:"" help:"Keyword to analyse, e.g. \"portable charger\"."`
	Pages       int32         `default:"3" help:"Search pages to scrape (1-20)."`
	Marketplace string        `default:"amazon.com" help:"Marketplace domain."`
	ID          string        `name:"id" placeholder:"UUID" help:"Analysis id (default: a new UUIDv7); requesting the same id again starts nothing new."`
	Deadline    time.Duration `default:"0s" help:"Fail the analysis if it has not completed this long after the request (0: the saga's step timeouts only)."`
	Follow      bool          `help:"Print the analysis' transitions until it completes or fails (exit 1 when it fails)."`
	Wait        time.Duration `default:"5m" help:"With --follow: give up after this long."`
}

func (c *analyzeCmd) Run(e *env) error {
	req := &marketv1.AnalysisRequested{Keyword: c.Keyword, Marketplace: c.Marketplace, Pages: c.Pages, UserId: "cli"}
	if c.Deadline < 0 || c.Wait <= 0 {
		return usageError{fmt.Errorf("--deadline %v and --wait %v: want a positive duration (0 for no deadline)", c.Deadline, c.Wait)}
	}
	if c.Deadline > 0 {
		req.Deadline = timestamppb.New(time.Now().Add(c.Deadline))
	}
	if _, err := analyses.ValidateRequest(req, analyses.DefaultConfig()); err != nil {
		return usageError{err}
	}
	id := c.ID
	if id == "" {
		id = marketv1.NewEventID()
	} else if _, err := uuid.Parse(id); err != nil {
		return usageError{fmt.Errorf("--id %q: want a UUID: %w", id, err)}
	}
	t := topics.MustLookup(topics.AnalysisEvents)
	ev := &marketv1.AnalysisEvent{
		Envelope:   marketv1.NewEnvelope("cli/analyze", id, time.Now()),
		AnalysisId: id,
		Event:      &marketv1.AnalysisEvent_Requested{Requested: req},
	}
	rec, err := topics.NewRecord(t, id, ev)
	if err != nil {
		return fmt.Errorf("encode the request: %w", err)
	}
	cl, err := kafkaclient.New(e.cfg.Kafka, nil)
	if err != nil {
		return err
	}
	defer cl.Close()
	res := cl.ProduceSync(e.ctx, rec)
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("write the request to %s: %w", t.Name, err)
	}
	enc := json.NewEncoder(e.stdout)
	written := res[0].Record
	if err := enc.Encode(topics.Render(written)); err != nil {
		return fmt.Errorf("write record: %w", err)
	}
	if !c.Follow {
		return nil
	}
	return c.follow(e, cl, enc, id, written.Partition, written.Offset+1)
}

// follow prints the records of the analysis from the partition of its request until the
// analysis has ended.
func (c *analyzeCmd) follow(e *env, cl *kgo.Client, enc *json.Encoder, id string, partition int32, from int64) error {
	ctx, cancel := context.WithTimeout(e.ctx, c.Wait)
	defer cancel()
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{topics.AnalysisEvents: {partition: kgo.NewOffset().At(from)}})
	t := topics.MustLookup(topics.AnalysisEvents)
	var failure *marketv1.AnalysisFailed
	for {
		fetches := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			if e.ctx.Err() != nil {
				return nil // interrupted
			}
			return fmt.Errorf("analysis %s did not end within %v (is 'marketinsights process analyses' running?)", id, c.Wait)
		}
		var ferr error
		fetches.EachError(func(topic string, p int32, err error) {
			ferr = errors.Join(ferr, fmt.Errorf("fetch %s/%d: %w", topic, p, err))
		})
		if ferr != nil {
			return ferr
		}
		for it := fetches.RecordIter(); !it.Done(); {
			r := it.Next()
			if string(r.Key) != id {
				continue
			}
			if err := enc.Encode(topics.Render(r)); err != nil {
				return fmt.Errorf("write record: %w", err)
			}
			m, err := topics.DecodeRecord(t, r)
			if err != nil {
				continue // printed with its error by Render
			}
			ev, _ := m.(*marketv1.AnalysisEvent)
			switch {
			case ev.GetCompleted() != nil && failure == nil:
				return nil
			case ev.GetCompleted() != nil:
				return fmt.Errorf("analysis %s failed: %s (the keyword's last result was served, stale)", id, failure.GetReason())
			case ev.GetFailed() != nil && !ev.GetFailed().GetStaleResultAvailable():
				return fmt.Errorf("analysis %s failed: %s", id, strings.TrimSpace(ev.GetFailed().GetReason()))
			case ev.GetFailed() != nil:
				failure = ev.GetFailed() // its stale result follows
			}
		}
	}
}
