package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/fstest"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
	"github.com/marketinsightspro/marketinsights/projections"
	"github.com/marketinsightspro/marketinsights/topics"
)

// sampleRows are the rows sample() projects into each table.
var sampleRows = map[string]uint64{"observations": 1, "search_results": 2, "product_latest": 1, "product_changes": 1, "keyword_windows": 1,
	"anomalies": 1, "notification_deliveries": 1, "scrape_jobs": 1, "analyses": 1, "user_actions": 1}

func TestStatements(t *testing.T) {
	tests := []struct {
		name string
		sql  string
		want []string
	}{
		{"one", "-- c\nCREATE TABLE a (x UInt8) ENGINE = Memory\n", []string{"CREATE TABLE a (x UInt8) ENGINE = Memory"}},
		{"two", "CREATE TABLE a (x UInt8) ENGINE = Memory;\n\n-- second\nCREATE TABLE b (x UInt8) ENGINE = Memory;\n",
			[]string{"CREATE TABLE a (x UInt8) ENGINE = Memory", "CREATE TABLE b (x UInt8) ENGINE = Memory"}},
		{"only comments", "-- nothing\n\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Statements(tt.sql)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Statements() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEmbeddedMigrationsAreWellFormed(t *testing.T) {
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range migs {
		if m.Version != i+1 {
			t.Errorf("migration %d has version %d: versions must be 1, 2, 3, ... without gaps", i+1, m.Version)
		}
		if len(Statements(m.SQL)) == 0 {
			t.Errorf("migration %04d_%s has no statement", m.Version, m.Name)
		}
	}
}

func TestMigrateIsIdempotentAndRefusesEditedMigrations(t *testing.T) {
	ch := testenv.ClickHouse(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Migrate(ctx, ch.Conn)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := Migrations()
	if len(res.Applied) != len(all) || len(res.Current) != 0 {
		t.Fatalf("first run applied %d, current %d; want %d, 0", len(res.Applied), len(res.Current), len(all))
	}
	for _, tb := range Tables() {
		var exists uint8
		if err := ch.Conn.QueryRow(ctx, "EXISTS TABLE "+tb.Name).Scan(&exists); err != nil || exists != 1 {
			t.Errorf("table %s missing after migrate (err %v)", tb.Name, err)
		}
	}
	res, err = Migrate(ctx, ch.Conn)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Applied) != 0 || len(res.Current) != len(all) {
		t.Fatalf("second run applied %d, current %d; want 0, %d", len(res.Applied), len(res.Current), len(all))
	}

	// A migration edited after it was applied is refused, naming it; a new one is applied.
	fsys := fstest.MapFS{"m/0001_extra.sql": {Data: []byte("CREATE TABLE IF NOT EXISTS extra (x UInt8) ENGINE = Memory\n")}}
	other := testenv.ClickHouse(t)
	migs, err := readMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := migrate(ctx, other.Conn, migs); err != nil {
		t.Fatal(err)
	}
	fsys["m/0001_extra.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS extra (x UInt16) ENGINE = Memory\n")}
	fsys["m/0002_more.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS more (x UInt8) ENGINE = Memory\n")}
	migs, _ = readMigrations(fsys, "m")
	_, err = migrate(ctx, other.Conn, migs)
	if !errors.Is(err, ErrMigrationChanged) {
		t.Fatalf("edited migration: err = %v, want ErrMigrationChanged", err)
	}
	t.Logf("edited migration refused: %v", err)
	fsys["m/0001_extra.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE IF NOT EXISTS extra (x UInt8) ENGINE = Memory\n")}
	migs, _ = readMigrations(fsys, "m")
	res, err = migrate(ctx, other.Conn, migs)
	if err != nil || len(res.Applied) != 1 || res.Applied[0].Name != "more" {
		t.Fatalf("new migration: %+v, %v; want 0002_more applied", res, err)
	}
}

func TestProjectEveryTableExactly(t *testing.T) {
	p := newPipeline(t)
	for base, evs := range sample() {
		p.produce(t, base, evs...)
	}
	p.run(t, p.conn, Tables(), projections.Options{})
	for table, n := range sampleRows {
		waitRows(t, p.conn, "SELECT count() FROM "+table, n, 60*time.Second)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	checks := []struct {
		query string
		want  string
	}{
		{"SELECT concat(event_id, '|', toString(event_time), '|', asin, '|', source, '|', toString(price_minor), '|', currency, '|', toString(rating), '|', toString(review_count), '|', toString(rank), '|', rank_category, '|', toString(prime), '|', availability, '|', toString(sponsored), '|', toString(position), '|', toString(isNull(list_price_minor))) FROM observations",
			"obs-1|2026-11-20 10:30:15|B0TEST0001|search_page|1299|USD|4.6|12034|42|Electronics|1|in_stock|0|3|1"},
		{"SELECT arrayStringConcat(groupArray(concat(asin, ':', toString(position), ':', ifNull(toString(sponsored), 'null'), ':', ifNull(toString(price_minor), 'null'))), ',') FROM (SELECT * FROM search_results ORDER BY position)",
			"B0TEST0001:1:1:1299,B0TEST0002:2:null:null"},
		{"SELECT concat(asin, '|', toString(version), '|', toString(price_minor), '|', toString(price_ewma), '|', toString(observation_count)) FROM product_latest",
			"B0TEST0001|7|1299|1350.5|7"},
		{"SELECT concat(arrayStringConcat(changes, ','), '|', toString(price_before_minor), '|', toString(price_after_minor)) FROM product_changes",
			"price|1499|1299"},
		{"SELECT concat(window_name, '|', window_kind, '|', toString(window_start), '|', toString(window_end), '|', toString(version), '|', toString(competitor_count), '|', toString(price_median_minor), '|', arrayStringConcat(sov_brand, ','), '|', arrayStringConcat(top_asin, ','), '|', toString(top_units_high[1]), '|', toString(isNull(price_p90_minor))) FROM keyword_windows",
			"tumbling_1h|tumbling|2026-11-20 10:00:00|2026-11-20 11:00:00|3|2|1249|Anker,Ugreen|B0TEST0001|1999|1"},
		{"SELECT concat(anomaly_id, '|', kind, '|', severity, '|', toString(score), '|', baseline_method, '|', explanation) FROM anomalies",
			"an-1|price_drop|warning|4.2|ewma|Price fell 13% below its usual $14.99."},
		{"SELECT concat(notification_id, '|', status, '|', toString(http_status)) FROM notification_deliveries", "n-1|delivered|200"},
		{"SELECT concat(job_id, '|', status, '|', toString(pages_done), '/', toString(pages_total)) FROM scrape_jobs", "job-1|running|1/3"},
		{"SELECT concat(analysis_id, '|', type, '|', keyword, '|', step) FROM analyses", "a-1|requested|usb c cable|requested"},
		{"SELECT concat(user_id, '|', kind, '|', arrayStringConcat(param_names, ','), '|', arrayStringConcat(param_values, ',')) FROM user_actions", "u-1|report_viewed|order,sort|desc,sales"},
	}
	for _, c := range checks {
		var got string
		if err := p.conn.QueryRow(ctx, c.query).Scan(&got); err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.query, got, c.want)
		}
	}
}

func TestRedeliveryLeavesOneLogicalRow(t *testing.T) {
	p := newPipeline(t)
	tables := Tables()
	for base, evs := range sample() {
		p.produce(t, base, evs...)
	}
	stop := p.run(t, p.conn, tables, projections.Options{})
	for table, n := range sampleRows {
		waitRows(t, p.conn, "SELECT count() FROM "+table, n, 60*time.Second)
	}
	stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	before := map[string]Content{}
	for _, tb := range tables {
		c, err := Checksum(ctx, p.conn, tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		before[tb.Name] = c
	}
	// The same events again (a producer retry), and every record projected once more by a new group
	// (a consumer that lost its offsets): raw rows double, logical rows do not.
	for base, evs := range sample() {
		p.produce(t, base, evs...)
	}
	p.run(t, p.conn, tables, projections.Options{Group: p.group + "again-"})
	for table, n := range sampleRows { // first + redelivered + re-projected
		waitRows(t, p.conn, "SELECT count() FROM "+table, 3*n, 60*time.Second)
	}
	for _, tb := range tables {
		c, err := Checksum(ctx, p.conn, tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		if c != before[tb.Name] {
			t.Errorf("%s: content %+v after redelivery, %+v before", tb.Name, c, before[tb.Name])
		}
	}
}

func TestPoisonRecordIsDeadLetteredAndProjectionGoesOn(t *testing.T) {
	p := newPipeline(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	bad := &kgo.Record{Topic: p.topic(topics.ProductObservations), Key: []byte("B0POISON01"), Value: []byte("\xff\xff not protobuf")}
	if err := p.cl.ProduceSync(ctx, bad).FirstErr(); err != nil {
		t.Fatal(err)
	}
	p.produce(t, topics.ProductObservations, observation("obs-after", "B0POISON01", t0, 500))
	obs, _ := LookupTable("observations")
	p.run(t, p.conn, []Table{obs}, projections.Options{})
	waitRows(t, p.conn, "SELECT count() FROM observations WHERE event_id = 'obs-after'", 1, 60*time.Second)

	cl := p.kafka.Client(t, kgo.ConsumeTopics(p.dlq), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fetches := cl.PollRecords(ctx, 1)
	if err := fetches.Err(); err != nil {
		t.Fatal(err)
	}
	recs := fetches.Records()
	if len(recs) != 1 || string(recs[0].Value) != string(bad.Value) || string(recs[0].Key) != "B0POISON01" {
		t.Fatalf("dead letters = %v, want the poison record", recs)
	}
	stage, _ := topics.Header(recs[0], topics.HeaderDLQStage)
	if stage != "project/clickhouse/observations" {
		t.Errorf("dlq-stage = %q", stage)
	}
	if e, _ := topics.Header(recs[0], topics.HeaderDLQError); e == "" {
		t.Error("dead letter without dlq-error header")
	}
}
