package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/alecthomas/kong"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/logging"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// cli is the command line: the shared configuration and one field per subcommand.
type cli struct {
	config.Config

	Broker     brokerCmd  `cmd:"" help:"Run the embedded Kafka broker (franz-go kfake) with a data directory, so records survive a restart."`
	Topics     topicsCmd  `cmd:"" help:"List the topic catalog or create and check every topic."`
	Process    processCmd `cmd:"" help:"Run stream processors (goka): products, keywords, anomalies, notifications, analyses, or all."`
	Analyze    analyzeCmd `cmd:"" help:"Request an analysis of a keyword (scrape, then the keyword's window) and, with --follow, print its transitions."`
	Migrate    migrateCmd `cmd:"" help:"Create the ClickHouse database and apply the embedded migrations (safe to run twice)."`
	Project    projectCmd `cmd:"" help:"Run the projectors that keep the read models (ClickHouse tables, Redis keys) up to date: clickhouse, redis, or all."`
	Replay     replayCmd  `cmd:"" help:"Rebuild read models from the topics into fresh tables and keys, then swap them in atomically."`
	Tail       tailCmd    `cmd:"" help:"Print the records of a topic as JSON lines, decoded by the catalog's schema."`
	Produce    produceCmd `cmd:"" help:"Write JSON lines from standard input (or --file) to a topic as typed records."`
	Import     importCmd  `cmd:"" help:"Import product snapshots from CSV (Keepa exports included) or JSON lines as ProductObserved events."`
	Parse      parseCmd   `cmd:"" help:"Print what the page parsers read from a saved search or product page, as JSON lines."`
	Sandbox    sandboxCmd `cmd:"" help:"Run the simulated marketplace (Amazon-like pages, ground truth at /_truth, faults on demand)."`
	Scrape     scrapeCmd  `cmd:"" help:"Run scrape workers (and the schedule of tracked keywords), or request a scrape job."`
	Serve      serveCmd   `cmd:"" help:"Serve the HTTP API (/api/v1), its WebSocket of live changes, and the report page on --api-addr."`
	Loadgen    loadgenCmd `cmd:"" help:"Drive the API with virtual users (search, report, product, analysis; ramp, spike or soak) and report RPS, latency percentiles and errors, with a bare handler as the baseline."`
	Demo       demoCmd    `cmd:"" help:"Run the whole system on embedded and local defaults until interrupted."`
	Bench      benchCmd   `cmd:"" help:"Benchmarks that report ratios against a baseline measured in the same run."`
	ShowConfig configCmd  `cmd:"" name:"config" help:"Print the effective configuration as YAML (secrets masked)."`
	Version    versionCmd `cmd:"" help:"Print the version."`
}

// env is what every subcommand's Run receives.
type env struct {
	ctx    context.Context
	cfg    *config.Config
	log    *slog.Logger
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type exitCode int

// run parses args, runs the chosen subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var c cli
	exited := false
	opts := append(config.KongOptions(),
		kong.Name("marketinsights"),
		kong.Description("Market Insights Pro: real-time market intelligence for Amazon sellers and their analysts."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { exited = true; panic(exitCode(c)) }),
		kong.UsageOnError(),
	)
	defer func() {
		if r := recover(); r != nil {
			if ec, ok := r.(exitCode); ok && exited {
				code = int(ec)
				return
			}
			panic(r)
		}
	}()
	parser, err := kong.New(&c, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "marketinsights: %v\n", err)
		return 2
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "marketinsights: %v\n", err)
		return 2
	}
	e := &env{ctx: ctx, cfg: &c.Config, log: logging.New(c.Log, stderr), stdin: stdin, stdout: stdout, stderr: stderr}
	if err := kctx.Run(e); err != nil {
		fmt.Fprintf(stderr, "marketinsights %s: %v\n", kctx.Command(), err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks an error in what the user asked (exit code 2 rather than 1).
type usageError struct{ error }

func (u usageError) Unwrap() error { return u.error }

type versionCmd struct{}

func (versionCmd) Run(e *env) error {
	_, err := fmt.Fprintf(e.stdout, "marketinsights %s\n", version)
	return err
}
