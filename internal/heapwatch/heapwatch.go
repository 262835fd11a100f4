// Package heapwatch samples a process's memory over a long run and says whether it stays flat:
// the soak modes of the benchmarks use it.
package heapwatch

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"runtime/metrics"
	"strconv"
	"sync"
	"time"
)

// FlatGrowthPercent is the growth of the live heap, from the middle third of the samples to the
// last third, up to which memory counts as flat. The first third is the warm-up: stores, caches
// and buffers fill up to their bounds (goka's LevelDB memtables and block buffers, one set per
// table partition, the product tracker's state cache), so it is reported but not judged.
const FlatGrowthPercent = 10

// Sample is the process's memory at one time.
type Sample struct {
	// ElapsedSeconds is the time since the watch started.
	ElapsedSeconds float64 `json:"elapsed_s"`
	// LiveHeapMB is the heap the last garbage collection kept (runtime/metrics /gc/heap/live:bytes;
	// zero before the first collection).
	LiveHeapMB float64 `json:"live_heap_mb"`
	// RSSMB is the resident set size (/proc/self/status VmRSS); zero where that file is missing.
	RSSMB float64 `json:"rss_mb"`
}

// Report is the memory behaviour over a run.
type Report struct {
	Samples []Sample `json:"samples"`
	// FirstThirdMB, MiddleThirdMB and LastThirdMB are the mean live heap of each third of the
	// samples.
	FirstThirdMB  float64 `json:"live_heap_mb_first_third"`
	MiddleThirdMB float64 `json:"live_heap_mb_middle_third"`
	LastThirdMB   float64 `json:"live_heap_mb_last_third"`
	// WarmupGrowthPercent is the change from the first third to the middle one.
	WarmupGrowthPercent float64 `json:"warmup_growth_percent"`
	// GrowthPercent is the change from the middle third to the last: the figure judged.
	GrowthPercent float64 `json:"growth_percent"`
	// RSSFirstThirdMB, RSSMiddleThirdMB and RSSLastThirdMB are the same means of the resident set.
	RSSFirstThirdMB  float64 `json:"rss_mb_first_third"`
	RSSMiddleThirdMB float64 `json:"rss_mb_middle_third"`
	RSSLastThirdMB   float64 `json:"rss_mb_last_third"`
	// Flat is true when there are at least three samples and GrowthPercent is at most
	// FlatGrowthPercent.
	Flat bool `json:"flat"`
}

// Watch samples memory every interval from Start until Stop.
type Watch struct {
	interval time.Duration
	start    time.Time
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	mu      sync.Mutex
	samples []Sample
}

// Start begins sampling every interval (at least 100 ms) until ctx ends or Stop is called.
func Start(ctx context.Context, interval time.Duration) *Watch {
	ctx, cancel := context.WithCancel(ctx)
	w := &Watch{interval: max(interval, 100*time.Millisecond), start: time.Now(), cancel: cancel}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		t := time.NewTicker(w.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				w.sample()
			}
		}
	}()
	return w
}

// Last returns the newest sample, if any.
func (w *Watch) Last() (Sample, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.samples) == 0 {
		return Sample{}, false
	}
	return w.samples[len(w.samples)-1], true
}

func (w *Watch) sample() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	var live float64
	if s[0].Value.Kind() == metrics.KindUint64 {
		live = float64(s[0].Value.Uint64()) / (1 << 20)
	}
	smp := Sample{ElapsedSeconds: time.Since(w.start).Seconds(), LiveHeapMB: live, RSSMB: rssMB()}
	w.mu.Lock()
	w.samples = append(w.samples, smp)
	w.mu.Unlock()
}

// Stop ends sampling, joins the sampler and returns the report.
func (w *Watch) Stop() Report {
	w.cancel()
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return Summarize(w.samples)
}

// Summarize computes the report of samples, oldest first.
func Summarize(samples []Sample) Report {
	rep := Report{Samples: samples}
	n := len(samples)
	if n < 3 {
		return rep
	}
	third := n / 3
	mean := func(xs []Sample, f func(Sample) float64) float64 {
		var sum float64
		for _, x := range xs {
			sum += f(x)
		}
		return sum / float64(len(xs))
	}
	live := func(s Sample) float64 { return s.LiveHeapMB }
	rss := func(s Sample) float64 { return s.RSSMB }
	first, middle, last := samples[:third], samples[third:n-third], samples[n-third:]
	rep.FirstThirdMB, rep.MiddleThirdMB, rep.LastThirdMB = mean(first, live), mean(middle, live), mean(last, live)
	rep.RSSFirstThirdMB, rep.RSSMiddleThirdMB, rep.RSSLastThirdMB = mean(first, rss), mean(middle, rss), mean(last, rss)
	if rep.FirstThirdMB > 0 {
		rep.WarmupGrowthPercent = 100 * (rep.MiddleThirdMB - rep.FirstThirdMB) / rep.FirstThirdMB
	}
	if rep.MiddleThirdMB > 0 {
		rep.GrowthPercent = 100 * (rep.LastThirdMB - rep.MiddleThirdMB) / rep.MiddleThirdMB
		rep.Flat = rep.GrowthPercent <= FlatGrowthPercent
	}
	return rep
}

// rssMB reads VmRSS from /proc/self/status, in MiB; zero when it cannot.
func rssMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte("VmRSS:")) {
			continue
		}
		fields := bytes.Fields(line[len("VmRSS:"):])
		if len(fields) == 0 {
			return 0
		}
		kb, err := strconv.ParseFloat(string(fields[0]), 64)
		if err != nil {
			return 0
		}
		return kb / 1024
	}
	return 0
}
