package main

import (
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/internal/kafkametrics"
	"github.com/marketinsightspro/marketinsights/topics"
)

// withClientMetrics returns k with franz-go client metrics (kprom) on reg for every client built
// from it.
func withClientMetrics(k config.Kafka, reg prometheus.Registerer) config.Kafka {
	k.ClientHooks = kafkametrics.ClientHooks(reg)
	return k
}

// registerLag registers on reg a collector of the consumer lag of groups and of the end offsets
// of every catalog topic, read when Prometheus scrapes; stop closes its admin client.
func registerLag(e *env, k config.Kafka, reg prometheus.Registerer, groups []string) (stop func(), err error) {
	adm, err := kafkaclient.NewAdmin(k, e.log)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range topics.All() {
		names = append(names, t.Name)
	}
	c := kafkametrics.NewLagCollector(adm, groups, names, e.log.With("component", "lag"))
	if err := reg.Register(c); err != nil {
		adm.Close()
		return nil, err
	}
	return func() { reg.Unregister(c); adm.Close() }, nil
}

// dashboardsHint says where the Grafana dashboards are: the absolute path of dashboards/ when
// the demo runs from the repository (as `make demo` does), else the folder's name.
func dashboardsHint() string {
	if abs, err := filepath.Abs("dashboards"); err == nil {
		if _, err := os.Stat(filepath.Join(abs, "market-overview.json")); err == nil {
			return abs
		}
	}
	return "dashboards/ of the repository"
}
