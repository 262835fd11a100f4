package notifications

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/config"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

var testSecret = []byte("test-secret")

// memSink keeps the records written.
type memSink struct {
	mu   sync.Mutex
	recs []*kgo.Record
}

func (s *memSink) write(ctx context.Context, recs ...*kgo.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, recs...)
	return nil
}

// log returns the delivery-log records written.
func (s *memSink) log(t *testing.T) []*marketv1.NotificationDelivered {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*marketv1.NotificationDelivered
	for _, r := range s.recs {
		if r.Topic != topics.NotificationDeliveries {
			continue
		}
		m, err := topics.DecodeRecord(topics.MustLookup(topics.NotificationDeliveries), r)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.(*marketv1.NotificationDelivered))
	}
	return out
}

func (s *memSink) deadLetters() []*kgo.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*kgo.Record
	for _, r := range s.recs {
		if r.Topic == topics.DeadLetters {
			out = append(out, r)
		}
	}
	return out
}

func statuses(log []*marketv1.NotificationDelivered) string {
	var parts []string
	for _, d := range log {
		parts = append(parts, strings.TrimPrefix(d.GetStatus().String(), "DELIVERY_STATUS_"))
	}
	return strings.Join(parts, ",")
}

func testDeliverer(t testing.TB, mod func(*DeliveryConfig)) *Deliverer {
	t.Helper()
	cfg := DefaultDeliveryConfig()
	cfg.Secret = testSecret
	cfg.AllowPrivateAddresses = true // httptest listens on loopback
	cfg.Timeout = 2 * time.Second
	cfg.MaxAttempts = 4
	cfg.BackoffBase = time.Millisecond
	cfg.BackoffMax = 5 * time.Millisecond
	if mod != nil {
		mod(&cfg)
	}
	d, err := NewDeliverer(config.Kafka{}, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// webhookNotification is the notification of subscription "s1" with a webhook to url for
// anomaly id.
func webhookNotification(url, id string) *marketv1.NotificationRequested {
	st, _, _ := ApplyAtTarget(nil, "asin:B0", upsert(0, sub("s1", "B0", webhook(url))), 0)
	_, out := MatchAnomaly(st, anomaly(1, id, "B0", sevCritical, kindDrop), MatchOptions{Producer: "notifier"})
	return out[0]
}

func notificationRecord(t testing.TB, n *marketv1.NotificationRequested, offset int64) *kgo.Record {
	t.Helper()
	r, err := topics.NewRecord(topics.MustLookup(topics.Notifications), n.GetSubscriptionId(), n)
	if err != nil {
		t.Fatal(err)
	}
	r.Offset = offset
	return r
}

// hook is a webhook receiver that verifies every request and answers with respond.
type hook struct {
	t       *testing.T
	mu      sync.Mutex
	reqs    []hookRequest
	respond func(i int, w http.ResponseWriter, r *http.Request)
	srv     *httptest.Server
	secret  []byte
}

type hookRequest struct {
	at     time.Time
	header http.Header
	body   []byte
}

func newHook(t *testing.T, respond func(i int, w http.ResponseWriter, r *http.Request)) *hook {
	h := &hook{t: t, respond: respond, secret: testSecret}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		h.t.Errorf("read webhook body: %v", err)
	}
	h.mu.Lock()
	i := len(h.reqs)
	h.reqs = append(h.reqs, hookRequest{at: time.Now(), header: r.Header.Clone(), body: body})
	secret := h.secret
	h.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		h.t.Errorf("webhook %s with content type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if err := VerifySignature(secret, r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp), body, time.Now(), DefaultSignatureTolerance); err != nil {
		h.t.Errorf("webhook signature: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if h.respond != nil {
		h.respond(i, w, r)
	}
}

func (h *hook) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.reqs...)
}

func TestDeliverWebhookSigned(t *testing.T) {
	h := newHook(t, nil)
	d := testDeliverer(t, nil)
	n := webhookNotification(h.srv.URL+"/mip", "x")
	out := &memSink{}
	if !d.deliver(t.Context(), t.Context(), notificationRecord(t, n, 0), n, nil, out) {
		t.Fatal("deliver reported no outcome")
	}
	reqs := h.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.header.Get(HeaderNotificationID) != n.GetNotificationId() || r.header.Get(HeaderAttempt) != "1" || r.header.Get("User-Agent") == "" {
		t.Fatalf("headers %v", r.header)
	}
	got, err := topics.UnmarshalJSON(topics.MustLookup(topics.Notifications), r.body)
	if err != nil {
		t.Fatalf("webhook body is not the notification's JSON: %v\n%s", err, r.body)
	}
	if !proto.Equal(got, n) {
		t.Fatalf("webhook body %v, want %v", got, n)
	}
	log := out.log(t)
	if statuses(log) != "DELIVERED" || log[0].GetHttpStatus() != 200 || log[0].GetAttempt() != 1 ||
		log[0].GetNotificationId() != n.GetNotificationId() || log[0].GetUserId() != "user-s1" || log[0].GetChannel() != marketv1.Channel_CHANNEL_WEBHOOK {
		t.Fatalf("delivery log %v", log)
	}
	if len(out.deadLetters()) != 0 {
		t.Fatal("dead letter for a delivered notification")
	}
	// Delivered ids are skipped afterwards: one notification, one delivery.
	if !d.deliver(t.Context(), t.Context(), notificationRecord(t, n, 1), n, nil, out) || len(h.requests()) != 1 {
		t.Fatalf("redelivered notification POSTed again (%d requests)", len(h.requests()))
	}
}

func TestDeliverPerSubscriptionSecret(t *testing.T) {
	h := newHook(t, nil)
	h.secret = SubscriptionSecret(testSecret, "s1")
	d := testDeliverer(t, func(c *DeliveryConfig) { c.PerSubscriptionSecrets = true })
	n := webhookNotification(h.srv.URL, "x")
	out := &memSink{}
	d.deliver(t.Context(), t.Context(), notificationRecord(t, n, 0), n, nil, out)
	if statuses(out.log(t)) != "DELIVERED" {
		t.Fatalf("log %s", statuses(out.log(t)))
	}
}

func TestDeliverRetriesServerErrors(t *testing.T) {
	h := newHook(t, func(i int, w http.ResponseWriter, r *http.Request) {
		if i < 2 {
			http.Error(w, "database unavailable", http.StatusInternalServerError)
		}
	})
	d := testDeliverer(t, nil)
	n := webhookNotification(h.srv.URL, "x")
	out := &memSink{}
	if !d.deliver(t.Context(), t.Context(), notificationRecord(t, n, 0), n, nil, out) {
		t.Fatal("no outcome")
	}
	reqs := h.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.header.Get(HeaderNotificationID) != n.GetNotificationId() || r.header.Get(HeaderAttempt) != string(rune('1'+i)) {
			t.Fatalf("attempt %d headers %v", i+1, r.header)
		}
	}
	log := out.log(t)
	if statuses(log) != "RETRYING,RETRYING,DELIVERED" {
		t.Fatalf("log %s", statuses(log))
	}
	if log[0].GetHttpStatus() != 500 || !strings.Contains(log[0].GetError(), "database unavailable") || log[0].GetRetryInMs() > 5 || log[2].GetAttempt() != 3 {
		t.Fatalf("log %v", log)
	}
	if len(out.deadLetters()) != 0 {
		t.Fatal("dead-lettered a delivered notification")
	}
}

func TestDeliverPermanentFailureDeadLetters(t *testing.T) {
	h := newHook(t, func(i int, w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown hook", http.StatusBadRequest)
	})
	d := testDeliverer(t, nil)
	n := webhookNotification(h.srv.URL, "x")
	out := &memSink{}
	rec := notificationRecord(t, n, 41)
	if !d.deliver(t.Context(), t.Context(), rec, n, nil, out) {
		t.Fatal("no outcome")
	}
	if len(h.requests()) != 1 {
		t.Fatalf("%d requests for a 400, want 1", len(h.requests()))
	}
	if log := out.log(t); statuses(log) != "FAILED" || log[0].GetHttpStatus() != 400 {
		t.Fatalf("log %v", log)
	}
	dls := out.deadLetters()
	if len(dls) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dls))
	}
	dl := dls[0]
	if string(dl.Value) != string(rec.Value) || string(dl.Key) != "s1" {
		t.Fatal("dead letter does not keep the record")
	}
	if e, _ := topics.Header(dl, topics.HeaderDLQError); !strings.Contains(e, "HTTP 400") {
		t.Fatalf("dead-letter error %q", e)
	}
	if s, _ := topics.Header(dl, topics.HeaderDLQStage); s != deliveryStage {
		t.Fatalf("dead-letter stage %q", s)
	}
	if o, _ := topics.Header(dl, topics.HeaderDLQOffset); o != "41" {
		t.Fatalf("dead-letter offset %q", o)
	}
	// A failed notification is not remembered as delivered: a replay from the dead letters retries it.
	if d.seen.Contains(n.GetNotificationId()) {
		t.Fatal("failed notification remembered as delivered")
	}
}

func TestDeliverLastRetryDeadLetters(t *testing.T) {
	h := newHook(t, func(i int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	d := testDeliverer(t, func(c *DeliveryConfig) { c.MaxAttempts = 3 })
	n := webhookNotification(h.srv.URL, "x")
	out := &memSink{}
	d.deliver(t.Context(), t.Context(), notificationRecord(t, n, 0), n, nil, out)
	if len(h.requests()) != 3 || statuses(out.log(t)) != "RETRYING,RETRYING,FAILED" || len(out.deadLetters()) != 1 {
		t.Fatalf("%d requests, log %s, %d dead letters", len(h.requests()), statuses(out.log(t)), len(out.deadLetters()))
	}
	if e, _ := topics.Header(out.deadLetters()[0], topics.HeaderDLQError); !strings.Contains(e, "after 3 attempts") {
		t.Fatalf("dead-letter error %q", e)
	}
}

func TestDeliverHonoursRetryAfter(t *testing.T) {
	h := newHook(t, func(i int, w http.ResponseWriter, r *http.Request) {
		if i == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	})
	d := testDeliverer(t, nil) // backoff alone would wait at most 5 ms
	n := webhookNotification(h.srv.URL, "x")
	out := &memSink{}
	d.deliver(t.Context(), t.Context(), notificationRecord(t, n, 0), n, nil, out)
	reqs := h.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if gap := reqs[1].at.Sub(reqs[0].at); gap < time.Second {
		t.Fatalf("retried after %v, Retry-After asked for 1s", gap)
	}
	if log := out.log(t); statuses(log) != "RETRYING,DELIVERED" || log[0].GetHttpStatus() != 429 || log[0].GetRetryInMs() != 1000 {
		t.Fatalf("log %v", log)
	}
}

func TestDeliverCapsRetryAfter(t *testing.T) {
	h := newHook(t, func(i int, w http.ResponseWriter, r *http.Request) {
		if i == 0 {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	d := testDeliverer(t, func(c *DeliveryConfig) { c.MaxRetryAfter = 50 * time.Millisecond })
	n := webhookNotification(h.srv.URL, "x")
	out := &memSink{}
	start := time.Now()
	d.deliver(t.Context(), t.Context(), notificationRecord(t, n, 0), n, nil, out)
	if took := time.Since(start); took > 5*time.Second || len(h.requests()) != 2 {
		t.Fatalf("%d requests in %v", len(h.requests()), took)
	}
	if log := out.log(t); log[0].GetRetryInMs() != 50 {
		t.Fatalf("waited %d ms, want the 50 ms cap", log[0].GetRetryInMs())
	}
}

func TestDeliverTimeout(t *testing.T) {
	h := newHook(t, func(i int, w http.ResponseWriter, r *http.Request) {
		if i == 0 {
			select { // hang until the deliverer gives up
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	})
	d := testDeliverer(t, func(c *DeliveryConfig) { c.Timeout = 200 * time.Millisecond })
	n := webhookNotification(h.srv.URL, "x")
	out := &memSink{}
	start := time.Now()
	d.deliver(t.Context(), t.Context(), notificationRecord(t, n, 0), n, nil, out)
	log := out.log(t)
	if statuses(log) != "RETRYING,DELIVERED" {
		t.Fatalf("log %s", statuses(log))
	}
	if !strings.Contains(log[0].GetError(), "no response within 200ms") || log[0].GetHttpStatus() != 0 {
		t.Fatalf("timed-out attempt logged as %v", log[0])
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("delivery took %v with a 200ms timeout", took)
	}
}

func TestDeliverRefusesPrivateAddresses(t *testing.T) {
	h := newHook(t, nil)
	d := testDeliverer(t, func(c *DeliveryConfig) { c.AllowPrivateAddresses = false })
	n := webhookNotification(h.srv.URL, "x") // http://127.0.0.1:port
	out := &memSink{}
	d.deliver(t.Context(), t.Context(), notificationRecord(t, n, 0), n, nil, out)
	if len(h.requests()) != 0 {
		t.Fatal("a webhook reached a loopback address")
	}
	log := out.log(t)
	if statuses(log) != "FAILED" || !strings.Contains(log[0].GetError(), ErrForbiddenAddress.Error()) || len(out.deadLetters()) != 1 {
		t.Fatalf("log %v, %d dead letters", log, len(out.deadLetters()))
	}
	// The guard also holds at dial time, for names that resolve to private addresses.
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL, nil)
	if _, err := d.http.Do(req); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("dial to %s: %v, want ErrForbiddenAddress", h.srv.URL, err)
	}
	if len(h.requests()) != 0 {
		t.Fatal("the dial guard let a request through")
	}
}

func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	target := newHook(t, nil)
	h := newHook(t, func(i int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.srv.URL, http.StatusFound)
	})
	d := testDeliverer(t, nil)
	n := webhookNotification(h.srv.URL, "x")
	out := &memSink{}
	d.deliver(t.Context(), t.Context(), notificationRecord(t, n, 0), n, nil, out)
	if len(target.requests()) != 0 || statuses(out.log(t)) != "FAILED" {
		t.Fatalf("redirect followed (%d) or log %s", len(target.requests()), statuses(out.log(t)))
	}
}

func TestDeliverInApp(t *testing.T) {
	d := testDeliverer(t, nil)
	st, _, _ := ApplyAtTarget(nil, "asin:B0", upsert(0, sub("s1", "B0")), 0)
	_, ns := MatchAnomaly(st, anomaly(1, "x", "B0", sevCritical, kindDrop), MatchOptions{})
	out := &memSink{}
	if !d.deliver(t.Context(), t.Context(), notificationRecord(t, ns[0], 0), ns[0], nil, out) {
		t.Fatal("no outcome")
	}
	if log := out.log(t); statuses(log) != "DELIVERED" || log[0].GetChannel() != marketv1.Channel_CHANNEL_IN_APP || log[0].GetHttpStatus() != 0 {
		t.Fatalf("log %v", log)
	}
}

func TestDeliverBadRecordsDeadLettered(t *testing.T) {
	d := testDeliverer(t, nil)
	out := &memSink{}
	garbage := &kgo.Record{Topic: topics.Notifications, Key: []byte("k"), Value: []byte{0xff, 0xff, 0xff}}
	recs := []*kgo.Record{garbage}
	noChannel := webhookNotification("https://hooks.example.com/", "x")
	noChannel.Channel = marketv1.Channel_CHANNEL_UNSPECIFIED
	recs = append(recs, notificationRecord(t, noChannel, 1))
	noID := webhookNotification("https://hooks.example.com/", "y")
	noID.NotificationId = ""
	recs = append(recs, notificationRecord(t, noID, 2))
	done := d.deliverBatch(t.Context(), t.Context(), recs, out)
	if done[0] != true || done[1] != true || done[2] != true || len(out.deadLetters()) != 3 {
		t.Fatalf("done %v, %d dead letters", done, len(out.deadLetters()))
	}
}

func TestDeliverBatchDeliversDuplicatesOnce(t *testing.T) {
	h := newHook(t, nil)
	d := testDeliverer(t, nil)
	a := webhookNotification(h.srv.URL, "a")
	b := webhookNotification(h.srv.URL, "b")
	recs := []*kgo.Record{notificationRecord(t, a, 0), notificationRecord(t, b, 1), notificationRecord(t, a, 2)}
	out := &memSink{}
	done := d.deliverBatch(t.Context(), t.Context(), recs, out)
	if !done[0] || !done[1] || !done[2] {
		t.Fatalf("done %v", done)
	}
	if len(h.requests()) != 2 {
		t.Fatalf("%d requests, want 2", len(h.requests()))
	}
}

func TestDeliverWaitsForTheLog(t *testing.T) {
	h := newHook(t, nil)
	d := testDeliverer(t, nil)
	n := webhookNotification(h.srv.URL, "x")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	// A log that cannot be written leaves the notification without an outcome (not committed).
	if d.deliver(t.Context(), ctx, notificationRecord(t, n, 0), n, nil, failingUntilDone{}) {
		t.Fatal("outcome reported although the log was never written")
	}
	if d.seen.Contains(n.GetNotificationId()) {
		t.Fatal("remembered as delivered without a log record")
	}
}

// failingUntilDone fails every write until its context ends.
type failingUntilDone struct{}

func (failingUntilDone) write(ctx context.Context, recs ...*kgo.Record) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestDeliverStopsRetryingOnShutdown(t *testing.T) {
	h := newHook(t, func(i int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	d := testDeliverer(t, func(c *DeliveryConfig) { c.BackoffBase, c.BackoffMax = time.Minute, time.Minute })
	n := webhookNotification(h.srv.URL, "x")
	out := &memSink{}
	runCtx, stop := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, stop)
	start := time.Now()
	if d.deliver(runCtx, t.Context(), notificationRecord(t, n, 0), n, nil, out) {
		t.Fatal("outcome reported for a delivery interrupted by shutdown")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("shutdown waited %v for the backoff", took)
	}
	if statuses(out.log(t)) != "RETRYING" || len(out.deadLetters()) != 0 {
		t.Fatalf("log %s, %d dead letters", statuses(out.log(t)), len(out.deadLetters()))
	}
}

func TestDeliveryConfigValidate(t *testing.T) {
	c := DefaultDeliveryConfig()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Fatalf("Validate without secret = %v", err)
	}
	c.Secret = []byte("x")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.BackoffMax = c.BackoffBase / 2
	c.MaxAttempts = 0
	if err := c.Validate(); err == nil {
		t.Fatal("Validate accepted max backoff below base and no attempts")
	}
}
