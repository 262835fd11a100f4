package redis

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/topics"
)

// TestSubscriptionSink applies subscription changes one step at a time and checks the users'
// hashes after each: upserts, an owner change, a deletion, an older upsert after the deletion,
// a redelivery, and a Kafka tombstone.
func TestSubscriptionSink(t *testing.T) {
	r := newRig(t, Options{})
	msgs := subscribe(t, r.env.Client, r.ks.Channel())
	ids := func(user string) []string { return sortedKeys(r.hash(t, UserSubscriptionsKey(user))) }
	steps := []struct {
		name   string
		events []proto.Message
		want   map[string][]string // user -> subscription ids
	}{
		{"two upserts", []proto.Message{subscriptionChange(1, "s1", "alice", "water bottle", time.Minute, false),
			subscriptionChange(2, "s2", "alice", "yoga mat", time.Minute, false)},
			map[string][]string{"alice": {"s1", "s2"}, "bob": {}}},
		{"s2 moves to bob", []proto.Message{subscriptionChange(3, "s2", "bob", "yoga mat", 2*time.Minute, false)},
			map[string][]string{"alice": {"s1"}, "bob": {"s2"}}},
		{"an older upsert of s2 changes nothing", []proto.Message{subscriptionChange(4, "s2", "alice", "yoga mat", 90*time.Second, false)},
			map[string][]string{"alice": {"s1"}, "bob": {"s2"}}},
		{"s1 deleted", []proto.Message{subscriptionChange(5, "s1", "", "", 3*time.Minute, true)},
			map[string][]string{"alice": {}, "bob": {"s2"}}},
		{"an upsert older than the deletion does not bring s1 back", []proto.Message{subscriptionChange(6, "s1", "alice", "water bottle", 150*time.Second, false)},
			map[string][]string{"alice": {}, "bob": {"s2"}}},
		{"a later upsert re-creates s1", []proto.Message{subscriptionChange(7, "s1", "alice", "kettle", 4*time.Minute, false)},
			map[string][]string{"alice": {"s1"}, "bob": {"s2"}}},
	}
	for _, st := range steps {
		r.write(t, st.events...)
		for user, want := range st.want {
			if got := ids(user); !slices.Equal(got, want) {
				t.Errorf("%s: %s has %v, want %v", st.name, user, got, want)
			}
		}
	}
	var row SubscriptionRow
	if err := json.Unmarshal([]byte(r.hash(t, UserSubscriptionsKey("alice"))["s1"]), &row); err != nil {
		t.Fatal(err)
	}
	if row.Keyword != "kettle" || row.UserID != "alice" || row.MinSeverity != "warning" || !slices.Equal(row.Kinds, []string{"price_drop"}) ||
		row.Channel != "in_app" || row.Time != ms(4*time.Minute) || row.EventID != eventID(7) {
		t.Errorf("row of s1: %+v", row)
	}

	sum := r.checksum(t)
	r.write(t, subscriptionChange(7, "s1", "alice", "kettle", 4*time.Minute, false), subscriptionChange(3, "s2", "bob", "yoga mat", 2*time.Minute, false))
	if r.checksum(t) != sum {
		t.Error("redelivered changes changed the keys")
	}

	// A tombstone of the compacted topic deletes the subscription its key names.
	rows, err := r.sinks[topics.Subscriptions].Rows(&kgo.Record{Key: []byte("s2"), Timestamp: t0.Add(5 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.sinks[topics.Subscriptions].Write(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	if got := ids("bob"); len(got) != 0 {
		t.Errorf("after the tombstone bob has %v", got)
	}
	if got := msgs.drain(t); len(got) != 0 {
		t.Errorf("subscription changes published %q; they publish nothing", got)
	}
}
