package broker

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRestartOnDataDirKeepsRecordsAndOffsets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	const topic, group, n = "restart-test", "restart-group", 500

	b, err := Start(Options{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		cl.Produce(ctx, &kgo.Record{Key: fmt.Appendf(nil, "k%d", i%17), Value: fmt.Appendf(nil, "v%d", i)}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Commit offsets for the first half, so the group's position must survive too.
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	half := kadm.Offsets{}
	ends.Each(func(o kadm.ListedOffset) { half.AddOffset(topic, o.Partition, o.Offset/2, -1) })
	if _, err := adm.CommitOffsets(ctx, group, half); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	b.Close()
	b.Close() // idempotent

	// Restart on the same port and data directory.
	b2, err := Start(Options{Addr: addr, DataDir: dir})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer b2.Close()
	cl2, err := kgo.NewClient(kgo.SeedBrokers(b2.Addr()), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl2.Close()
	seen := map[string]bool{}
	for len(seen) < n {
		fs := cl2.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read back %d of %d records before timeout", len(seen), n)
		}
		if errs := fs.Errors(); len(errs) > 0 {
			t.Fatalf("fetch: %v", errs)
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
	for i := range n {
		if !seen[fmt.Sprintf("v%d", i)] {
			t.Fatalf("record v%d lost across the restart", i)
		}
	}
	committed, err := kadm.NewClient(cl2).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	half.Each(func(o kadm.Offset) {
		got, ok := committed.Lookup(topic, o.Partition)
		if !ok || got.At != o.At {
			t.Errorf("partition %d: committed offset %v after restart, want %d", o.Partition, got.At, o.At)
		}
	})
}

func TestStartRejectsBadAddress(t *testing.T) {
	for _, addr := range []string{"nope", "127.0.0.1:99999", "127.0.0.1:x"} {
		if _, err := Start(Options{Addr: addr}); err == nil {
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
}
