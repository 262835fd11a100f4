package clickhouse

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/projections"
	"github.com/marketinsightspro/marketinsights/topics"
)

func TestReplayRebuildsTheSameContentAndSwapsItIn(t *testing.T) {
	p := newPipeline(t)
	tables := Tables()
	for base, evs := range sample() {
		p.produce(t, base, evs...)
	}
	// More history than one batch: 300 observations of 30 products.
	for i := range 300 {
		p.produce(t, topics.ProductObservations, observation(
			"obs-h-"+itoa(i), "B0HIST"+itoa(1000+i%30), t0.Add(time.Duration(i)*time.Minute), int64(1000+i)))
	}
	p.run(t, p.conn, tables, projections.Options{})
	for table, n := range sampleRows {
		if table == "observations" {
			n += 300
		}
		waitRows(t, p.conn, "SELECT count() FROM "+table, n, 60*time.Second)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	live := map[string]Content{}
	for _, tb := range tables {
		c, err := Checksum(ctx, p.conn, tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		live[tb.Name] = c
	}

	r := Replay{
		Kafka:      p.kafka.Config(),
		ClickHouse: config.ClickHouse{Addr: p.ch.Addr, Database: p.ch.Database, Username: "default"},
		TopicName:  p.topic,
		Options:    projections.Options{BatchRows: 64, FlushInterval: 50 * time.Millisecond, DeadLetterTopic: p.dlq, Log: slog.New(slog.DiscardHandler)},
		KeepOld:    true,
		Progress:   &Progress{},
	}
	res, err := r.Run(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = p.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(res.Old))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Progress.Done(), r.Progress.Total(); got != want || want < 310 {
		t.Errorf("progress %d of %d records; want all of at least 310", got, want)
	}
	for _, tb := range tables {
		c, err := Checksum(ctx, p.conn, tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		if c != live[tb.Name] {
			t.Errorf("%s: replayed content %+v, live content %+v", tb.Name, c, live[tb.Name])
		}
	}
	// The replaced tables were moved aside, not lost.
	var old uint64
	if err := p.conn.QueryRow(ctx, "SELECT count() FROM "+quoteIdent(res.Old)+".observations").Scan(&old); err != nil || old == 0 {
		t.Errorf("old observations: %d rows, err %v", old, err)
	}
	// The live projectors keep writing, now into the swapped-in tables.
	p.produce(t, topics.ProductObservations, observation("obs-after-swap", "B0TEST0001", t0.Add(time.Hour), 999))
	waitRows(t, p.conn, "SELECT count() FROM observations WHERE event_id = 'obs-after-swap'", 1, 60*time.Second)
}

func itoa(i int) string { return strconv.Itoa(i) }
