package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/projections"
	"github.com/marketinsightspro/marketinsights/topics"
)

// outage is how long ClickHouse is down while events keep flowing.
const outage = 30 * time.Second

func TestClickHouseStoppedWhileEventsFlowLosesAndDuplicatesNothing(t *testing.T) {
	p := newPipeline(t)
	server := testenv.StartPrivateClickHouse(t)
	cfg := config.ClickHouse{Addr: server.Addr, Database: "market_fault", Username: "default"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := CreateDatabase(ctx, cfg, cfg.Database); err != nil {
		t.Fatal(err)
	}
	conn, err := Open(ctx, cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := projections.NewMetrics(reg)
	obs, _ := LookupTable("observations")
	p.run(t, conn, []Table{obs}, projections.Options{BatchRows: 50, MaxBackoff: 2 * time.Second, Metrics: m})

	n := 0
	send := func(k int) {
		for range k {
			p.produce(t, topics.ProductObservations, observation("fault-"+itoa(n), "B0FAULT"+itoa(100+n%20), t0.Add(time.Duration(n)*time.Second), int64(1000+n)))
			n++
		}
	}
	send(100)
	waitRows(t, conn, "SELECT count() FROM observations", 100, 60*time.Second)

	server.Stop()
	stopped := time.Now()
	for time.Since(stopped) < outage {
		send(10)
		time.Sleep(time.Second)
	}
	server.Start()
	t.Logf("ClickHouse was down %s while %d more events arrived", time.Since(stopped).Round(time.Second), n-100)
	send(50)

	waitRows(t, conn, "SELECT uniqExact(event_id) FROM observations", uint64(n), 120*time.Second)
	waitRows(t, conn, "SELECT count() FROM observations FINAL", uint64(n), 30*time.Second)
	if r := testutil.ToFloat64(m.Retries("clickhouse/observations")); r == 0 {
		t.Error("no write was retried: was ClickHouse really down?")
	}
}
