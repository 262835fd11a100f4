package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/topics"
)

type tailCmd struct {
	Topic  string `arg:"" help:"Topic to read (any topic; the catalog's are decoded)."`
	From   string `default:"latest" placeholder:"earliest|latest|RFC3339" help:"Where to start: earliest, latest, or the first record at or after an RFC 3339 time."`
	Limit  int    `default:"0" help:"Stop after this many records (0: no limit)."`
	Follow bool   `default:"true" negatable:"" help:"Wait for new records; --no-follow stops at the end of the topic as it was at start."`
}

func (c *tailCmd) Run(e *env) error {
	if c.Limit < 0 {
		return usageError{fmt.Errorf("--limit %d: want 0 (no limit) or a positive number", c.Limit)}
	}
	// Control records (transaction markers) take offsets too: keep them to know where the end is.
	cl, err := kafkaclient.New(e.cfg.Kafka, nil, kgo.KeepControlRecords())
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	start, end, err := c.offsets(e.ctx, adm)
	if err != nil {
		return err
	}
	remaining := map[int32]int64{} // partitions still to read up to end (no-follow)
	assign := map[int32]kgo.Offset{}
	start.Each(func(o kadm.ListedOffset) {
		assign[o.Partition] = kgo.NewOffset().At(o.Offset)
		if eo, ok := end.Lookup(c.Topic, o.Partition); ok && eo.Offset > o.Offset {
			remaining[o.Partition] = eo.Offset
		}
	})
	if !c.Follow && len(remaining) == 0 {
		return nil
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{c.Topic: assign})
	enc := json.NewEncoder(e.stdout)
	printed := 0
	for {
		fetches := cl.PollFetches(e.ctx)
		if e.ctx.Err() != nil {
			return nil
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			ferr = errors.Join(ferr, fmt.Errorf("fetch %s/%d: %w", t, p, err))
		})
		if ferr != nil {
			return ferr
		}
		for it := fetches.RecordIter(); !it.Done(); {
			r := it.Next()
			if end, ok := remaining[r.Partition]; ok && r.Offset+1 >= end {
				delete(remaining, r.Partition)
			}
			if r.Attrs.IsControl() {
				continue
			}
			if err := enc.Encode(topics.Render(r)); err != nil {
				return fmt.Errorf("write record: %w", err)
			}
			printed++
			if c.Limit > 0 && printed >= c.Limit {
				return nil
			}
		}
		if !c.Follow && len(remaining) == 0 {
			return nil
		}
	}
}

// offsets resolves --from into a start offset per partition, and the end offsets at start.
func (c *tailCmd) offsets(ctx context.Context, adm *kadm.Client) (start, end kadm.ListedOffsets, err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	end, err = adm.ListEndOffsets(ctx, c.Topic)
	if err == nil {
		err = end.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list end offsets of %s: %w", c.Topic, err)
	}
	switch c.From {
	case "latest":
		start = end
	case "earliest":
		start, err = adm.ListStartOffsets(ctx, c.Topic)
	default:
		t, perr := time.Parse(time.RFC3339, c.From)
		if perr != nil {
			return nil, nil, usageError{fmt.Errorf("--from %q: want earliest, latest or an RFC 3339 time such as 2026-11-25T10:00:00Z", c.From)}
		}
		start, err = adm.ListOffsetsAfterMilli(ctx, t.UnixMilli(), c.Topic)
	}
	if err == nil {
		err = start.Error()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("list start offsets of %s: %w", c.Topic, err)
	}
	return start, end, nil
}
