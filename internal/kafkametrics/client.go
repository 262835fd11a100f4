package kafkametrics

import (
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kprom"
)

// ClientPrefix starts the name of every franz-go client metric (kprom's, namespace
// "marketinsights", subsystem "kafka_client"), e.g. marketinsights_kafka_client_fetch_records_total.
const ClientPrefix = "marketinsights_kafka_client_"

// ClientHooks returns a function for config.Kafka.ClientHooks that gives each new franz-go client
// its own kprom metrics, registered on reg when the client starts and unregistered when it
// closes. Every series has the labels client (a number unique in the process) and group (the
// client's consumer group, or "" for producers and admin clients); produce and fetch metrics
// are by topic (records and uncompressed bytes), connection metrics without a broker label.
func ClientHooks(reg prometheus.Registerer) func() []any {
	var seq atomic.Int64
	return func() []any {
		return []any{&clientHook{reg: reg, id: seq.Add(1)}}
	}
}

// clientHook creates its kprom.Metrics when its client starts, which kgo reports before any
// other hook, so the embedded pointer is set before a promoted hook method can run.
type clientHook struct {
	*kprom.Metrics
	reg prometheus.Registerer
	id  int64
}

// OnNewClient creates and registers the client's metrics.
func (h *clientHook) OnNewClient(cl *kgo.Client) {
	group, _ := cl.OptValue(kgo.ConsumerGroup).(string)
	h.Metrics = kprom.NewMetrics("marketinsights",
		kprom.Subsystem("kafka_client"),
		kprom.Registry(nil), // collector mode: registered below as one collector
		kprom.WithStaticLabel(prometheus.Labels{"client": strconv.FormatInt(h.id, 10), "group": group}),
		kprom.BrokerLabels(),
		kprom.FetchAndProduceDetail(kprom.ByTopic, kprom.Records, kprom.UncompressedBytes, kprom.ConsistentNaming),
	)
	h.Metrics.OnNewClient(cl)
	_ = h.reg.Register(h.Metrics) // describes nothing until used: an unchecked collector, never refused
}

// OnClientClosed unregisters the client's metrics.
func (h *clientHook) OnClientClosed(*kgo.Client) {
	if h.Metrics != nil {
		h.reg.Unregister(h.Metrics)
	}
}

var (
	_ kgo.HookNewClient    = (*clientHook)(nil)
	_ kgo.HookClientClosed = (*clientHook)(nil)
	_ kgo.HookBrokerWrite  = (*clientHook)(nil)
)
