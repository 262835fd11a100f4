package topics_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/topics"
)

func TestApplyIsIdempotentAndReportsDrift(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	k := testenv.Kafka(t)
	adm := k.Admin(t)
	catalog := k.Catalog(t)
	opts := topics.ApplyOptions{Replication: -1}

	first, err := topics.Apply(ctx, adm, catalog, opts)
	if err != nil {
		t.Fatalf("first apply: %v", err)
	}
	for _, r := range first {
		if r.Action != topics.ActionCreated {
			t.Fatalf("first apply: %s %s, want created", r.Topic, r.Action)
		}
	}
	second, err := topics.Apply(ctx, adm, catalog, opts)
	if err != nil {
		t.Fatalf("second apply: %v", err)
	}
	for _, r := range second {
		if r.Action != topics.ActionUnchanged || len(r.Drift) > 0 {
			t.Fatalf("second apply changed %s: %s %v", r.Topic, r.Action, r.Drift)
		}
	}

	// Someone shortens a retention by hand: apply reports it, --fix-configs sets it back.
	var target topics.Topic
	for _, tp := range catalog {
		if tp.Cleanup == topics.CleanupDelete && tp.Retention > 0 {
			target = tp
			break
		}
	}
	one := "3600000"
	if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: &one}}, target.Name); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		res, _ := topics.Apply(ctx, adm, []topics.Topic{target}, opts)
		return len(res) == 1 && res[0].Action == topics.ActionDrift
	}, "drift to be reported")
	res, _ := topics.Apply(ctx, adm, []topics.Topic{target}, opts)
	if len(res[0].Drift) != 1 || res[0].Drift[0] != "retention.ms: have 3600000, catalog wants "+target.Configs()["retention.ms"] {
		t.Fatalf("drift = %q", res[0].Drift)
	}
	fixed, err := topics.Apply(ctx, adm, []topics.Topic{target}, topics.ApplyOptions{Replication: -1, FixConfigs: true})
	if err != nil || fixed[0].Action != topics.ActionFixed {
		t.Fatalf("fix: %+v, %v", fixed, err)
	}
	waitFor(t, func() bool {
		res, _ := topics.Apply(ctx, adm, []topics.Topic{target}, opts)
		return len(res) == 1 && res[0].Action == topics.ActionUnchanged
	}, "the fixed topic to be unchanged")
}

// waitFor polls cond for up to 10 s (Apache Kafka applies configs asynchronously).
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
