package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/marketinsightspro/marketinsights/sandbox"
)

type sandboxCmd struct {
	Addr            string        `default:"127.0.0.1:18080" placeholder:"HOST:PORT" env:"MIP_SANDBOX_ADDR" help:"Listen address."`
	Seed            uint64        `default:"1" env:"MIP_SANDBOX_SEED" help:"Seed of the catalog and its evolution: the same seed gives the same market."`
	Acceleration    float64       `default:"60" env:"MIP_SANDBOX_ACCELERATION" help:"Simulated seconds per real second (60: an hour per minute)."`
	Products        int           `default:"0" env:"MIP_SANDBOX_PRODUCTS" help:"Catalog size; 0 gives about 1,350 products."`
	Keywords        int           `default:"0" env:"MIP_SANDBOX_KEYWORDS" help:"Search keywords (1-12); 0 means all 12."`
	AnomaliesPerDay int           `default:"12" env:"MIP_SANDBOX_ANOMALIES_PER_DAY" help:"Anomalies injected per simulated day; negative: none."`
	Epoch           time.Time     `placeholder:"RFC3339" env:"MIP_SANDBOX_EPOCH" help:"Simulated start time (default 2026-08-01T00:00:00Z)."`
	Step            time.Duration `default:"0" env:"MIP_SANDBOX_STEP" help:"Granularity of the market's state in simulated time; 0 picks one from the acceleration."`
	Marketplace     string        `default:"amazon.com" env:"MIP_SANDBOX_MARKETPLACE" help:"Marketplace served when neither ?mp= nor the Host header names one (amazon.com, amazon.de, amazon.in, amazon.co.jp)."`
	Faults          string        `placeholder:"FILE" type:"existingfile" help:"JSON file of fault rules active from the start (see sandbox/README.md; change them later with POST /_faults)."`
}

func (c *sandboxCmd) Run(e *env) error {
	opts := sandbox.Options{
		Config: sandbox.Config{Seed: c.Seed, Products: c.Products, Keywords: c.Keywords, Epoch: c.Epoch,
			AnomaliesPerDay: c.AnomaliesPerDay, Step: c.Step},
		Acceleration: c.Acceleration,
		Marketplace:  c.Marketplace,
		Logger:       e.log,
	}
	if c.Faults != "" {
		b, err := os.ReadFile(c.Faults)
		if err != nil {
			return usageError{fmt.Errorf("read --faults: %w", err)}
		}
		if err := json.Unmarshal(b, &opts.Faults); err != nil {
			return usageError{fmt.Errorf("--faults %s: %w", c.Faults, err)}
		}
		if err := opts.Faults.Validate(); err != nil {
			return usageError{fmt.Errorf("--faults %s: %w", c.Faults, err)}
		}
	}
	run, err := sandbox.Start(e.ctx, c.Addr, opts)
	if err != nil {
		return fmt.Errorf("start sandbox on %s: %w", c.Addr, err)
	}
	defer run.Close()
	fmt.Fprintf(e.stdout, "sandbox marketplace at %s (search: %s/s?k=portable+charger, truth: %s/_truth); Ctrl-C stops it\n", run.URL, run.URL, run.URL)
	<-e.ctx.Done()
	return nil
}
