package kafkametrics

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
)

func member(topic string, p int32, commit, end, lag int64, err error) kadm.GroupMemberLag {
	return kadm.GroupMemberLag{Topic: topic, Partition: p, Commit: kadm.Offset{Topic: topic, Partition: p, At: commit},
		End: kadm.ListedOffset{Topic: topic, Partition: p, Offset: end}, Lag: lag, Err: err}
}

func TestSamples(t *testing.T) {
	broken := errors.New("not coordinator")
	for _, tc := range []struct {
		name string
		lags kadm.DescribedGroupLags
		ends kadm.ListedOffsets
		want []Sample
	}{
		{name: "nothing"},
		{
			name: "two groups on one topic: the end offset once",
			lags: kadm.DescribedGroupLags{
				"b": {Group: "b", Lag: kadm.GroupLag{"t": {0: member("t", 0, 7, 10, 3, nil)}}},
				"a": {Group: "a", Lag: kadm.GroupLag{"t": {0: member("t", 0, 10, 10, 0, nil), 1: member("t", 1, -1, 4, 4, nil)}}},
			},
			want: []Sample{
				{KindLag, "a", "t", 0, 0}, {KindCommitted, "a", "t", 0, 10},
				{KindLag, "a", "t", 1, 4},
				{KindLag, "b", "t", 0, 3}, {KindCommitted, "b", "t", 0, 7},
				{KindEnd, "", "t", 0, 10}, {KindEnd, "", "t", 1, 4},
			},
		},
		{
			name: "a partition with an error has no lag, extra topics add end offsets",
			lags: kadm.DescribedGroupLags{"a": {Group: "a", Lag: kadm.GroupLag{"t": {0: member("t", 0, 1, 5, -1, broken)}}}},
			ends: kadm.ListedOffsets{"u": {0: {Topic: "u", Partition: 0, Offset: 9}, 1: {Topic: "u", Partition: 1, Err: broken}}},
			want: []Sample{{KindEnd, "", "t", 0, 5}, {KindEnd, "", "u", 0, 9}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Samples(tc.lags, tc.ends); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

// TestLagCollectorOnBroker commits 4 of 10 records of a group and expects a lag of 6, and the
// client metrics of the producing client by topic, gone after it closes.
func TestLagCollectorOnBroker(t *testing.T) {
	k := testenv.Kafka(t)
	topic, extra := k.TopicName(t, "lag"), k.TopicName(t, "extra")
	k.CreateTopic(t, topic, 1)
	k.CreateTopic(t, extra, 1)
	group := "lag-test-" + topic
	reg := prometheus.NewRegistry()
	cfg := k.Config()
	cfg.ClientHooks = ClientHooks(reg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	prod, err := kafkaclient.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// kgo may call the batch-written hook just after it resolved the batch's promise: wait a little.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n := testutil.ToFloat64(collectorOf(t, reg, ClientPrefix+"produce_records_total", "topic", topic))
		if n == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("client metric produce_records_total{topic=%s} = %v, want 10", topic, n)
		}
	}
	prod.Close()
	if names := familyNames(t, reg); strings.Contains(names, ClientPrefix) {
		t.Errorf("client metrics left after Close: %s", names)
	}

	adm := k.Admin(t)
	if _, err := adm.CommitOffsets(ctx, group, kadm.Offsets{topic: {0: {Topic: topic, Partition: 0, At: 4, LeaderEpoch: -1}}}); err != nil {
		t.Fatal(err)
	}
	c := NewLagCollector(adm, []string{group}, []string{extra}, nil)
	want := fmt.Sprintf(`
# HELP %[1]s Offset a consumer group committed on a partition, by group, topic and partition.
# TYPE %[1]s gauge
%[1]s{group=%[4]q,partition="0",topic=%[5]q} 4
# HELP %[2]s Records of a partition that a consumer group has not committed yet (end offset minus committed offset), by group, topic and partition.
# TYPE %[2]s gauge
%[2]s{group=%[4]q,partition="0",topic=%[5]q} 6
# HELP %[3]s End offset (high watermark, or last stable offset) of a partition: records ever produced to it, by topic and partition.
# TYPE %[3]s gauge
%[3]s{partition="0",topic=%[6]q} 0
%[3]s{partition="0",topic=%[5]q} 10
`, CommittedName, LagName, EndOffsetName, group, topic, extra)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), CommittedName, LagName, EndOffsetName); err != nil {
		t.Error(err)
	}
	if n := testutil.ToFloat64(onlyErrors{c}); n != 0 {
		t.Errorf("%s = %v, want 0", CollectErrorName, n)
	}
}

// onlyErrors passes on the collector's error counter alone.
type onlyErrors struct{ c *LagCollector }

func (o onlyErrors) Describe(ch chan<- *prometheus.Desc) { ch <- o.c.errors }
func (o onlyErrors) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric, 64)
	go func() { o.c.Collect(all); close(all) }()
	for m := range all {
		if m.Desc() == o.c.errors {
			ch <- m
		}
	}
}

// collectorOf returns a collector of the one series of name whose label has value.
func collectorOf(t *testing.T, g prometheus.Gatherer, name, label, value string) prometheus.Collector {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "copy", Help: "copy"}, func() float64 { return m.GetCounter().GetValue() })
				}
			}
		}
	}
	t.Fatalf("no series %s{%s=%q} in %s", name, label, value, familyNames(t, g))
	return nil
}

func familyNames(t *testing.T, g prometheus.Gatherer) string {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	return strings.Join(names, " ")
}
