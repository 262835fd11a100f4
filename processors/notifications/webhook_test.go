package notifications

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestBackoff(t *testing.T) {
	base, maxWait := 100*time.Millisecond, 2*time.Second
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 200 * time.Millisecond, 400 * time.Millisecond},
		{5, 800 * time.Millisecond, 1600 * time.Millisecond},
		{6, time.Second, 2 * time.Second},
		{60, time.Second, 2 * time.Second}, // capped, no overflow
	}
	for _, tt := range tests {
		lo, hi := backoff(tt.attempt, base, maxWait, 0), backoff(tt.attempt, base, maxWait, 0.999999)
		if lo != tt.min || hi > tt.max || hi < tt.max-time.Millisecond {
			t.Errorf("backoff(%d) in [%v, %v], want [%v, %v]", tt.attempt, lo, hi, tt.min, tt.max)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"1", time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0.25", 250 * time.Millisecond, true},
		{"0", 0, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"", 0, false},
		{"-5", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.v, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestClassify(t *testing.T) {
	now := time.Now()
	tests := []struct {
		status     int
		retryAfter string
		wantErr    bool
		permanent  bool
		hasRetry   bool
	}{
		{200, "", false, false, false},
		{204, "", false, false, false},
		{301, "", true, true, false},
		{400, "", true, true, false},
		{401, "", true, true, false},
		{404, "", true, true, false},
		{410, "", true, true, false},
		{408, "", true, false, false},
		{429, "3", true, false, true},
		{429, "", true, false, false},
		{500, "", true, false, false},
		{502, "", true, false, false},
		{503, "7", true, false, true},
	}
	for _, tt := range tests {
		res := classify(attemptResult{status: tt.status}, tt.status, tt.retryAfter, "", now)
		if (res.err != nil) != tt.wantErr || res.permanent != tt.permanent || res.hasRetry != tt.hasRetry {
			t.Errorf("classify(%d, %q) = err %v, permanent %v, retry-after %v", tt.status, tt.retryAfter, res.err, res.permanent, res.hasRetry)
		}
	}
}

func TestCommittable(t *testing.T) {
	rec := func(p int32, off int64) *kgo.Record { return &kgo.Record{Topic: "n", Partition: p, Offset: off} }
	recs := []*kgo.Record{rec(0, 1), rec(1, 7), rec(0, 2), rec(0, 3), rec(1, 8)}
	got := committable(recs, []bool{true, true, false, true, true})
	var offs []int64
	for _, r := range got {
		offs = append(offs, int64(r.Partition)*100+r.Offset)
	}
	// Partition 0 stops before offset 2 (no outcome), so 3 is not committed either.
	if !slices.Equal(offs, []int64{1, 107, 108}) {
		t.Fatalf("committable = %v", offs)
	}
}

func TestIDSet(t *testing.T) {
	s := newIDSet(3)
	for _, id := range []string{"a", "b", "c", "a"} {
		s.Add(id)
	}
	if s.Len() != 3 || !s.Contains("a") {
		t.Fatalf("set of %d", s.Len())
	}
	s.Add("d") // forgets the oldest added: a
	if s.Contains("a") || !s.Contains("b") || !s.Contains("d") || s.Len() != 3 {
		t.Fatalf("after d: a %v b %v d %v len %d", s.Contains("a"), s.Contains("b"), s.Contains("d"), s.Len())
	}
	if s.Add("d") {
		t.Fatal("Add of a remembered id reported new")
	}
}
