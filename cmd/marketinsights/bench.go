package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	httppprof "net/http/pprof"
	"os"
	"os/exec"
	"runtime/pprof"
	"time"

	"github.com/marketinsightspro/marketinsights/bench"
	"github.com/marketinsightspro/marketinsights/internal/broker"
	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/projections/benchmark"
)

type benchCmd struct {
	Project  benchProjectCmd  `cmd:"" help:"Measure the ClickHouse projector against a bare clickhouse-go batch insert of the same rows in the same run; prints JSON."`
	Pipeline benchPipelineCmd `cmd:"" help:"Run every processor and projector on a synthetic market stream; report throughput per stage against a trivial goka counter and a bare consumer measured in the same run, freshness, CPU and memory, as JSON."`
}

type benchPipelineCmd struct {
	Events               int           `default:"100000" help:"Input events (observations and search pages) in throughput mode."`
	Keywords             int           `default:"50" help:"Keywords of the synthetic market."`
	Products             int           `default:"5000" help:"Products of the synthetic market (at least 48 per keyword)."`
	Rate                 int           `help:"Freshness mode: produce this many events per second for --duration while the pipeline runs, and report event-time-to-visible quantiles and memory samples over the run (with --duration 10m: a soak)."`
	Duration             time.Duration `default:"1m" help:"Length of the freshness run."`
	CPUProfile           string        `name:"cpuprofile" type:"path" placeholder:"FILE" help:"Write a CPU profile of the run (go tool pprof) to FILE: where the pipeline's time goes, by stage."`
	StorageCacheMB       int           `default:"8" placeholder:"MIB" help:"LevelDB block cache of each table partition's local store, in MiB (as process --storage-cache-mb)."`
	StorageWriteBufferMB int           `default:"4" placeholder:"MIB" help:"LevelDB memtable of each table partition's local store, in MiB (as process --storage-write-buffer-mb)."`
	PprofAddr            string        `placeholder:"HOST:PORT" help:"Serve net/http/pprof here during the run (e.g. 127.0.0.1:6060), to take heap profiles of a soak."`
}

func (c *benchPipelineCmd) Run(e *env) error {
	kcfg, stop, err := benchKafka(e, true)
	if err != nil {
		return err
	}
	defer stop()
	if c.PprofAddr != "" {
		stopPprof, err := servePprof(e, c.PprofAddr)
		if err != nil {
			return err
		}
		defer stopPprof()
	}
	if c.CPUProfile != "" {
		f, err := os.Create(c.CPUProfile)
		if err != nil {
			return fmt.Errorf("create the CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start the CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := bench.Pipeline(e.ctx, bench.Options{
		Kafka: kcfg, ClickHouse: e.cfg.ClickHouse, Redis: e.cfg.Redis, Events: c.Events, Keywords: c.Keywords, Products: c.Products,
		Rate: c.Rate, Duration: c.Duration, Log: e.log, StorageCacheMB: c.StorageCacheMB, StorageWriteBufferMB: c.StorageWriteBufferMB,
	})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

type benchProjectCmd struct {
	Rows      int           `default:"100000" help:"Observations (one row each) per measurement."`
	Runs      int           `default:"3" help:"Measurements per side; medians are reported."`
	BatchRows int           `default:"5000" help:"Batch size of the projector and of the bare insert."`
	Soak      time.Duration `help:"Instead, run the projector under a steady load for this long (e.g. 10m) and report whether its live heap stays flat."`
	Rate      int           `default:"2000" help:"Events per second produced during --soak."`
}

func (c *benchProjectCmd) Run(e *env) error {
	kcfg, stop, err := benchKafka(e, true)
	if err != nil {
		return err
	}
	defer stop()
	opts := benchmark.Options{
		Kafka: kcfg, ClickHouse: e.cfg.ClickHouse, Rows: c.Rows, Runs: c.Runs, BatchRows: c.BatchRows,
		FlushInterval: 500 * time.Millisecond, Log: e.log,
	}
	var rep any
	if c.Soak > 0 {
		rep, err = benchmark.Soak(e.ctx, opts, c.Soak, c.Rate, max(c.Soak/30, time.Second))
	} else {
		rep, err = benchmark.Project(e.ctx, opts)
	}
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// benchKafka returns the configured cluster, or an in-memory embedded broker on a free port
// when none is configured (the benchmark never touches the demo's broker and its data). With
// separate, the broker runs in a child process, so that the heap measured is the projector's
// alone (the embedded broker keeps every record in memory) and the broker's garbage collections
// and allocations do not slow the measured clients.
func benchKafka(e *env, separate bool) (config.Kafka, func(), error) {
	kcfg := e.cfg.Kafka
	if !kcfg.Embedded() {
		return kcfg, func() {}, nil
	}
	if separate {
		return childBroker(e, kcfg)
	}
	b, err := broker.Start(broker.Options{Addr: "127.0.0.1:0", Logger: e.log})
	if err != nil {
		return kcfg, nil, fmt.Errorf("start an in-memory broker for the benchmark: %w", err)
	}
	kcfg.Brokers = []string{b.Addr()}
	return kcfg, func() { b.Close() }, nil
}

// childBroker runs `marketinsights broker --in-memory` on a free port in a child process.
func childBroker(e *env, kcfg config.Kafka) (config.Kafka, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return kcfg, nil, err
	}
	addr := l.Addr().String()
	l.Close()
	self, err := os.Executable()
	if err != nil {
		return kcfg, nil, err
	}
	cmd := exec.Command(self, "broker", "--in-memory", "--no-topics", "--addr", addr, "--log-level", "warn")
	cmd.Stderr = e.stderr
	if err := cmd.Start(); err != nil {
		return kcfg, nil, fmt.Errorf("start a child broker: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			stop()
			return kcfg, nil, fmt.Errorf("child broker on %s did not start in 20 s", addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	kcfg.Brokers = []string{addr}
	return kcfg, stop, nil
}

// servePprof serves net/http/pprof's handlers on addr until the returned stop is called.
func servePprof(e *env, addr string) (stop func(), err error) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", httppprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", httppprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", httppprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", httppprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", httppprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for pprof on %s: %w", addr, err)
	}
	e.log.Info("pprof", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return serveOn(e, ln, mux, "pprof server"), nil
}
