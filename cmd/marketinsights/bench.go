package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/marketinsightspro/marketinsights/internal/broker"
	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/projections/benchmark"
)

type benchCmd struct {
	Project benchProjectCmd `cmd:"" help:"Measure the ClickHouse projector against a bare clickhouse-go batch insert of the same rows in the same run; prints JSON."`
}

type benchProjectCmd struct {
	Rows      int `default:"100000" help:"Observations (one row each) per measurement."`
	Runs      int `default:"3" help:"Measurements per side; medians are reported."`
	BatchRows int `default:"5000" help:"Batch size of the projector and of the bare insert."`
}

func (c *benchProjectCmd) Run(e *env) error {
	kcfg, stop, err := benchKafka(e)
	if err != nil {
		return err
	}
	defer stop()
	rep, err := benchmark.Project(e.ctx, benchmark.Options{
		Kafka: kcfg, ClickHouse: e.cfg.ClickHouse, Rows: c.Rows, Runs: c.Runs, BatchRows: c.BatchRows,
		FlushInterval: 500 * time.Millisecond, Log: e.log,
	})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// benchKafka returns the configured cluster, or an in-memory embedded broker on a free port
// when none is configured (the benchmark never touches the demo's broker and its data).
func benchKafka(e *env) (config.Kafka, func(), error) {
	kcfg := e.cfg.Kafka
	if !kcfg.Embedded() {
		return kcfg, func() {}, nil
	}
	b, err := broker.Start(broker.Options{Addr: "127.0.0.1:0", Logger: e.log})
	if err != nil {
		return kcfg, nil, fmt.Errorf("start an in-memory broker for the benchmark: %w", err)
	}
	kcfg.Brokers = []string{b.Addr()}
	return kcfg, func() { b.Close() }, nil
}
