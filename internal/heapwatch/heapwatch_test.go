package heapwatch

import (
	"context"
	"runtime"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	mk := func(live ...float64) []Sample {
		out := make([]Sample, len(live))
		for i, l := range live {
			out[i] = Sample{ElapsedSeconds: float64(i), LiveHeapMB: l, RSSMB: 2 * l}
		}
		return out
	}
	for _, tc := range []struct {
		name           string
		samples        []Sample
		flat           bool
		warmup, growth float64
		middle, rss    float64
	}{
		{"too few samples", mk(10, 50), false, 0, 0, 0, 0},
		{"steady", mk(10, 10, 10, 10, 10, 10), true, 0, 0, 10, 20},
		{"warm-up then steady", mk(5, 5, 10, 10, 10, 10), true, 100, 0, 10, 20},
		{"noise within bound", mk(10, 10, 10, 10, 11, 10.5), true, 0, 7.5, 10, 20},
		{"growth", mk(10, 10, 15, 15, 20, 20), false, 50, 100.0 / 3, 15, 30},
		{"shrinks", mk(20, 20, 10, 10, 5, 5), true, -50, -50, 10, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := Summarize(tc.samples)
			if rep.Flat != tc.flat || rep.WarmupGrowthPercent != tc.warmup || rep.GrowthPercent != tc.growth ||
				rep.MiddleThirdMB != tc.middle || rep.RSSMiddleThirdMB != tc.rss {
				t.Fatalf("Summarize = flat %v warm-up %v growth %v middle %v rss middle %v, want %v %v %v %v %v",
					rep.Flat, rep.WarmupGrowthPercent, rep.GrowthPercent, rep.MiddleThirdMB, rep.RSSMiddleThirdMB,
					tc.flat, tc.warmup, tc.growth, tc.middle, tc.rss)
			}
		})
	}
}

func TestWatchSamplesUntilStopped(t *testing.T) {
	runtime.GC() // the live heap is known from the first collection on
	w := Start(context.Background(), 100*time.Millisecond)
	for {
		if _, ok := w.Last(); ok {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	rep := w.Stop()
	if len(rep.Samples) == 0 {
		t.Fatal("no samples after the first was seen")
	}
	s := rep.Samples[0]
	if s.LiveHeapMB <= 0 || s.RSSMB <= 0 {
		t.Fatalf("sample %+v: want a live heap and a resident set above zero", s)
	}
	n := len(rep.Samples)
	time.Sleep(250 * time.Millisecond)
	if got := len(w.Stop().Samples); got != n {
		t.Fatalf("%d samples after Stop, want %d: the sampler still runs", got, n)
	}
}
