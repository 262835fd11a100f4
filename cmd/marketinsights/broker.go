package main

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/marketinsightspro/marketinsights/internal/broker"
	"github.com/marketinsightspro/marketinsights/topics"
)

type brokerCmd struct {
	Addr       string `placeholder:"HOST:PORT" help:"Listen address; default --kafka-embedded-addr."`
	DataDir    string `name:"broker-data-dir" placeholder:"DIR" help:"Directory of the broker's log and offsets; default <data-dir>/broker. Empty string with --in-memory keeps nothing."`
	InMemory   bool   `help:"Keep nothing on disk: records are lost when the broker stops."`
	SyncWrites bool   `help:"Fsync every produced batch: nothing is lost on a crash, at some cost in throughput."`
	NoTopics   bool   `help:"Do not create the catalog's topics at start."`
}

func (c *brokerCmd) options(e *env) broker.Options {
	opts := broker.Options{Addr: c.Addr, DataDir: c.DataDir, SyncWrites: c.SyncWrites, Logger: e.log}
	if opts.Addr == "" {
		opts.Addr = e.cfg.Kafka.EmbeddedAddr
	}
	if opts.DataDir == "" {
		opts.DataDir = filepath.Join(e.cfg.DataDir, "broker")
	}
	if c.InMemory {
		opts.DataDir = ""
	}
	return opts
}

func (c *brokerCmd) Run(e *env) error {
	opts := c.options(e)
	b, err := broker.Start(opts)
	if err != nil {
		return err
	}
	defer func() {
		start := time.Now()
		b.Close()
		e.log.Info("embedded broker stopped", "flush", time.Since(start).Round(time.Millisecond).String())
	}()
	e.log.Info("embedded broker up", "addr", b.Addr(), "data_dir", opts.DataDir, "sync_writes", opts.SyncWrites)
	if !c.NoTopics {
		kcfg := e.cfg.Kafka
		kcfg.Brokers = []string{b.Addr()}
		if err := applyTopics(e.ctx, e, kcfg, topics.ApplyOptions{Replication: kcfg.Replication}, false); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "embedded Kafka broker listening on %s (data: %s); Ctrl-C stops it\n", b.Addr(), orNone(opts.DataDir))
	<-e.ctx.Done()
	e.log.Info("stopping embedded broker")
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "in memory"
	}
	return s
}
