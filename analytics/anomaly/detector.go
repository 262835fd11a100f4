package anomaly

import (
	"fmt"
	"math"
	"time"

	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Direction is the side of the baseline a value deviates to.
type Direction int8

const (
	// None is no alert.
	None Direction = 0
	// Up is above the baseline.
	Up Direction = 1
	// Down is below the baseline.
	Down Direction = -1
)

// String returns "none", "up" or "down".
func (d Direction) String() string {
	switch d {
	case Up:
		return "up"
	case Down:
		return "down"
	default:
		return "none"
	}
}

// Baseline is what a value was scored against, as it stood before the value was learned.
type Baseline struct {
	// Method is the baseline's method.
	Method Method
	// Center is the expected value (median, EWMA mean, level plus hour offset).
	Center float64
	// Spread is the deviation that counts as one unit of score (after the floors).
	Spread float64
	// Low is the low end of the usual range (robust_z: 10th percentile; else Center-2*Spread).
	Low float64
	// High is the high end of the usual range (robust_z: 90th percentile; else Center+2*Spread).
	High float64
	// Points is how many values the baseline rests on (for ewma, its effective memory at most).
	Points int
	// Since is the event time of the oldest value behind the baseline.
	Since time.Time
}

// Result is what observing one value gave.
type Result struct {
	// Score is (value-Center)/Spread: positive above the baseline, negative below; 0 when not Scored.
	Score float64
	// Scored is false while the series is too young to have a baseline.
	Scored bool
	// Stale is true when the value was refused: older than the latest value of the series, or not finite.
	Stale bool
	// Alert is the direction of an alert this value opens, or None.
	Alert Direction
	// Baseline is what the value was scored against (zero when not Scored).
	Baseline Baseline
}

// Observe scores x, observed at event time t, against the baseline in s, updates the alert gates,
// then learns x into s. s is the detector's whole memory; a state of another method (a changed
// configuration) is reset first. A value older than the latest one seen is refused (Stale, s
// unchanged): replaying history in order, or delivering a value twice at the same time, is fine,
// but a late value never rewrites a window that moved on. p must be valid (Params.Validate).
func Observe(p *Params, s *marketv1.SeriesState, t time.Time, x float64) Result {
	if s.GetMethod() != string(p.Method) {
		Reset(s, p.Method)
	}
	ms := t.UnixMilli()
	if math.IsNaN(x) || math.IsInf(x, 0) || (s.GetCount() > 0 && ms < s.GetLastUnixMs()) {
		return Result{Stale: true}
	}
	var r Result
	r.Baseline, r.Scored = expect(p, s, t)
	if r.Scored {
		r.Score = (x - r.Baseline.Center) / r.Baseline.Spread
	}
	up := gate(&p.Up, &s.Up, r.Score, r.Scored, s.GetCount(), ms)
	down := gate(&p.Down, &s.Down, -r.Score, r.Scored, s.GetCount(), ms)
	switch {
	case up:
		r.Alert = Up
	case down:
		r.Alert = Down
	}
	learn(p, s, t, x)
	if s.Count == 0 {
		s.FirstUnixMs = ms
	}
	s.Count++
	s.LastUnixMs = ms
	return r
}

// Reset empties s and marks it as a state of method m.
func Reset(s *marketv1.SeriesState, m Method) {
	proto.Reset(s)
	s.Method = string(m)
}

// gate advances one direction's alert gate with the value's score in that direction and reports
// whether an alert opens. The gate is created only when it has something to remember.
func gate(sens *Sensitivity, gp **marketv1.AlertGate, score float64, scored bool, seen int64, ms int64) bool {
	if sens.Threshold <= 0 {
		return false
	}
	g := *gp
	if g.GetAlerting() {
		if !scored || score < sens.Threshold-sens.Hysteresis {
			g.QuietPoints++
			if int(g.QuietPoints) >= sens.Rearm {
				g.Alerting, g.QuietPoints = false, 0
			}
		} else {
			g.QuietPoints = 0
		}
		return false
	}
	if !scored || score < sens.Threshold || seen < int64(sens.WarmUp) {
		return false
	}
	if g == nil {
		g = &marketv1.AlertGate{}
		*gp = g
	}
	// The alert opens even inside the cooldown, silently: the same ongoing deviation must not
	// fire the moment the cooldown ends.
	g.Alerting, g.QuietPoints = true, 0
	if ms < g.CooldownUntilUnixMs {
		return false
	}
	g.CooldownUntilUnixMs = ms + sens.Cooldown.Milliseconds()
	g.LastAlertUnixMs = ms
	g.Alerts++
	return true
}

func expect(p *Params, s *marketv1.SeriesState, t time.Time) (Baseline, bool) {
	switch p.Method {
	case MethodRobustZ:
		return robustExpect(p, s)
	case MethodEWMA:
		return ewmaExpect(p, s)
	case MethodSeasonal:
		return seasonalExpect(p, s, t)
	}
	return Baseline{}, false
}

func learn(p *Params, s *marketv1.SeriesState, t time.Time, x float64) {
	switch p.Method {
	case MethodRobustZ:
		robustLearn(p, s, t, x)
	case MethodEWMA:
		ewmaLearn(p, s, x)
	case MethodSeasonal:
		seasonalLearn(p, s, t, x)
	}
}

// floor applies the spread floors of the model to sigma around center.
func (m *Model) floor(sigma, center float64) float64 {
	return max(sigma, m.MinSpread, m.MinRelSpread*math.Abs(center))
}

// Detector is a streaming detector of one metric: its parameters and its state.
type Detector struct {
	params Params
	state  *marketv1.SeriesState
}

// NewDetector returns a detector with an empty state.
func NewDetector(p Params) (*Detector, error) {
	return LoadDetector(p, nil)
}

// LoadDetector returns a detector that continues from state s (nil: empty). The detector updates
// s in place; a state of another method is reset.
func LoadDetector(p Params, s *marketv1.SeriesState) (*Detector, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("load %s detector: %w", p.Method, err)
	}
	if s == nil {
		s = &marketv1.SeriesState{}
	}
	if s.GetMethod() != string(p.Method) {
		Reset(s, p.Method)
	}
	return &Detector{params: p, state: s}, nil
}

// Observe scores x observed at event time t and learns it (see the package function Observe).
func (d *Detector) Observe(t time.Time, x float64) Result {
	return Observe(&d.params, d.state, t, x)
}

// State returns the detector's state, to save; it stays the detector's and changes with it.
func (d *Detector) State() *marketv1.SeriesState { return d.state }

// Params returns the detector's parameters.
func (d *Detector) Params() Params { return d.params }
