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

// FlatGrowthPercent is the growth, from the first third of the samples to the last third, up to
// which memory counts as flat.
const FlatGrowthPercent = 20

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
	// FirstThirdMB and LastThirdMB are the mean live heap of the first and last third of the samples.
	FirstThirdMB float64 `json:"live_heap_mb_first_third"`
	LastThirdMB  float64 `json:"live_heap_mb_last_third"`
	// GrowthPercent is the change from the first third to the last.
	GrowthPercent float64 `json:"growth_percent"`
	// RSSFirstThirdMB and RSSLastThirdMB are the same means of the resident set size.
	RSSFirstThirdMB float64 `json:"rss_mb_first_third"`
	RSSLastThirdMB  float64 `json:"rss_mb_last_third"`
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
	rep.FirstThirdMB, rep.LastThirdMB = mean(samples[:third], live), mean(samples[n-third:], live)
	rep.RSSFirstThirdMB, rep.RSSLastThirdMB = mean(samples[:third], rss), mean(samples[n-third:], rss)
	if rep.FirstThirdMB > 0 {
		rep.GrowthPercent = 100 * (rep.LastThirdMB - rep.FirstThirdMB) / rep.FirstThirdMB
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
