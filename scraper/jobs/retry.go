package jobs

import (
	"fmt"
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Class says what kind of failure ended a job's attempt.
type Class int

const (
	// Transient failures (timeouts, 5xx and 429 after the fetcher's own retries, network errors,
	// an unreadable page) are retried with exponential backoff.
	Transient Class = iota
	// Blocked is a robot-check page: retried only if Policy.BlockedBackoff is set, and then
	// after that much longer delay, since asking again at once keeps the block on.
	Blocked
	// Unavailable is an open circuit breaker with no earlier result to answer from: retried with
	// backoff, at least Policy.UnavailableDelay later (the breaker's open period).
	Unavailable
	// Permanent failures (a URL the guard refuses, robots.txt forbids, a malformed request) are
	// never retried.
	Permanent
)

// String names the class.
func (c Class) String() string {
	switch c {
	case Transient:
		return "transient"
	case Blocked:
		return "blocked"
	case Unavailable:
		return "unavailable"
	case Permanent:
		return "permanent"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Policy is how failed attempts are retried.
type Policy struct {
	// MaxAttempts is the number of attempts of a job, the first included (default 3); after the
	// last one a failed job is dead-lettered.
	MaxAttempts int
	// BaseBackoff is the delay before the second attempt; each next delay doubles, capped at
	// MaxBackoff (defaults 5 s and 5 min). The delay drawn is uniform in [d/2, d] (equal jitter),
	// so retries of many jobs spread out but none comes back at once.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// BlockedBackoff, when positive, retries blocked attempts after this base delay (doubling
	// like the others, capped at 4×MaxBackoff); zero ends a blocked job with BLOCKED.
	BlockedBackoff time.Duration
	// UnavailableDelay is the least delay after an open breaker (default 60 s, the fetcher's
	// breaker timeout).
	UnavailableDelay time.Duration
}

// DefaultPolicy is 3 attempts, 5 s doubling to 5 min, blocked jobs not retried.
var DefaultPolicy = Policy{MaxAttempts: 3, BaseBackoff: 5 * time.Second, MaxBackoff: 5 * time.Minute, UnavailableDelay: time.Minute}

// WithDefaults fills the zero fields from DefaultPolicy.
func (p Policy) WithDefaults() Policy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultPolicy.MaxAttempts
	}
	if p.BaseBackoff <= 0 {
		p.BaseBackoff = DefaultPolicy.BaseBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = DefaultPolicy.MaxBackoff
	}
	if p.MaxBackoff < p.BaseBackoff {
		p.MaxBackoff = p.BaseBackoff
	}
	if p.UnavailableDelay <= 0 {
		p.UnavailableDelay = DefaultPolicy.UnavailableDelay
	}
	return p
}

// Decision is what happens after a failed attempt.
type Decision struct {
	// Retry is true when another attempt follows after Delay.
	Retry bool
	// Delay is the wait before the next attempt.
	Delay time.Duration
	// Status is the status that reports the attempt's end: RETRYING when Retry, else FAILED or
	// BLOCKED.
	Status marketv1.ScrapeStatus
	// DeadLetter is true when the request goes to the dead-letter topic (a failed job that will
	// not be retried; a blocked one is not dead-lettered: nothing is wrong with the request).
	DeadLetter bool
	// Why says in words why it is (not) retried.
	Why string
}

// Decide says what follows the failure of attempt (1-based) of class c. jitter is a uniform
// draw in [0,1); now and deadline (zero: none) keep a retry from landing past the deadline.
func (p Policy) Decide(attempt int, c Class, jitter float64, now, deadline time.Time) Decision {
	p = p.WithDefaults()
	stop := func(why string) Decision {
		if c == Blocked {
			return Decision{Status: marketv1.ScrapeStatus_SCRAPE_STATUS_BLOCKED, Why: why}
		}
		return Decision{Status: marketv1.ScrapeStatus_SCRAPE_STATUS_FAILED, DeadLetter: true, Why: why}
	}
	var base, ceil time.Duration
	switch c {
	case Permanent:
		return stop("not retryable")
	case Blocked:
		if p.BlockedBackoff <= 0 {
			return stop("blocked jobs are not retried")
		}
		base, ceil = p.BlockedBackoff, max(4*p.MaxBackoff, p.BlockedBackoff)
	default:
		base, ceil = p.BaseBackoff, p.MaxBackoff
	}
	if attempt >= p.MaxAttempts {
		return stop(fmt.Sprintf("gave up after %d attempts", attempt))
	}
	d := backoff(base, ceil, attempt, jitter)
	if c == Unavailable && d < p.UnavailableDelay {
		d = p.UnavailableDelay
	}
	if !deadline.IsZero() && !now.Add(d).Before(deadline) {
		return stop(fmt.Sprintf("a retry in %v would start after the deadline %s", d.Round(time.Millisecond), deadline.UTC().Format(time.RFC3339)))
	}
	return Decision{Retry: true, Delay: d, Status: marketv1.ScrapeStatus_SCRAPE_STATUS_RETRYING,
		Why: fmt.Sprintf("attempt %d of %d in %v", attempt+1, p.MaxAttempts, d.Round(time.Millisecond))}
}

// backoff is base·2^(attempt-1) capped at ceil, with equal jitter: uniform in [d/2, d].
func backoff(base, ceil time.Duration, attempt int, jitter float64) time.Duration {
	d := base
	for i := 1; i < attempt && d < ceil; i++ {
		d *= 2
	}
	d = min(d, ceil)
	jitter = min(max(jitter, 0), 1)
	return d/2 + time.Duration(jitter*float64(d/2))
}
