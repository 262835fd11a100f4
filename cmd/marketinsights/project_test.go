package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

func TestMigrateAndReplayCommands(t *testing.T) {
	args := brokerArgs(t)
	ch := testenv.ClickHouse(t)
	rd := testenv.Redis(t)
	args = append(args, "--clickhouse-addr", ch.Addr, "--clickhouse-database", ch.Database, "--redis-prefix", rd.Prefix)

	code, out, errOut := runCLI(t, "", append(args, "migrate")...)
	if code != 0 || !strings.Contains(out, "migrations applied now, 0 already applied") {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, "", append(args, "migrate")...)
	if code != 0 || !strings.Contains(out, "0 migrations applied now") {
		t.Fatalf("migrate again: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "", append(args, "migrate", "--status")...)
	if code != 0 || !strings.Contains(out, "0001_observations") || strings.Contains(out, "pending") {
		t.Fatalf("migrate --status: exit %d\n%s", code, out)
	}

	kw := "replay cli " + marketv1.NewEventID()[:8]
	page := fmt.Sprintf(`{"envelope":{"event_id":%q,"event_time":"2026-11-25T10:00:00Z"},"keyword":%q,"marketplace":"amazon.com","page":1,"listings":[{"asin":"B0REPLAY01","position":1,"attributes":{"title":"Replay cable","price":{"amount_minor":"1299","currency":"USD"},"rating":4.5,"review_count":"120"}},{"asin":"B0REPLAY02","position":2,"attributes":{"price":{"amount_minor":"999","currency":"USD"}}}]}
`, marketv1.NewEventID(), kw)
	if code, out, errOut := runCLI(t, page, append(args, "produce", topics.SearchResults)...); code != 0 {
		t.Fatalf("produce: exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut = runCLI(t, "", append(args, "replay", "--read-models", "clickhouse,redis", "--flush-interval", "50ms")...)
	if code != 0 || !strings.Contains(out, "clickhouse: rebuilt 10 tables") || !strings.Contains(out, "redis: rebuilt generation") {
		t.Fatalf("replay: exit %d\n%s%s", code, out, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var n uint64
	if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM search_results FINAL WHERE keyword = ?", kw).Scan(&n); err != nil || n != 2 {
		t.Fatalf("search_results rows of %q after replay: %d, %v; want 2", kw, n, err)
	}
	gen, err := rd.Client.Get(ctx, rd.Prefix+"current").Result()
	if err != nil {
		t.Fatalf("no current Redis generation after replay: %v", err)
	}
	members, err := rd.Client.ZRange(ctx, gen+"k:"+kw+":by:price", 0, -1).Result()
	if err != nil || strings.Join(members, ",") != "B0REPLAY02,B0REPLAY01" {
		t.Fatalf("price order of %q in %s: %v, %v", kw, gen, members, err)
	}

	// A second replay builds a new generation, switches to it and deletes the old one.
	code, out, errOut = runCLI(t, "", append(args, "replay", "--read-models", "redis", "--flush-interval", "50ms")...)
	if code != 0 || !strings.Contains(out, "deleted") {
		t.Fatalf("second replay: exit %d\n%s%s", code, out, errOut)
	}
	gen2, _ := rd.Client.Get(ctx, rd.Prefix+"current").Result()
	if gen2 == gen {
		t.Fatalf("generation still %s after the second replay", gen)
	}
	if n, _ := rd.Client.Exists(ctx, gen+"k:"+kw+":by:price").Result(); n != 0 {
		t.Errorf("old generation %s not deleted", gen)
	}
}
