package notifications

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxResponseBytes is how much of a webhook response is read (to reuse the connection); the
// rest is dropped with the connection.
const maxResponseBytes = 64 << 10

// newHTTPClient returns the webhook client: no proxy from the environment (a proxy would hide
// the destination from the address guard), no redirects, the guard on every connection.
func newHTTPClient(cfg DeliveryConfig) *http.Client {
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second, Control: dialGuard{allowPrivate: cfg.AllowPrivateAddresses}.control}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   cfg.Concurrency, // many notifications go to one receiver
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// attemptResult is the outcome of one webhook POST.
type attemptResult struct {
	// status is the HTTP status (0 when no response came).
	status int
	// err is nil on success.
	err error
	// permanent says a retry cannot help (a 4xx other than 408 and 429, a redirect, a refused
	// address, a malformed URL).
	permanent bool
	// retryAfter is the wait the receiver asked for with Retry-After (429 and 503), if any.
	retryAfter time.Duration
	hasRetry   bool
	// latency is how long the attempt took.
	latency time.Duration
}

// post sends one signed attempt of a webhook.
func (d *Deliverer) post(ctx context.Context, rawURL, notificationID string, secret, body []byte, attempt int) attemptResult {
	if err := CheckWebhookURL(rawURL, d.cfg.AllowPrivateAddresses); err != nil {
		return attemptResult{err: err, permanent: true}
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return attemptResult{err: fmt.Errorf("%w: %w", ErrInvalidWebhookURL, err), permanent: true}
	}
	now := d.now()
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.cfg.UserAgent)
	req.Header.Set(HeaderNotificationID, notificationID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	req.Header.Set(HeaderAttempt, strconv.Itoa(attempt))
	start := time.Now()
	resp, err := d.http.Do(req)
	res := attemptResult{}
	if err != nil {
		res.latency = time.Since(start)
		switch {
		case errors.Is(err, ErrForbiddenAddress):
			res.err, res.permanent = err, true
		case errors.Is(ctx.Err(), context.DeadlineExceeded) || isTimeout(err):
			res.err = fmt.Errorf("no response within %v: %w", d.cfg.Timeout, err)
		default:
			res.err = err
		}
		return res
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	_ = resp.Body.Close()
	res.latency = time.Since(start)
	res.status = resp.StatusCode
	return classify(res, resp.StatusCode, resp.Header.Get("Retry-After"), strings.TrimSpace(string(snippet)), now)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// classify fills in an attempt's outcome from the response status: 2xx delivered; 408, 429 and
// 5xx retried (429 and 503 with their Retry-After); 3xx (redirects are not followed) and other
// 4xx permanent.
func classify(res attemptResult, status int, retryAfter, body string, now time.Time) attemptResult {
	switch {
	case status >= 200 && status < 300:
		return res
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		res.retryAfter, res.hasRetry = parseRetryAfter(retryAfter, now)
	case status == http.StatusRequestTimeout || status >= 500:
	case status >= 300 && status < 400:
		res.permanent = true
		body = "redirect not followed"
	default:
		res.permanent = true
	}
	if len(body) > 200 {
		body = body[:200]
	}
	if body != "" {
		res.err = fmt.Errorf("HTTP %d: %s", status, body)
	} else {
		res.err = fmt.Errorf("HTTP %d", status)
	}
	return res
}

// parseRetryAfter parses a Retry-After value: delay seconds (a decimal fraction is accepted)
// or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs > 1e9 {
			return 0, false
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// backoff returns the wait before attempt+1 after attempt failed: base doubled per attempt,
// capped at max, with "equal jitter" (half fixed, half random; r in [0,1)) so that failed
// deliveries do not retry in lockstep.
func backoff(attempt int, base, max time.Duration, r float64) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}
