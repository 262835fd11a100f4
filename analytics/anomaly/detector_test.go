package anomaly

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// at returns the event time of point i of an hourly series.
func at(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }

func sens(threshold float64, warmUp int) Sensitivity {
	return Sensitivity{Threshold: threshold, Hysteresis: 1.5, Rearm: 2, WarmUp: warmUp, Cooldown: 6 * time.Hour}
}

// priceParams are robust_z parameters like the processor's price defaults (minor units).
func priceParams() Params {
	return Params{
		Model: Model{Method: MethodRobustZ, Window: 20, MinSpread: 1, MinRelSpread: 0.02},
		Up:    sens(3.5, 8), Down: sens(3.5, 8),
	}
}

// ewmaParams are ewma parameters like the processor's rating defaults (stars).
func ewmaParams() Params {
	return Params{
		Model: Model{Method: MethodEWMA, Alpha: 0.1, MinSpread: 0.05},
		Up:    sens(3, 8), Down: sens(3, 8),
	}
}

// ewmaPriceParams are ewma parameters with price-like floors (minor units).
func ewmaPriceParams() Params {
	p := ewmaParams()
	p.MinSpread, p.MinRelSpread = 1, 0.02
	return p
}

func seasonalParams() Params {
	return Params{
		Model: Model{Method: MethodSeasonal, Alpha: 0.05, Gamma: 0.2, MinSpread: 0.05},
		Up:    sens(4, 48), Down: sens(4, 48),
	}
}

// noisy returns n values around level with normal noise of sd, from a fixed seed.
func noisy(n int, level, sd float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Round(level + sd*r.NormFloat64())
	}
	return v
}

// daily returns n hourly values of log(5000 rank) with a daily wave of amplitude amp and noise sd.
func daily(n int, amp, sd float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 2))
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Log(5000) + amp*math.Sin(2*math.Pi*float64(i%24)/24) + sd*r.NormFloat64()
	}
	return v
}

// pulse returns n hourly values of log(5000 rank) that rise by height for three evening hours
// (20:00-22:59 UTC) every day, with noise sd.
func pulse(n int, height, sd float64, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 3))
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Log(5000) + sd*r.NormFloat64()
		if h := i % 24; h >= 20 && h <= 22 {
			v[i] += height
		}
	}
	return v
}

type alert struct {
	i   int
	dir Direction
}

// run observes the series hourly and returns the alerts.
func run(t testing.TB, p Params, series []float64) []alert {
	t.Helper()
	d, err := NewDetector(p)
	if err != nil {
		t.Fatal(err)
	}
	var got []alert
	for i, x := range series {
		if r := d.Observe(at(i), x); r.Alert != None {
			got = append(got, alert{i, r.Alert})
		}
	}
	return got
}

// want is an alert expected from point from to point from+within.
type want struct {
	from, within int
	dir          Direction
}

func TestDetectorsOnKnownSeries(t *testing.T) {
	step := noisy(80, 2500, 8, 1)
	for i := 40; i < len(step); i++ {
		step[i] -= 501 // $25.00 to $19.99
	}
	stepUp := noisy(80, 2500, 8, 2)
	for i := 40; i < len(stepUp); i++ {
		stepUp[i] += 700
	}
	spike := noisy(80, 2500, 8, 3)
	spike[40] = 3500
	dip := noisy(80, 2500, 8, 4)
	dip[40] = 1500
	drift := noisy(80, 2500, 8, 5)
	for i := 40; i < len(drift); i++ {
		drift[i] += 50 * float64(i-39) // 2% of the price per point
	}
	flicker := make([]float64, 200)
	for i := range flicker {
		flicker[i] = 2500 + 150*float64(i%2) // $25.00, $26.50, $25.00, ...
	}
	flickerNoisy := noisy(200, 2500, 8, 6)
	for i := range flickerNoisy {
		if i%3 == 1 { // uneven split: a third of the points on the high level
			flickerNoisy[i] += 150
		}
	}
	flickerLate := noisy(120, 2500, 8, 7)
	for i := 40; i < len(flickerLate); i += 2 {
		flickerLate[i+1] += 500 // stable, then flickering between $25 and $30
	}
	warmSpike := noisy(60, 2500, 8, 8)
	warmSpike[3] = 5000 // in the warm-up: never an alert
	warmSpike[5] = 100
	both := noisy(120, 2500, 8, 9)
	for i := 40; i < 50; i++ {
		both[i] -= 600 // ten hours on sale, then back
	}
	both[100] = 3600
	newNormal := noisy(120, 2500, 8, 9)
	for i := 40; i < 70; i++ {
		newNormal[i] -= 600 // thirty hours on sale: the window takes it as the level, so the way back is a move
	}
	rating := noisy(120, 0, 0, 10)
	for i := range rating {
		rating[i] = 4.5 + 0.1*float64(i%2) // 4.5/4.6 flicker of a rounded rating
		if i >= 80 {
			rating[i] = 4.1
		}
	}
	season := daily(240, 0.5, 0.04, 11)
	seasonSpike := daily(240, 0.5, 0.04, 12)
	seasonSpike[200] += 1.0 // rank x2.7 (worse) at one hour
	seasonStep := daily(240, 0.5, 0.04, 13)
	for i := 180; i < len(seasonStep); i++ {
		seasonStep[i] -= 1.2 // rank /3.3 (better) from then on
	}

	cases := []struct {
		name   string
		p      Params
		series []float64
		want   []want // every alert of the run, in order
	}{
		{"robust step down", priceParams(), step, []want{{40, 0, Down}}},
		{"robust step up", priceParams(), stepUp, []want{{40, 0, Up}}},
		{"robust spike", priceParams(), spike, []want{{40, 0, Up}}},
		{"robust dip", priceParams(), dip, []want{{40, 0, Down}}},
		{"robust drift", priceParams(), drift, []want{{40, 4, Up}}},
		{"robust flicker", priceParams(), flicker, nil},
		{"robust uneven noisy flicker", priceParams(), flickerNoisy, nil},
		{"robust flicker after stable: one alert, no storm", priceParams(), flickerLate, []want{{41, 0, Up}}},
		{"robust warm-up", priceParams(), warmSpike, nil},
		{"robust both directions", priceParams(), both, []want{{40, 0, Down}, {100, 0, Up}}},
		{"robust new normal, then back", priceParams(), newNormal, []want{{40, 0, Down}, {70, 0, Up}}},
		// An EWMA follows a drift (its variance grows with the lag), so drift is robust_z's job.
		{"ewma step", ewmaPriceParams(), step, []want{{40, 0, Down}}},
		{"ewma spike", ewmaPriceParams(), spike, []want{{40, 0, Up}}},
		{"ewma flicker", ewmaPriceParams(), flicker, nil},
		{"ewma rating flicker then drop", ewmaParams(), rating, []want{{80, 0, Down}}},
		{"ewma warm-up", ewmaPriceParams(), warmSpike, nil},
		{"seasonal daily wave", seasonalParams(), season, nil},
		{"seasonal spike on the wave", seasonalParams(), seasonSpike, []want{{200, 0, Up}}},
		{"seasonal step on the wave", seasonalParams(), seasonStep, []want{{180, 1, Down}}},
		{"seasonal evening pulse", seasonalParams(), pulse(240, 0.8, 0.04, 14), nil},
		{"seasonal flicker", seasonalParams(), append(append([]float64(nil), flicker...), flicker...), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := run(t, c.p, c.series)
			if len(got) != len(c.want) {
				t.Fatalf("alerts %v, want %d: %+v", got, len(c.want), c.want)
			}
			for k, w := range c.want {
				g := got[k]
				if g.dir != w.dir || g.i < w.from || g.i > w.from+w.within {
					t.Errorf("alert %d: %s at point %d, want %s within %d points of %d", k, g.dir, g.i, w.dir, w.within, w.from)
				}
			}
		})
	}
}

// The robust baseline alone alerts every evening on a daily pulse: what the seasonal baseline is for.
func TestRobustAlertsOnSeasonality(t *testing.T) {
	p := Params{Model: Model{Method: MethodRobustZ, Window: 20, MinSpread: 0.05}, Up: sens(4, 48), Down: sens(4, 48)}
	if got := run(t, p, pulse(240, 0.8, 0.04, 14)); len(got) < 5 {
		t.Fatal("robust_z raised no alert on a strong daily wave; the seasonal test proves less than it says")
	}
}

func TestCooldownAndRearm(t *testing.T) {
	s := noisy(80, 2500, 8, 20)
	s[40], s[43], s[50] = 3500, 3500, 3500 // 43: re-armed but inside the 6 h cooldown; 50: after it
	got := run(t, priceParams(), s)
	if want := []alert{{40, Up}, {50, Up}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("alerts %v, want %v", got, want)
	}
	// Without re-arming (a deviation that stays), the cooldown's end raises nothing new.
	s = noisy(80, 2500, 8, 21)
	for i := 40; i < 44; i++ {
		s[i] = 3500
	}
	if got := run(t, priceParams(), s); !reflect.DeepEqual(got, []alert{{40, Up}}) {
		t.Fatalf("alerts %v, want one at 40", got)
	}
}

func TestThresholdZeroTurnsDirectionOff(t *testing.T) {
	p := priceParams()
	p.Down.Threshold = 0
	s := noisy(80, 2500, 8, 22)
	s[40], s[60] = 1500, 3500
	if got := run(t, p, s); !reflect.DeepEqual(got, []alert{{60, Up}}) {
		t.Fatalf("alerts %v, want only the spike at 60", got)
	}
}

func TestStaleValueIsRefused(t *testing.T) {
	for _, p := range []Params{priceParams(), ewmaParams(), seasonalParams()} {
		t.Run(string(p.Method), func(t *testing.T) {
			d, err := NewDetector(p)
			if err != nil {
				t.Fatal(err)
			}
			for i, x := range noisy(30, 2500, 8, 23) {
				d.Observe(at(i), x)
			}
			before := proto.Clone(d.State())
			for _, x := range []float64{1, math.NaN(), math.Inf(1)} {
				r := d.Observe(at(10), x) // older than point 29
				if !r.Stale || r.Alert != None || r.Scored {
					t.Fatalf("late value: %+v, want stale", r)
				}
				if r := d.Observe(at(30), x); x != 1 && !r.Stale {
					t.Fatalf("non-finite value %v: %+v, want stale", x, r)
				}
				if x == 1 {
					before = proto.Clone(d.State()) // the on-time 1 was learned
				}
			}
			if !proto.Equal(before, d.State()) {
				t.Fatal("a refused value changed the state")
			}
			// The same instant again is accepted (ties are not late).
			if r := d.Observe(at(30), 2500); r.Stale {
				t.Fatal("a value at the latest instant was refused")
			}
		})
	}
}

// A detector saved and loaded mid-series (a restarted processor) continues exactly as one that
// never stopped.
func TestSaveLoadContinuesIdentically(t *testing.T) {
	series := daily(240, 0.5, 0.04, 30)
	series[100] += 2
	series[200] -= 2
	for _, p := range []Params{priceParams(), ewmaParams(), seasonalParams()} {
		t.Run(string(p.Method), func(t *testing.T) {
			p.MinSpread, p.MinRelSpread = 0.05, 0
			whole, _ := NewDetector(p)
			var want []Result
			for i, x := range series {
				want = append(want, whole.Observe(at(i), x))
			}
			d, _ := NewDetector(p)
			var got []Result
			for i, x := range series {
				if i%37 == 0 { // save and load every 37 points
					b, err := proto.Marshal(d.State())
					if err != nil {
						t.Fatal(err)
					}
					s := &marketv1.SeriesState{}
					if err := proto.Unmarshal(b, s); err != nil {
						t.Fatal(err)
					}
					if d, err = LoadDetector(p, s); err != nil {
						t.Fatal(err)
					}
				}
				got = append(got, d.Observe(at(i), x))
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatal("results after save/load differ from an uninterrupted run")
			}
			if !proto.Equal(d.State(), whole.State()) {
				t.Fatal("final states differ")
			}
		})
	}
}

func TestChangedMethodStartsAfresh(t *testing.T) {
	d, _ := NewDetector(priceParams())
	for i, x := range noisy(30, 2500, 8, 40) {
		d.Observe(at(i), x)
	}
	e, err := LoadDetector(ewmaParams(), d.State())
	if err != nil {
		t.Fatal(err)
	}
	if s := e.State(); s.GetCount() != 0 || len(s.GetValues()) != 0 || s.GetMethod() != string(MethodEWMA) {
		t.Fatalf("state not reset: %v", s)
	}
}

func TestBaselineOfRobustWindow(t *testing.T) {
	d, _ := NewDetector(priceParams())
	vals := []float64{2500, 2650, 2500, 2650, 2500, 2650, 2500, 2650, 2500, 2650, 2500, 2650, 2500, 2650}
	for i, x := range vals {
		d.Observe(at(i), x)
	}
	r := d.Observe(at(len(vals)), 1999)
	b := r.Baseline
	if b.Center != 2575 || b.Low != 2500 || b.High != 2650 || b.Points != 14 || !b.Since.Equal(at(0)) || b.Method != MethodRobustZ {
		t.Fatalf("baseline %+v", b)
	}
	if r.Score >= 0 || math.Abs(r.Score-(1999-2575)/b.Spread) > 1e-12 {
		t.Fatalf("score %v with spread %v", r.Score, b.Spread)
	}
	// The window keeps its size.
	for i := range 50 {
		d.Observe(at(100+i), 2500)
	}
	if n := len(d.State().GetValues()); n != 20 || len(d.State().GetTimesUnixMs()) != 20 {
		t.Fatalf("window holds %d values, want 20", n)
	}
}

func TestRatePerDay(t *testing.T) {
	s := &marketv1.SeriesState{}
	if _, ok := RatePerDay(s, at(0), 100, 6*time.Hour); ok {
		t.Fatal("first count measured a rate")
	}
	if _, ok := RatePerDay(s, at(2), 110, 6*time.Hour); ok {
		t.Fatal("rate measured over less than the interval")
	}
	r, ok := RatePerDay(s, at(12), 130, 6*time.Hour)
	if !ok || r != 60 {
		t.Fatalf("rate %v %v, want 60/day", r, ok)
	}
	if _, ok := RatePerDay(s, at(1), 90, 6*time.Hour); ok || s.RateAnchor != 130 {
		t.Fatal("an older count moved the anchor")
	}
}

func TestValidate(t *testing.T) {
	good := []Params{priceParams(), ewmaParams(), seasonalParams()}
	for _, p := range good {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p.Method, err)
		}
	}
	bad := []func(*Params){
		func(p *Params) { p.Method = "median" },
		func(p *Params) { p.Window = 2 },
		func(p *Params) { p.MinSpread = 0 },
		func(p *Params) { p.MinRelSpread = -1 },
		func(p *Params) { p.Up.Threshold = -1 },
		func(p *Params) { p.Up.Hysteresis = p.Up.Threshold },
		func(p *Params) { p.Down.Rearm = 0 },
		func(p *Params) { p.Down.WarmUp = -1 },
		func(p *Params) { p.Down.Cooldown = -time.Second },
		func(p *Params) { p.Method, p.Alpha = MethodEWMA, 0 },
		func(p *Params) { p.Method, p.Alpha, p.Gamma = MethodSeasonal, 0.1, 2 },
	}
	for i, f := range bad {
		p := priceParams()
		f(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("case %d: %+v accepted", i, p)
		}
		if _, err := NewDetector(p); err == nil {
			t.Errorf("case %d: NewDetector accepted invalid params", i)
		}
	}
}
