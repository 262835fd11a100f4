package api

import (
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ParamError is a query parameter or body field the API refuses: unknown, repeated, or with a
// value outside what it allows. It is answered with 400 naming the parameter and what it allows.
type ParamError struct {
	// Param is the parameter's name.
	Param string
	// Value is the refused value ("" for an unknown or missing parameter).
	Value string
	// Allowed says what the parameter allows, or which parameters exist.
	Allowed string
	// Reason says what is wrong.
	Reason string
}

func (e *ParamError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("parameter %s: %s; allowed: %s", e.Param, e.Reason, e.Allowed)
	}
	return fmt.Sprintf("parameter %s=%q: %s; allowed: %s", e.Param, e.Value, e.Reason, e.Allowed)
}

// params reads query parameters, refusing unknown ones and repeats of single-valued ones.
type params struct {
	q     url.Values
	multi map[string]bool
}

// newParams checks that q holds only the allowed names (multi ones may repeat).
func newParams(q url.Values, allowed []string, multi ...string) (*params, error) {
	p := &params{q: q, multi: map[string]bool{}}
	for _, m := range multi {
		p.multi[m] = true
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			list := "none"
			if len(allowed) > 0 {
				list = strings.Join(allowed, ", ")
			}
			shown := name
			if shown == "" {
				shown = "(empty name)"
			}
			return nil, &ParamError{Param: shown, Reason: "unknown parameter", Allowed: list}
		}
		if len(q[name]) > 1 && !p.multi[name] {
			return nil, &ParamError{Param: name, Value: q[name][1], Reason: "given more than once", Allowed: "one value"}
		}
	}
	return p, nil
}

// str returns a parameter's value ("" when absent).
func (p *params) str(name string) string { return p.q.Get(name) }

// has reports whether a parameter is present.
func (p *params) has(name string) bool { _, ok := p.q[name]; return ok }

// oneOf returns a parameter's value, which must be one of allowed; def when absent.
func (p *params) oneOf(name, def string, allowed []string) (string, error) {
	if !p.has(name) {
		return def, nil
	}
	v := p.str(name)
	if !slices.Contains(allowed, v) {
		return "", &ParamError{Param: name, Value: v, Reason: "not an allowed value", Allowed: strings.Join(allowed, ", ")}
	}
	return v, nil
}

// integer returns a parameter as an integer within [lo, hi]; nil when absent.
func (p *params) integer(name string, lo, hi int64) (*int64, error) {
	if !p.has(name) {
		return nil, nil
	}
	v := p.str(name)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return nil, &ParamError{Param: name, Value: v, Reason: "not an integer in range", Allowed: fmt.Sprintf("an integer from %d to %d", lo, hi)}
	}
	return &n, nil
}

// number returns a parameter as a finite number within [lo, hi]; nil when absent.
func (p *params) number(name string, lo, hi float64) (*float64, error) {
	if !p.has(name) {
		return nil, nil
	}
	v := p.str(name)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < lo || f > hi {
		return nil, &ParamError{Param: name, Value: v, Reason: "not a number in range", Allowed: fmt.Sprintf("a number from %g to %g", lo, hi)}
	}
	return &f, nil
}

// boolean returns a parameter as true or false; nil when absent.
func (p *params) boolean(name string) (*bool, error) {
	if !p.has(name) {
		return nil, nil
	}
	switch v := p.str(name); v {
	case "true", "1":
		b := true
		return &b, nil
	case "false", "0":
		b := false
		return &b, nil
	default:
		return nil, &ParamError{Param: name, Value: v, Reason: "not a boolean", Allowed: "true, false, 1, 0"}
	}
}

// limit returns the limit parameter within [1, max], def when absent.
func (p *params) limit(def, max int) (int, error) {
	n, err := p.integer("limit", 1, int64(max))
	if err != nil || n == nil {
		return def, err
	}
	return int(*n), nil
}

// since returns a time parameter given as RFC 3339 or unix milliseconds; zero when absent.
func (p *params) since(name string) (time.Time, error) {
	if !p.has(name) {
		return time.Time{}, nil
	}
	v := p.str(name)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil && ms >= 0 && ms < 1e14 {
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, &ParamError{Param: name, Value: v, Reason: "not a time", Allowed: "an RFC 3339 time (2026-03-01T12:00:00Z) or unix milliseconds"}
}

// text returns a free-text parameter of at most max bytes of valid UTF-8 without control characters.
func (p *params) text(name string, max int) (string, error) {
	v := p.str(name)
	if err := checkText(name, v, max); err != nil {
		return "", err
	}
	return v, nil
}

// checkText refuses text longer than max bytes, invalid UTF-8 or with control characters.
func checkText(name, v string, max int) error {
	if len(v) > max || !validText(v) {
		return &ParamError{Param: name, Value: truncate(v, 64), Reason: "not acceptable text",
			Allowed: fmt.Sprintf("up to %d bytes of UTF-8 text without control characters", max)}
	}
	return nil
}

// validText reports whether s is valid UTF-8 without control characters.
func validText(s string) bool {
	for _, r := range s {
		if r == 0xFFFD || r < 0x20 || r == 0x7F {
			return false
		}
	}
	return true
}

// truncate shortens s to at most n bytes for messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
