package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/marketinsightspro/marketinsights/api/loadgen"
)

type loadgenCmd struct {
	Target         string        `default:"http://127.0.0.1:8080" help:"Base URL of the API ('serve' or 'demo'; serve it with --api-rate-limit 0, every user comes from one address)."`
	Users          int           `default:"100" help:"Most concurrent virtual users."`
	Mode           string        `default:"ramp" enum:"ramp,spike,soak" help:"User schedule: ramp (added over the first half, then held), spike (a tenth, all in the middle third, a tenth), soak (all throughout)."`
	Duration       time.Duration `default:"1m" help:"How long the virtual users run."`
	ThinkMin       time.Duration `default:"1s" help:"Shortest wait between a user's requests."`
	ThinkMax       time.Duration `default:"3s" help:"Longest wait between a user's requests."`
	Keywords       []string      `help:"Keywords the users look at (default: the target's tracked keywords)."`
	AnalysisShare  float64       `default:"0.02" help:"Share of visits that start an analysis (needs --api-key)."`
	ClosedDuration time.Duration `default:"10s" help:"Then drive the report path and a bare net/http handler serving the same bytes without think time, this long each (0: skip)."`
	ClosedConns    int           `default:"200" help:"Connections of the closed-loop comparison."`
}

func (c *loadgenCmd) Run(e *env) error {
	if c.Users < 1 || c.Duration <= 0 || c.ThinkMin < 0 || c.ThinkMax < c.ThinkMin || c.AnalysisShare < 0 || c.AnalysisShare > 1 {
		return usageError{fmt.Errorf("want --users >= 1, --duration > 0, 0 <= --think-min <= --think-max and --analysis-share in [0,1]")}
	}
	res, err := loadgen.Run(e.ctx, loadgen.Config{Target: c.Target, Users: c.Users, Mode: c.Mode, Duration: c.Duration,
		ThinkMin: c.ThinkMin, ThinkMax: c.ThinkMax, Keywords: c.Keywords, APIKey: e.cfg.API.Key, AnalysisShare: c.AnalysisShare,
		ClosedDuration: c.ClosedDuration, ClosedConns: c.ClosedConns})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
