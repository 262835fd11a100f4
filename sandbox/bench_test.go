package sandbox_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/sandbox"
)

// discard is a ResponseWriter that counts and drops the body, so benchmarks measure the handler.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { d.n += len(b); return len(b), nil }
func (d *discard) WriteHeader(int)             {}

func benchServer(b *testing.B) *sandbox.Server {
	b.Helper()
	s, err := sandbox.NewServer(sandbox.Options{Config: sandbox.Config{Seed: 1}, Clock: sandbox.NewManualClock(sandbox.DefaultEpoch.Add(30 * time.Hour))})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchPages serves the given requests round-robin and reports pages/s and bytes per page.
func benchPages(b *testing.B, s *sandbox.Server, reqs []*http.Request) {
	b.Helper()
	// Warm the snapshot cache so the benchmark measures rendering.
	s.ServeHTTP(&discard{h: http.Header{}}, reqs[0])
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	total := 0
	for i := 0; i < b.N; i++ {
		w := &discard{h: http.Header{}}
		s.ServeHTTP(w, reqs[i%len(reqs)])
		total += w.n
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(total)/float64(b.N), "B/page")
}

// cpuTime is the CPU time the process has used (user and system, every thread, GC included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports pages per wall-clock second and pages per CPU second: on a shared machine
// the second tells what one core does, however busy the other processes keep it.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pages/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "pages/cpu-s")
	}
}

// BenchmarkSearchPage renders every page of every keyword in turn.
func BenchmarkSearchPage(b *testing.B) {
	for _, layout := range []string{"list", "grid"} {
		b.Run(layout, func(b *testing.B) {
			s := benchServer(b)
			var reqs []*http.Request
			for _, k := range s.Market().Keywords() {
				for pg := 1; pg <= 3; pg++ {
					reqs = append(reqs, httptest.NewRequest(http.MethodGet, searchPath(k, pg, layout, ""), nil))
				}
			}
			benchPages(b, s, reqs)
		})
	}
}

// BenchmarkProductPage renders the product pages of the catalog in turn.
func BenchmarkProductPage(b *testing.B) {
	s := benchServer(b)
	var reqs []*http.Request
	for _, a := range s.Market().ASINs() {
		reqs = append(reqs, httptest.NewRequest(http.MethodGet, "/dp/"+a, nil))
	}
	benchPages(b, s, reqs)
}

// BenchmarkSnapshot computes the whole market's state at a new time: every product, the
// best-sellers ranks and every keyword's order (done once per step of simulated time).
func BenchmarkSnapshot(b *testing.B) {
	m, err := sandbox.NewMarket(sandbox.Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	m.At(sandbox.DefaultEpoch.Add(40 * 24 * time.Hour)) // generate the anomaly schedule
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// A new minute each time, past the snapshot cache.
		m.At(sandbox.DefaultEpoch.Add(time.Duration(i%(30*24*60)) * time.Minute).Add(time.Duration(i/(30*24*60)) * time.Second))
	}
	b.ReportMetric(float64(len(m.ASINs())), "products")
}

// BenchmarkTruthKeyword serves /_truth/keyword.
func BenchmarkTruthKeyword(b *testing.B) {
	s := benchServer(b)
	var reqs []*http.Request
	for _, k := range s.Market().Keywords() {
		reqs = append(reqs, httptest.NewRequest(http.MethodGet, truthPath(k, 1, "", ""), nil))
	}
	benchPages(b, s, reqs)
}

// BenchmarkSearchPageHTTP fetches search pages over loopback HTTP with one client connection:
// the handler, net/http and the client together.
func BenchmarkSearchPageHTTP(b *testing.B) {
	r, err := sandbox.Start(context.Background(), "", sandbox.Options{Config: sandbox.Config{Seed: 1}, Clock: sandbox.NewManualClock(sandbox.DefaultEpoch.Add(30 * time.Hour))})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	kws := r.Server.Market().Keywords()
	client := &http.Client{}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		resp, err := client.Get(r.URL + searchPath(kws[i%len(kws)], 1, "", ""))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	reportCPU(b, cpu0)
}
