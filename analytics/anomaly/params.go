// Package anomaly holds streaming anomaly detectors: observe one value of a metric at a time,
// get a score against a baseline and, now and then, an alert.
//
// Three baselines are built in (robust_z takes its quantiles from gonum/stat):
//
//   - robust_z: the median of a rolling window of the latest values, and as spread the larger of
//     the scaled MAD and the scaled interquartile range; a step, a spike or a drift stands out,
//     and a value that flickers between two levels does not (both levels are in the window).
//   - ewma: an exponentially weighted mean and variance; suits slow metrics such as a rating.
//   - seasonal: a level plus an offset per UTC hour of day, with an EWMA of the squared residual;
//     suits metrics with a daily rhythm such as a best-sellers rank.
//
// Every detector guards its alerts the same way, separately for each direction (up, down):
// warm-up (no alert before enough values were seen), hysteresis (an open alert closes only after
// the score stayed below Threshold-Hysteresis for Rearm consecutive values, so a flickering value
// cannot open alert after alert) and a cooldown in event time between two alerts.
//
// A detector's whole memory is a *marketv1.SeriesState: the functions here read and update it and
// keep nothing else, so a state saved to a table and loaded again continues exactly where it was.
// The package imports no Kafka and no clock: event time is passed in.
package anomaly

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Method names the baseline a detector scores values against.
type Method string

const (
	// MethodRobustZ scores against the median and MAD of a rolling window.
	MethodRobustZ Method = "robust_z"
	// MethodEWMA scores against an exponentially weighted mean and variance.
	MethodEWMA Method = "ewma"
	// MethodSeasonal scores against a level plus a per-hour-of-day offset.
	MethodSeasonal Method = "seasonal"
)

// MaxWindow is the largest robust_z window accepted.
const MaxWindow = 1000

// Model says how a detector builds the baseline a value is scored against.
type Model struct {
	// Method is the baseline.
	Method Method
	// Window is the number of latest values robust_z keeps (median and MAD are over them), 3..MaxWindow.
	Window int
	// Alpha is the weight of a new value in the EWMA mean and variance (ewma), or in the level and the
	// residual variance (seasonal), in (0, 1]. The first values are averaged evenly (weight 1/n while
	// that is larger), so a young series is not dominated by its first value.
	Alpha float64
	// Gamma is the weight of a new value in its hour's offset (seasonal), in (0, 1].
	Gamma float64
	// MinSpread is the smallest spread a deviation is divided by, in the metric's units (> 0), so
	// that a constant history does not make the smallest change infinitely abnormal.
	MinSpread float64
	// MinRelSpread is the smallest spread as a fraction of the baseline's centre (>= 0).
	MinRelSpread float64
}

// Sensitivity is when one direction (up or down) of a detector alerts.
type Sensitivity struct {
	// Threshold is the score (deviation in spreads, in this direction) that opens an alert; 0 turns
	// the direction off.
	Threshold float64
	// Hysteresis lowers the level an open alert must fall below to close: Threshold-Hysteresis.
	Hysteresis float64
	// Rearm is how many consecutive values below the closing level close an open alert (>= 1).
	Rearm int
	// WarmUp is how many values the series must have seen before this direction alerts.
	WarmUp int
	// Cooldown is the least event time between two alerts of this direction.
	Cooldown time.Duration
}

// Params configure a detector: its baseline and the sensitivity of each direction.
type Params struct {
	Model
	// Up is the sensitivity to values above the baseline.
	Up Sensitivity
	// Down is the sensitivity to values below the baseline.
	Down Sensitivity
}

// ErrInvalidParams is wrapped by every error of Params.Validate.
var ErrInvalidParams = errors.New("invalid detector parameters")

// Validate reports the first parameter out of its range.
func (p Params) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidParams, fmt.Sprintf(format, a...))
	}
	switch p.Method {
	case MethodRobustZ:
		if p.Window < 3 || p.Window > MaxWindow {
			return bad("robust_z window %d: want 3..%d", p.Window, MaxWindow)
		}
	case MethodEWMA:
		if !(p.Alpha > 0 && p.Alpha <= 1) {
			return bad("ewma alpha %v: want (0, 1]", p.Alpha)
		}
	case MethodSeasonal:
		if !(p.Alpha > 0 && p.Alpha <= 1) {
			return bad("seasonal alpha %v: want (0, 1]", p.Alpha)
		}
		if !(p.Gamma > 0 && p.Gamma <= 1) {
			return bad("seasonal gamma %v: want (0, 1]", p.Gamma)
		}
	default:
		return bad("method %q: want %s, %s or %s", p.Method, MethodRobustZ, MethodEWMA, MethodSeasonal)
	}
	if !(p.MinSpread > 0) || math.IsInf(p.MinSpread, 0) {
		return bad("min spread %v: want > 0", p.MinSpread)
	}
	if !(p.MinRelSpread >= 0) || math.IsInf(p.MinRelSpread, 0) {
		return bad("min relative spread %v: want >= 0", p.MinRelSpread)
	}
	for _, d := range []struct {
		name string
		s    Sensitivity
	}{{"up", p.Up}, {"down", p.Down}} {
		s := d.s
		switch {
		case s.Threshold < 0 || math.IsNaN(s.Threshold) || math.IsInf(s.Threshold, 0):
			return bad("%s threshold %v: want >= 0 (0: off)", d.name, s.Threshold)
		case s.Threshold == 0:
			continue
		case s.Hysteresis < 0 || s.Hysteresis >= s.Threshold:
			return bad("%s hysteresis %v: want 0 <= hysteresis < threshold %v", d.name, s.Hysteresis, s.Threshold)
		case s.Rearm < 1:
			return bad("%s rearm %d: want >= 1", d.name, s.Rearm)
		case s.WarmUp < 0:
			return bad("%s warm-up %d: want >= 0", d.name, s.WarmUp)
		case s.Cooldown < 0:
			return bad("%s cooldown %v: want >= 0", d.name, s.Cooldown)
		}
	}
	return nil
}
