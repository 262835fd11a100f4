// Package kafkametrics holds the Prometheus metrics of Kafka that no single component owns:
// consumer lag and committed offsets per group and partition and topic end offsets, read with
// kadm when Prometheus scrapes, and the franz-go client metrics of the kprom plugin.
package kafkametrics

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
)

// Metric names of the lag collector.
const (
	LagName          = "marketinsights_kafka_consumer_lag"
	CommittedName    = "marketinsights_kafka_consumer_committed_offset"
	EndOffsetName    = "marketinsights_kafka_topic_end_offset"
	CollectErrorName = "marketinsights_kafka_lag_collect_errors_total"
)

// LagCollector is a prometheus.Collector that asks the brokers, on every collection, for the
// committed offsets of its consumer groups and the end offsets of the partitions they consume
// (and of its extra topics), and reports the lag of each group on each partition.
type LagCollector struct {
	adm     *kadm.Client
	groups  []string
	topics  []string
	timeout time.Duration
	log     *slog.Logger
	errs    atomic.Uint64

	lag, committed, end, errors *prometheus.Desc
}

// NewLagCollector returns a collector of the lag of groups and of the end offsets of the topics
// they consume and of topics, asking through adm with a timeout of 5 s per collection. A nil
// log discards the errors, which are also counted in CollectErrorName.
func NewLagCollector(adm *kadm.Client, groups, topics []string, log *slog.Logger) *LagCollector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &LagCollector{
		adm: adm, groups: slices.Clone(groups), topics: slices.Clone(topics), timeout: 5 * time.Second, log: log,
		lag: prometheus.NewDesc(LagName,
			"Records of a partition that a consumer group has not committed yet (end offset minus committed offset), by group, topic and partition.",
			[]string{"group", "topic", "partition"}, nil),
		committed: prometheus.NewDesc(CommittedName,
			"Offset a consumer group committed on a partition, by group, topic and partition.",
			[]string{"group", "topic", "partition"}, nil),
		end: prometheus.NewDesc(EndOffsetName,
			"End offset (high watermark, or last stable offset) of a partition: records ever produced to it, by topic and partition.",
			[]string{"topic", "partition"}, nil),
		errors: prometheus.NewDesc(CollectErrorName,
			"Collections of consumer lag that failed, in part or whole (a broker or group did not answer).", nil, nil),
	}
}

// Describe sends the descriptors of the collector's metrics.
func (c *LagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lag
	ch <- c.committed
	ch <- c.end
	ch <- c.errors
}

// Collect asks the brokers for offsets and sends the lag, committed and end offsets.
func (c *LagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	var lags kadm.DescribedGroupLags
	var err error
	if len(c.groups) > 0 {
		lags, err = c.adm.Lag(ctx, c.groups...)
	}
	var ends kadm.ListedOffsets
	if err == nil && len(c.topics) > 0 {
		ends, err = c.adm.ListEndOffsets(ctx, c.topics...)
	}
	for _, l := range lags {
		if gerr := l.Error(); gerr != nil {
			err = errors.Join(err, gerr)
		}
	}
	if err != nil {
		c.errs.Add(1)
		c.log.Warn("collect consumer lag", "groups", c.groups, "err", err)
	}
	for _, s := range Samples(lags, ends) {
		switch s.Kind {
		case KindLag:
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(s.Value), s.Group, s.Topic, strconv.Itoa(int(s.Partition)))
		case KindCommitted:
			ch <- prometheus.MustNewConstMetric(c.committed, prometheus.GaugeValue, float64(s.Value), s.Group, s.Topic, strconv.Itoa(int(s.Partition)))
		case KindEnd:
			ch <- prometheus.MustNewConstMetric(c.end, prometheus.GaugeValue, float64(s.Value), s.Topic, strconv.Itoa(int(s.Partition)))
		}
	}
	ch <- prometheus.MustNewConstMetric(c.errors, prometheus.CounterValue, float64(c.errs.Load()))
}

// Kind says what a Sample measures.
type Kind int

// Kinds of samples.
const (
	KindLag Kind = iota
	KindCommitted
	KindEnd
)

// Sample is one value the collector reports: the lag or committed offset of a group on a
// partition, or the end offset of a partition (Group empty).
type Sample struct {
	Kind      Kind
	Group     string
	Topic     string
	Partition int32
	Value     int64
}

// Samples turns kadm's answers into the collector's values, sorted: a group's lag and committed
// offset on every partition that has both known, and each partition's end offset once (from
// the extra listed offsets or from any group's lag), skipping partitions with errors.
func Samples(lags kadm.DescribedGroupLags, ends kadm.ListedOffsets) []Sample {
	var out []Sample
	type tp struct {
		topic     string
		partition int32
	}
	endOf := map[tp]int64{}
	for _, l := range lags.Sorted() {
		for _, m := range l.Lag.Sorted() {
			if m.End.Err == nil && m.End.Offset >= 0 {
				endOf[tp{m.Topic, m.Partition}] = max(endOf[tp{m.Topic, m.Partition}], m.End.Offset)
			}
			if m.Err != nil || m.Lag < 0 {
				continue
			}
			out = append(out, Sample{Kind: KindLag, Group: l.Group, Topic: m.Topic, Partition: m.Partition, Value: m.Lag})
			if m.Commit.At >= 0 {
				out = append(out, Sample{Kind: KindCommitted, Group: l.Group, Topic: m.Topic, Partition: m.Partition, Value: m.Commit.At})
			}
		}
	}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil && o.Offset >= 0 {
			endOf[tp{o.Topic, o.Partition}] = max(endOf[tp{o.Topic, o.Partition}], o.Offset)
		}
	})
	var keys []tp
	for k := range endOf {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b tp) int {
		if a.topic != b.topic {
			if a.topic < b.topic {
				return -1
			}
			return 1
		}
		return int(a.partition - b.partition)
	})
	for _, k := range keys {
		out = append(out, Sample{Kind: KindEnd, Topic: k.topic, Partition: k.partition, Value: endOf[k]})
	}
	return out
}
