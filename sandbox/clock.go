package sandbox

import (
	"sync"
	"time"
)

// Clock tells the simulated time.
type Clock interface {
	// Now returns the current simulated time.
	Now() time.Time
}

// Advancer is a Clock that can be moved forward by hand (POST /_clock).
type Advancer interface {
	Clock
	// Advance moves the simulated time forward by d.
	Advance(d time.Duration)
}

// ScaledClock is real time scaled by an acceleration factor: it starts at a simulated time and
// runs factor simulated seconds per real second.
type ScaledClock struct {
	mu     sync.Mutex
	start  time.Time // real time at which sim was current
	sim    time.Time
	factor float64
	now    func() time.Time
}

// NewScaledClock starts a clock at simulated time sim running factor times faster than real time
// (a factor <= 0 means 1).
func NewScaledClock(sim time.Time, factor float64) *ScaledClock {
	if factor <= 0 {
		factor = 1
	}
	return &ScaledClock{start: time.Now(), sim: sim, factor: factor, now: time.Now}
}

// Now returns the current simulated time.
func (c *ScaledClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sim.Add(time.Duration(float64(c.now().Sub(c.start)) * c.factor))
}

// Advance jumps the simulated time forward by d; the clock keeps running from there.
func (c *ScaledClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sim = c.sim.Add(d)
}

// Factor returns the acceleration factor.
func (c *ScaledClock) Factor() float64 { return c.factor }

// ManualClock is a clock that moves only when told, for tests.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
