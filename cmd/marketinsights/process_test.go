package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/processors/anomalies"
	"github.com/marketinsightspro/marketinsights/processors/keywords"
	"github.com/marketinsightspro/marketinsights/processors/products"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

func TestCheckGroupSuffix(t *testing.T) {
	for _, tc := range []struct {
		suffix string
		roles  []string
		want   string // part of the error; empty: accepted
	}{
		{"", processRoles, ""},
		{"-v2", []string{"products", "keywords", "anomalies"}, ""},
		{".rebuild_1", []string{"keywords"}, ""},
		{"v 2", []string{"products"}, "only letters"},
		{"/v2", []string{"products"}, "only letters"},
		{"-v2", []string{"products", "notifications"}, "notifications"},
		{"-v2", []string{"analyses"}, "analyses"},
	} {
		err := checkGroupSuffix(tc.suffix, tc.roles)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("checkGroupSuffix(%q, %v) = %v, want it accepted", tc.suffix, tc.roles, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("checkGroupSuffix(%q, %v) = %v, want an error about %q", tc.suffix, tc.roles, err, tc.want)
		}
	}
}

// TestProcessGroupSuffixRebuildsState runs products, keywords and anomalies under a group
// suffix after observations were written: the suffixed groups are the ones running, and the
// product tracker's new table holds the product's state built from the input topic's start.
// It runs on a private embedded broker: a new group reads the catalog's observation topic from
// its start, which on a shared broker (MIP_TEST_KAFKA_BROKERS) holds every earlier run's records.
func TestProcessGroupSuffixRebuildsState(t *testing.T) {
	pk := testenv.StartPrivateKafka(t)
	if code, out, errOut := runCLI(t, "", "--kafka-brokers", pk.Addr, "topics", "apply"); code != 0 {
		t.Fatalf("topics apply: exit %d\n%s%s", code, out, errOut)
	}
	kcfg := pk.Config()
	id := marketv1.NewEventID()
	asin := "B0" + strings.ToUpper(id[len(id)-8:]) // the random end of the id
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	var recs []*kgo.Record
	for i, price := range []int64{1999, 1899, 1799} {
		ev := &marketv1.ProductObserved{
			Envelope: &marketv1.Envelope{EventId: marketv1.NewEventID(), EventTime: timestamppb.New(t0.Add(time.Duration(i) * time.Minute)),
				Producer: "process-test", SchemaVersion: 1},
			Asin: asin, Marketplace: "amazon.com", Source: marketv1.ObservationSource_OBSERVATION_SOURCE_PRODUCT_PAGE,
			Attributes: &marketv1.ProductAttributes{Price: &marketv1.Money{AmountMinor: price, Currency: "USD"}},
		}
		r, err := topics.NewRecord(topics.MustLookup(topics.ProductObservations), asin, ev)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(pk.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	suffix := "-t" + id[len(id)-8:]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := &config.Config{DataDir: t.TempDir(), Kafka: kcfg}
	e := &env{ctx: ctx, cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), stdout: io.Discard, stderr: io.Discard}
	run, err := startProcessors(e, kcfg, []string{"anomalies", "keywords", "products"}, processorFlags{
		AllowedLateness: 10 * time.Minute, TickInterval: time.Second, StorageDir: filepath.Join(cfg.DataDir, "goka"), groupSuffix: suffix,
	}, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []goka.Group{products.Group, keywords.Group, anomalies.Group} {
		if want := string(g) + suffix; !slices.Contains(run.groups, want) {
			t.Errorf("running groups %v, want %s among them", run.groups, want)
		}
	}

	// The new table topic gets the product's state with all three observations applied.
	table := string(goka.GroupTable(products.Group + goka.Group(suffix)))
	var version int64
	for deadline := time.Now().Add(2 * time.Minute); version < 3; {
		if time.Now().After(deadline) {
			t.Fatalf("table %s: state of %s at version %d after 2 minutes, want 3", table, asin, version)
		}
		version = latestVersion(t, pk.Addr, table, asin)
		if version < 3 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	cancel()
	if err := run.wait(); err != nil {
		t.Fatal(err)
	}
}

// latestVersion reads table from its start to its end and returns the version of key's last
// state there (0: none, or the topic does not exist yet).
func latestVersion(t *testing.T, addr, table, key string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(table), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var version int64
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return version
		}
		fs.EachRecord(func(r *kgo.Record) {
			if string(r.Key) != key {
				return
			}
			v, err := products.Codec().Decode(r.Value)
			if err != nil {
				t.Fatalf("decode the state of %s in %s: %v", key, table, err)
			}
			version = v.(*marketv1.ProductState).GetVersion()
		})
		if version >= 3 {
			return version
		}
	}
}
