package worker

import (
	"errors"
	"fmt"
	"testing"

	"github.com/marketinsightspro/marketinsights/scraper/fetch"
	"github.com/marketinsightspro/marketinsights/scraper/jobs"
	"github.com/marketinsightspro/marketinsights/scraper/parse"
)

func TestOffsetsCommitOnlyBelowTheFirstUnfinished(t *testing.T) {
	a, b := tp{"high", 0}, tp{"high", 1}
	type step struct {
		op     string // accept, done, commit, forget
		p      tp
		offset int64
		want   map[tp]int64 // for commit
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{
			{op: "accept", p: a, offset: 5}, {op: "accept", p: a, offset: 6},
			{op: "commit", want: map[tp]int64{a: 5}}, // nothing done: stays at the first
			{op: "done", p: a, offset: 5},
			{op: "commit", want: map[tp]int64{a: 6}},
			{op: "done", p: a, offset: 6},
			{op: "commit", want: map[tp]int64{a: 7}},
			{op: "commit", want: map[tp]int64{}}, // nothing moved
		}},
		{"out of order holds back", []step{
			{op: "accept", p: a, offset: 1}, {op: "accept", p: a, offset: 2}, {op: "accept", p: a, offset: 3},
			{op: "done", p: a, offset: 3}, {op: "done", p: a, offset: 2},
			{op: "commit", want: map[tp]int64{a: 1}},
			{op: "done", p: a, offset: 1},
			{op: "commit", want: map[tp]int64{a: 4}},
		}},
		{"partitions apart", []step{
			{op: "accept", p: a, offset: 1}, {op: "accept", p: b, offset: 10},
			{op: "done", p: b, offset: 10},
			{op: "commit", want: map[tp]int64{a: 1, b: 11}},
			{op: "commit", want: map[tp]int64{}},
		}},
		{"revoked partition ignores late jobs", []step{
			{op: "accept", p: a, offset: 1},
			{op: "forget", p: a},
			{op: "done", p: a, offset: 1},
			{op: "commit", want: map[tp]int64{}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newOffsets()
			gens := map[tp]uint64{}
			for i, s := range tc.steps {
				switch s.op {
				case "accept":
					gens[s.p] = o.accept(s.p, s.offset, 0)
				case "done":
					o.done(s.p, gens[s.p], s.offset)
				case "forget":
					o.forget([]tp{s.p})
				case "commit":
					got := o.committable(nil)
					if len(got) != len(s.want) {
						t.Fatalf("step %d: committable %v, want %v", i, got, s.want)
					}
					for p, w := range s.want {
						if got[p].offset != w {
							t.Fatalf("step %d: %v at %d, want %d", i, p, got[p].offset, w)
						}
					}
					o.markCommitted(got)
				}
			}
		})
	}
}

func TestOffsetsNewGenerationAfterForget(t *testing.T) {
	o := newOffsets()
	p := tp{"low", 2}
	g1 := o.accept(p, 1, 0)
	o.forget([]tp{p})
	g2 := o.accept(p, 1, 0)
	if g1 == g2 {
		t.Fatal("same generation after the partition came back")
	}
	if o.done(p, g1, 1) {
		t.Fatal("a job of the old generation was counted")
	}
	if !o.done(p, g2, 1) || o.inFlight() != 0 {
		t.Fatal("the new generation's job was not counted")
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want jobs.Class
	}{
		{fmt.Errorf("page: %w", ErrBlocked), jobs.Blocked},
		{statusError(1, "u", 403), jobs.Blocked},
		{statusError(1, "u", 404), jobs.Permanent},
		{statusError(1, "u", 410), jobs.Permanent},
		{statusError(1, "u", 429), jobs.Transient},
		{statusError(1, "u", 408), jobs.Transient},
		{statusError(1, "u", 500), jobs.Transient},
		{fmt.Errorf("x: %w", fetch.ErrForbiddenURL), jobs.Permanent},
		{fmt.Errorf("x: %w", fetch.ErrDisallowed), jobs.Permanent},
		{fmt.Errorf("x: %w", ErrBadRequest), jobs.Permanent},
		{&fetch.CircuitOpenError{Host: "h", State: "open"}, jobs.Unavailable},
		{fmt.Errorf("x: %w", ErrNoEarlierResult), jobs.Unavailable},
		{&fetch.StatusError{URL: "u", Status: 503, Attempts: 4}, jobs.Transient},
		{fmt.Errorf("parse: %w", parse.ErrUnrecognized), jobs.Transient},
		{errors.New("connection reset"), jobs.Transient},
	}
	for _, tc := range cases {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
