package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Duration is a time.Duration written in JSON as a Go duration string ("250ms"); a JSON number
// is read as milliseconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "250ms" or 250 (milliseconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("duration %q: %w", s, err)
		}
		*d = Duration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("duration %s: want a string such as \"250ms\" or milliseconds", b)
	}
	*d = Duration(ms * float64(time.Millisecond))
	return nil
}

// FaultRule injects faults into the pages whose path starts with PathPrefix. The error rates are
// exclusive: one draw per request picks at most one of 429, 503, robot check, truncation and
// malformation, so they sum to at most 1. Latency applies to every matching request.
type FaultRule struct {
	// PathPrefix selects the requests ("/s", "/dp/", "" for all pages); the longest matching
	// prefix wins. The control routes (/_truth, /_faults, /_clock, /healthz) are never faulted.
	PathPrefix string `json:"path_prefix"`
	// Latency delays every matching response.
	Latency Duration `json:"latency,omitempty"`
	// LatencyJitter adds a random delay up to this much.
	LatencyJitter Duration `json:"latency_jitter,omitempty"`
	// Rate429 is the fraction of requests answered 429 Too Many Requests with Retry-After.
	Rate429 float64 `json:"rate_429,omitempty"`
	// RetryAfter is the Retry-After of 429 answers, in seconds (0 means 1).
	RetryAfter int `json:"retry_after_seconds,omitempty"`
	// Rate503 is the fraction of requests answered 503 Service Unavailable.
	Rate503 float64 `json:"rate_503,omitempty"`
	// RobotRate is the fraction of requests answered with the robot-check page, status 200.
	RobotRate float64 `json:"robot_rate,omitempty"`
	// TruncateRate is the fraction of pages cut off part way (status 200).
	TruncateRate float64 `json:"truncate_rate,omitempty"`
	// MalformedRate is the fraction of pages with broken markup: dropped closing tags, stray
	// tags and unescaped text (status 200).
	MalformedRate float64 `json:"malformed_rate,omitempty"`
	// Limit stops the rule after injecting this many faults (latency not counted); 0: no limit.
	Limit int `json:"limit,omitempty"`
}

// Faults is the fault injection configuration served and set at /_faults.
type Faults struct {
	// Rules are the fault rules; none means no faults.
	Rules []FaultRule `json:"rules"`
}

// FaultStatus is the fault configuration with what each rule injected so far.
type FaultStatus struct {
	// Rules are the active rules, longest path prefix first.
	Rules []RuleStatus `json:"rules"`
}

// RuleStatus is a rule with its counters.
type RuleStatus struct {
	FaultRule
	// Injected counts the faults the rule injected (latency not counted).
	Injected int64 `json:"injected"`
	// Matched counts the requests the rule matched.
	Matched int64 `json:"matched"`
}

// Validate checks the rules: rates in [0, 1] summing to at most 1 per rule, bounded latency,
// distinct path prefixes starting with "/".
func (f Faults) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, r := range f.Rules {
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("rule %d (path_prefix %q): %s", i, r.PathPrefix, fmt.Sprintf(format, args...)))
		}
		if r.PathPrefix != "" && !strings.HasPrefix(r.PathPrefix, "/") {
			bad("path_prefix must be empty or start with /")
		}
		if seen[r.PathPrefix] {
			bad("duplicate path_prefix")
		}
		seen[r.PathPrefix] = true
		sum := 0.0
		for _, x := range []struct {
			name string
			v    float64
		}{{"rate_429", r.Rate429}, {"rate_503", r.Rate503}, {"robot_rate", r.RobotRate}, {"truncate_rate", r.TruncateRate}, {"malformed_rate", r.MalformedRate}} {
			if x.v < 0 || x.v > 1 {
				bad("%s %v: want 0 to 1", x.name, x.v)
			}
			sum += x.v
		}
		if sum > 1+1e-9 {
			bad("rates sum to %v: want at most 1", sum)
		}
		if r.Latency < 0 || r.LatencyJitter < 0 || time.Duration(r.Latency+r.LatencyJitter) > time.Minute {
			bad("latency %s + jitter %s: want 0 to 1m", time.Duration(r.Latency), time.Duration(r.LatencyJitter))
		}
		if r.RetryAfter < 0 || r.RetryAfter > 86400 {
			bad("retry_after_seconds %d: want 0 to 86400", r.RetryAfter)
		}
		if r.Limit < 0 {
			bad("limit %d: want 0 (no limit) or more", r.Limit)
		}
	}
	return errors.Join(errs...)
}

// faultKind is the fault chosen for one request.
type faultKind int

const (
	faultNone faultKind = iota
	fault429
	fault503
	faultRobot
	faultTruncate
	faultMalformed
)

var faultNames = [...]string{"", "429", "503", "robot", "truncate", "malformed"}

// String names the fault as X-Sandbox-Fault does.
func (k faultKind) String() string { return faultNames[k] }

// decision is what to do to one request.
type decision struct {
	kind       faultKind
	latency    time.Duration
	retryAfter int
	draw       uint64 // a random word for the fault's details (where to cut, what to break)
}

// faultSet holds the active rules and draws faults for requests.
type faultSet struct {
	seed uint64
	n    atomic.Uint64
	mu   sync.RWMutex
	// rules sorted by descending prefix length; counters alongside.
	rules    []FaultRule
	injected []*atomic.Int64
	matched  []*atomic.Int64
}

func newFaultSet(seed uint64, f Faults) (*faultSet, error) {
	fs := &faultSet{seed: seed}
	if err := fs.set(f); err != nil {
		return nil, err
	}
	return fs, nil
}

func (fs *faultSet) set(f Faults) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("fault rules: %w", err)
	}
	rules := append([]FaultRule(nil), f.Rules...)
	// Longest prefix first; stable for equal lengths.
	for i := 1; i < len(rules); i++ {
		for j := i; j > 0 && len(rules[j].PathPrefix) > len(rules[j-1].PathPrefix); j-- {
			rules[j], rules[j-1] = rules[j-1], rules[j]
		}
	}
	inj := make([]*atomic.Int64, len(rules))
	mat := make([]*atomic.Int64, len(rules))
	for i := range rules {
		inj[i], mat[i] = new(atomic.Int64), new(atomic.Int64)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules, fs.injected, fs.matched = rules, inj, mat
	return nil
}

func (fs *faultSet) status() FaultStatus {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	st := FaultStatus{Rules: []RuleStatus{}}
	for i, r := range fs.rules {
		st.Rules = append(st.Rules, RuleStatus{FaultRule: r, Injected: fs.injected[i].Load(), Matched: fs.matched[i].Load()})
	}
	return st
}

// decide draws the fault for a request to path.
func (fs *faultSet) decide(path string) decision {
	fs.mu.RLock()
	defer fs.mu.RUnlock()
	for i, r := range fs.rules {
		if !strings.HasPrefix(path, r.PathPrefix) {
			continue
		}
		fs.matched[i].Add(1)
		n := fs.n.Add(1)
		h := hash3(fs.seed, saltFault, n, 0, 0)
		d := decision{latency: time.Duration(r.Latency), draw: hash3(fs.seed, saltFault, n, 1, 0)}
		if r.LatencyJitter > 0 {
			d.latency += time.Duration(unit(hash3(fs.seed, saltFault, n, 2, 0)) * float64(r.LatencyJitter))
		}
		u := unit(h)
		acc := 0.0
		for _, c := range []struct {
			rate float64
			kind faultKind
		}{{r.Rate429, fault429}, {r.Rate503, fault503}, {r.RobotRate, faultRobot}, {r.TruncateRate, faultTruncate}, {r.MalformedRate, faultMalformed}} {
			acc += c.rate
			if c.rate > 0 && u < acc {
				d.kind = c.kind
				break
			}
		}
		if d.kind != faultNone && r.Limit > 0 {
			if fs.injected[i].Add(1) > int64(r.Limit) {
				fs.injected[i].Add(-1)
				d.kind = faultNone
			}
		} else if d.kind != faultNone {
			fs.injected[i].Add(1)
		}
		d.retryAfter = max(r.RetryAfter, 1)
		return d
	}
	return decision{}
}

// truncate cuts a page at 20-80% of its length.
func truncate(page []byte, draw uint64) []byte {
	cut := int(float64(len(page)) * between(draw, 0.2, 0.8))
	return page[:cut]
}

// malform breaks a page's markup the way broken pages come: some closing tags dropped, stray
// closing tags, an unclosed attribute quote near the end and bare ampersands and angle brackets.
// Every card is still there, with its fields, but nested wrongly.
func malform(page []byte, draw uint64) []byte {
	out := make([]byte, 0, len(page)+256)
	n := 0
	i := 0
	for i < len(page) {
		j := bytes.IndexByte(page[i:], '<')
		if j < 0 {
			out = append(out, page[i:]...)
			break
		}
		out = append(out, page[i:i+j]...)
		i += j
		switch {
		case bytes.HasPrefix(page[i:], []byte("</div>")):
			n++
			if hash3(draw, saltFault, uint64(n), 3, 0)%7 == 0 {
				i += len("</div>") // drop it
				continue
			}
		case bytes.HasPrefix(page[i:], []byte("</span>")):
			n++
			switch hash3(draw, saltFault, uint64(n), 4, 0) % 11 {
			case 0:
				i += len("</span>")
				continue
			case 1:
				out = append(out, "</td></p> & <"...)
			}
		case bytes.HasPrefix(page[i:], []byte("<div ")):
			n++
			if hash3(draw, saltFault, uint64(n), 5, 0)%13 == 0 {
				out = append(out, "</li></ul>"...)
			}
		}
		out = append(out, '<')
		i++
	}
	// An attribute whose quote never closes, near the end.
	tail := []byte(`<div class="s-widget-container>` + strconv.Itoa(int(draw%1000)))
	at := bytes.LastIndex(out, []byte("</body>"))
	if at < 0 {
		at = len(out)
	}
	return append(out[:at:at], append(tail, out[at:]...)...)
}
