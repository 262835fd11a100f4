package notifications

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// logTail follows the delivery log and remembers the ids it shows delivered.
type logTail struct {
	cl   *kgo.Client
	wg   sync.WaitGroup
	once sync.Once
}

// Close stops following and waits for the follower to return.
func (t *logTail) Close() {
	t.once.Do(func() {
		t.cl.Close()
		t.wg.Wait()
	})
}

// startTail reads the latest SeedRecords of every partition of the delivery log, remembering
// delivered ids, and returns once it has read up to the log's end as of the start (or after
// SeedTimeout); it keeps following the log until closed, so deliveries made by other
// instances are remembered too.
func (d *Deliverer) startTail(ctx context.Context) (*logTail, error) {
	adm, err := kafkaclient.NewAdmin(d.kafka, d.log)
	if err != nil {
		return nil, fmt.Errorf("notifier delivery: %w", err)
	}
	lctx, cancel := context.WithTimeout(ctx, d.cfg.SeedTimeout)
	ends, err := adm.ListEndOffsets(lctx, d.cfg.DeliveriesTopic)
	var starts kadm.ListedOffsets
	if err == nil {
		starts, err = adm.ListStartOffsets(lctx, d.cfg.DeliveriesTopic)
	}
	cancel()
	adm.Close()
	if err == nil {
		err = ends.Error()
	}
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("notifier delivery: list offsets of %s (create it with `marketinsights topics apply`): %w", d.cfg.DeliveriesTopic, err)
	}
	offsets := map[int32]kgo.Offset{}
	want := map[int32]int64{} // partition -> end offset to reach
	ends.Each(func(o kadm.ListedOffset) {
		start := max(o.Offset-d.cfg.SeedRecords, 0)
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok {
			start = max(start, s.Offset)
		}
		offsets[o.Partition] = kgo.NewOffset().At(start)
		if o.Offset > start {
			want[o.Partition] = o.Offset
		}
	})
	if len(offsets) == 0 {
		return nil, fmt.Errorf("notifier delivery: topic %s has no partitions (create it with `marketinsights topics apply`)", d.cfg.DeliveriesTopic)
	}
	cl, err := kafkaclient.New(d.kafka, d.log,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{d.cfg.DeliveriesTopic: offsets}),
		kgo.FetchMaxWait(500*time.Millisecond),
	)
	if err != nil {
		return nil, fmt.Errorf("notifier delivery: %w", err)
	}
	t := &logTail{cl: cl}
	seeded := make(chan struct{})
	if len(want) == 0 {
		close(seeded)
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		for {
			fs := cl.PollFetches(context.Background())
			if fs.IsClientClosed() {
				return
			}
			fs.EachError(func(topic string, p int32, err error) {
				if !errors.Is(err, context.Canceled) {
					d.log.Warn("read delivery log", "topic", topic, "partition", p, "err", err)
				}
			})
			fs.EachPartition(func(p kgo.FetchTopicPartition) {
				for _, r := range p.Records {
					d.observe(r)
				}
				if n := len(p.Records); n > 0 && len(want) > 0 {
					if end, ok := want[p.Partition]; ok && p.Records[n-1].Offset+1 >= end {
						delete(want, p.Partition)
						if len(want) == 0 {
							close(seeded)
						}
					}
				}
			})
			d.m.rememberedIDs(d.seen.Len())
		}
	}()
	timer := time.NewTimer(d.cfg.SeedTimeout)
	defer timer.Stop()
	select {
	case <-seeded:
	case <-timer.C:
		d.log.Warn("delivery log not read to its end in time; starting anyway", "timeout", d.cfg.SeedTimeout, "remembered_ids", d.seen.Len())
	case <-ctx.Done():
	}
	d.m.rememberedIDs(d.seen.Len())
	return t, nil
}

// observe remembers the id of a delivery-log record that says delivered.
func (d *Deliverer) observe(r *kgo.Record) {
	m, err := topics.DecodeRecord(d.deliveries, r)
	if err != nil {
		return
	}
	if ev := m.(*marketv1.NotificationDelivered); ev.GetStatus() == marketv1.DeliveryStatus_DELIVERY_STATUS_DELIVERED && ev.GetNotificationId() != "" {
		d.seen.Add(ev.GetNotificationId())
	}
}
