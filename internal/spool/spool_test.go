package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/testenv"
)

func TestCodecRoundTrip(t *testing.T) {
	at := time.UnixMilli(1772366400123)
	tests := []struct {
		name string
		rec  *kgo.Record
	}{
		{"value only", &kgo.Record{Topic: "t", Value: []byte("v")}},
		{"nil key and value", &kgo.Record{Topic: "t"}},
		{"empty key and value", &kgo.Record{Topic: "t", Key: []byte{}, Value: []byte{}}},
		{"everything", &kgo.Record{Topic: "market.user-actions.v1", Key: []byte("k\x00"), Value: bytes.Repeat([]byte{0xff}, 3000), Timestamp: at,
			Headers: []kgo.RecordHeader{{Key: "schema", Value: []byte("market.v1.UserAction")}, {Key: "empty"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			frame, err := encode(tc.rec)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decode(frame[headerLen:])
			if err != nil {
				t.Fatal(err)
			}
			if got.Topic != tc.rec.Topic || !bytes.Equal(got.Key, tc.rec.Key) || (got.Key == nil) != (tc.rec.Key == nil) ||
				!bytes.Equal(got.Value, tc.rec.Value) || (got.Value == nil) != (tc.rec.Value == nil) || !got.Timestamp.Equal(tc.rec.Timestamp) ||
				len(got.Headers) != len(tc.rec.Headers) {
				t.Errorf("got %+v, want %+v", got, tc.rec)
			}
			for i, h := range got.Headers {
				if h.Key != tc.rec.Headers[i].Key || !bytes.Equal(h.Value, tc.rec.Headers[i].Value) {
					t.Errorf("header %d: %+v", i, h)
				}
			}
		})
	}
	if _, err := encode(&kgo.Record{Value: []byte("x")}); err == nil {
		t.Error("a record without a topic was encoded")
	}
}

// pending reads every record the spool holds from its cursor, without sending.
func pending(t *testing.T, s *Spool) []*kgo.Record {
	t.Helper()
	rd := &reader{s: s}
	defer rd.close()
	recs, _, err := rd.read(s.cursor, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func values(recs []*kgo.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Value)
	}
	return out
}

func numbered(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func appendValues(t *testing.T, s *Spool, topic string, vals []string) {
	t.Helper()
	for _, v := range vals {
		if err := s.Append(&kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte(v)}); err != nil {
			t.Fatalf("append %s: %v", v, err)
		}
	}
}

// TestSpoolBoundsAndRecovery: a full spool refuses records (counted) instead of waiting, the
// records survive a reopen across segments, a torn last record is cut off, and a second
// process cannot open the directory.
func TestSpoolBoundsAndRecovery(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(nil, Options{Dir: dir, MaxBytes: 64 << 10, SegmentBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(nil, Options{Dir: dir}); err == nil {
		t.Fatal("a second Open of the same directory succeeded")
	}
	big := string(bytes.Repeat([]byte("x"), 1000))
	accepted, refused := 0, 0
	for i := range 100 {
		err := s.Append(&kgo.Record{Topic: "t", Value: []byte(fmt.Sprintf("%03d%s", i, big))})
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, ErrFull):
			refused++
		default:
			t.Fatal(err)
		}
	}
	st := s.Stats()
	if accepted == 0 || refused == 0 || st.Dropped != int64(refused) || st.Appended != int64(accepted) || st.Bytes > 64<<10 {
		t.Fatalf("accepted %d, refused %d, stats %+v", accepted, refused, st)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(&kgo.Record{Topic: "t", Value: []byte("late")}); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v", err)
	}

	// A torn record at the end of the last segment, as a crash in the middle of a write leaves.
	segs, _ := os.ReadDir(dir)
	var last string
	for _, e := range segs {
		if e.Name() > last && len(e.Name()) > 4 && e.Name()[len(e.Name())-4:] == segSuffix {
			last = e.Name()
		}
	}
	f, err := os.OpenFile(dir+"/"+last, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	frame, _ := encode(&kgo.Record{Topic: "t", Value: []byte("torn")})
	f.Write(frame[:len(frame)-3])
	f.Close()

	s, err = Open(nil, Options{Dir: dir, MaxBytes: 64 << 10, SegmentBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := pending(t, s)
	if len(got) != accepted || s.Stats().Corrupt != 1 || s.Stats().Bytes != st.Bytes {
		t.Fatalf("after reopen: %d records (want %d), stats %+v (bytes before %d)", len(got), accepted, s.Stats(), st.Bytes)
	}
	for i, r := range got {
		if want := fmt.Sprintf("%03d", i); string(r.Value[:3]) != want {
			t.Fatalf("record %d is %s, want %s", i, r.Value[:3], want)
		}
	}
}

// TestSpoolSurvivesBrokerOutageAndRestart sends records through a spool to an embedded broker,
// stops the broker, appends more (Append does not wait for Kafka), stops the spool as a
// process stop would, restarts the broker and a new spool on the same directory, and checks
// that the topic ends with every record, in order, and that the sent segments are deleted.
func TestSpoolSurvivesBrokerOutageAndRestart(t *testing.T) {
	k := testenv.StartPrivateKafka(t)
	addr := k.Addr
	const topic = "user-actions"
	newClient := func() *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }))
		if err != nil {
			t.Fatal(err)
		}
		return cl
	}
	cl := newClient()
	if _, err := kadm.NewClient(cl).CreateTopic(context.Background(), 1, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	start := func(cl *kgo.Client) (*Spool, func()) {
		s, err := Open(cl, Options{Dir: dir, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		return s, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("spool run: %v", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("spool close: %v", err)
			}
		}
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	s, stop := start(cl)
	appendValues(t, s, topic, numbered(1, 50))
	waitFor("the first 50 records to be acknowledged", func() bool { return s.Stats().Sent == 50 })

	k.Stop() // Kafka away
	appendValues(t, s, topic, numbered(51, 100))
	if st := s.Stats(); st.Appended != 100 || st.Sent != 50 || st.Bytes == 0 {
		t.Errorf("with the broker down: %+v", st)
	}
	stop() // the process stops with 50 records unsent
	cl.Close()

	k.Start()
	cl = newClient()
	defer cl.Close()
	s, stop = start(cl)
	defer stop()
	if got := values(pending(t, s)); !slices.Equal(got, numbered(51, 100)) {
		t.Fatalf("reopened spool holds %v", got)
	}
	appendValues(t, s, topic, numbered(101, 110))

	consumer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var got []string
	seen := map[string]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(seen) < 110 && ctx.Err() == nil {
		consumer.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if !seen[string(r.Value)] {
				seen[string(r.Value)] = true
				got = append(got, string(r.Value))
			}
		})
	}
	if !slices.Equal(got, numbered(1, 110)) {
		t.Fatalf("the topic holds %d distinct records in the order %v", len(got), got)
	}
	waitFor("the sent segments to be deleted", func() bool { return s.Stats().Sent == 60 && s.Stats().Bytes < 4096 })
}
