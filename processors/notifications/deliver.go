package notifications

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// DeliveryGroup is the Kafka consumer group of the Deliverer.
const DeliveryGroup = "notifier-delivery"

// deliveryStage names the deliverer in dead-letter headers.
const deliveryStage = "notifier/delivery"

// DeliveryConfig configures the Deliverer.
type DeliveryConfig struct {
	// Group is the consumer group.
	Group string
	// NotificationsTopic is consumed.
	NotificationsTopic string
	// DeliveriesTopic receives one NotificationDelivered per attempt; its recent history seeds
	// the ids already delivered.
	DeliveriesTopic string
	// DeadLetterTopic receives the notifications that could not be delivered.
	DeadLetterTopic string
	// Producer is written into the envelopes of the delivery log.
	Producer string
	// Secret signs webhooks (required).
	Secret []byte
	// PerSubscriptionSecrets signs each subscription's webhooks with SubscriptionSecret(Secret,
	// subscription id) instead of Secret itself.
	PerSubscriptionSecrets bool
	// Timeout bounds one attempt: connecting, sending and receiving the response headers.
	Timeout time.Duration
	// MaxAttempts is the number of attempts before a notification is dead-lettered.
	MaxAttempts int
	// BackoffBase is the wait after the first failed attempt; it doubles per attempt.
	BackoffBase time.Duration
	// BackoffMax caps the exponential wait.
	BackoffMax time.Duration
	// MaxRetryAfter caps the wait a receiver asks for with Retry-After.
	MaxRetryAfter time.Duration
	// AllowPrivateAddresses lets webhooks reach loopback, private and link-local addresses
	// (tests, single-tenant deployments); refused by default against SSRF.
	AllowPrivateAddresses bool
	// Concurrency is how many notifications of a poll are delivered at once.
	Concurrency int
	// MaxPollRecords bounds the notifications taken per poll; their offsets are committed
	// together once every outcome is written.
	MaxPollRecords int
	// RememberIDs bounds the delivered notification ids kept for deduplication.
	RememberIDs int
	// SeedRecords is how many of the latest records of each partition of DeliveriesTopic are
	// read at start to learn the ids delivered already.
	SeedRecords int64
	// SeedTimeout bounds that reading; delivery starts after it even if it did not finish.
	SeedTimeout time.Duration
	// ShutdownGrace is how long attempts in flight may finish after Run's context ends.
	ShutdownGrace time.Duration
	// UserAgent is sent with every webhook.
	UserAgent string
}

// DefaultDeliveryConfig returns the defaults: catalog topics, 10 s per attempt, 6 attempts
// with 15-31 s of backoff between them in all, Retry-After honoured up to 60 s, private
// addresses refused.
func DefaultDeliveryConfig() DeliveryConfig {
	return DeliveryConfig{
		Group:              DeliveryGroup,
		NotificationsTopic: topics.Notifications,
		DeliveriesTopic:    topics.NotificationDeliveries,
		DeadLetterTopic:    topics.DeadLetters,
		Producer:           "notifier-delivery",
		Timeout:            10 * time.Second,
		MaxAttempts:        6,
		BackoffBase:        time.Second,
		BackoffMax:         30 * time.Second,
		MaxRetryAfter:      60 * time.Second,
		Concurrency:        16,
		MaxPollRecords:     256,
		RememberIDs:        100_000,
		SeedRecords:        100_000,
		SeedTimeout:        30 * time.Second,
		ShutdownGrace:      10 * time.Second,
		UserAgent:          "marketinsights-webhook/1",
	}
}

// Validate checks the configuration.
func (c DeliveryConfig) Validate() error {
	var errs []error
	if c.Group == "" || c.NotificationsTopic == "" || c.DeliveriesTopic == "" || c.DeadLetterTopic == "" {
		errs = append(errs, errors.New("group and topic names are required"))
	}
	if len(c.Secret) == 0 {
		errs = append(errs, errors.New("a webhook signing secret is required"))
	}
	if c.Timeout <= 0 || c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase || c.MaxRetryAfter < 0 {
		errs = append(errs, fmt.Errorf("timeout %v, backoff %v..%v, max Retry-After %v: want positive, base <= max", c.Timeout, c.BackoffBase, c.BackoffMax, c.MaxRetryAfter))
	}
	if c.MaxAttempts < 1 || c.Concurrency < 1 || c.MaxPollRecords < 1 || c.RememberIDs < 1 || c.SeedRecords < 0 {
		errs = append(errs, fmt.Errorf("attempts %d, concurrency %d, poll records %d, remembered ids %d: want at least 1; seed records %d: want at least 0",
			c.MaxAttempts, c.Concurrency, c.MaxPollRecords, c.RememberIDs, c.SeedRecords))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delivery config: %w", err)
	}
	return nil
}

// maxDeliveryTime is the longest one notification can take: every attempt timing out and the
// longest wait between them.
func (c DeliveryConfig) maxDeliveryTime() time.Duration {
	return time.Duration(c.MaxAttempts)*c.Timeout + time.Duration(c.MaxAttempts-1)*max(c.BackoffMax, c.MaxRetryAfter)
}

// Deliverer delivers the notifications of market.notifications.v1.
//
// It polls a batch, delivers its notifications concurrently, writes every attempt to the
// delivery log and every final failure to the dead-letter topic, waits until those writes are
// acknowledged, and only then commits the batch's offsets (rebalances wait for the batch).
// A webhook is POSTed as the notification's JSON (the catalog's JSON of NotificationRequested,
// proto field names) and signed as described at HeaderSignature; 2xx delivers, 408, 429, 5xx
// and network errors are retried with exponential backoff and jitter (429 and 503 after their
// Retry-After), any other status is final; after the last attempt the notification record goes
// to the dead-letter topic with the last error, and delivery goes on. An in-app notification is
// logged as delivered without any request: the API pushes it from the delivery log.
//
// Deduplication and the guarantee: ids of delivered notifications are remembered (bounded),
// learned at start from the latest SeedRecords of the delivery log and then from the log as it
// grows, so a notification requested twice, or redelivered by Kafka after a crash that came
// after its outcome was written, is skipped. A crash between a successful POST and the write
// of its outcome makes the notification be POSTed again after the restart; so delivery is
// at-least-once with an idempotency key, and a receiver that must not act twice deduplicates on
// X-MIP-Notification-Id, which is the same on every attempt and redelivery.
type Deliverer struct {
	kafka config.Kafka
	cfg   DeliveryConfig
	log   *slog.Logger
	m     *DeliveryMetrics
	http  *http.Client
	seen  *idSet
	now   func() time.Time
	rand  func() float64

	deliveries topics.Topic
	requests   topics.Topic
}

// NewDeliverer returns a Deliverer for the brokers of kafka; log and m may be nil.
func NewDeliverer(kafka config.Kafka, cfg DeliveryConfig, log *slog.Logger, m *DeliveryMetrics) (*Deliverer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	deliveries := topics.MustLookup(topics.NotificationDeliveries)
	deliveries.Name = cfg.DeliveriesTopic
	requests := topics.MustLookup(topics.Notifications)
	requests.Name = cfg.NotificationsTopic
	return &Deliverer{
		kafka: kafka, cfg: cfg, log: log.With("component", "notifier-delivery"), m: m,
		http: newHTTPClient(cfg), seen: newIDSet(cfg.RememberIDs), now: time.Now, rand: rand.Float64,
		deliveries: deliveries, requests: requests,
	}, nil
}

// sink writes outcome records and returns only when they are acknowledged or ctx ended.
type sink interface {
	write(ctx context.Context, recs ...*kgo.Record) error
}

// kafkaSink writes through a franz-go client, retrying until the records are acknowledged: a
// broker that is down holds delivery back, it does not lose outcomes.
type kafkaSink struct {
	cl  *kgo.Client
	log *slog.Logger
}

func (s kafkaSink) write(ctx context.Context, recs ...*kgo.Record) error {
	wait := 100 * time.Millisecond
	for {
		err := s.cl.ProduceSync(ctx, recs...).FirstErr()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("write delivery outcome: %w", err)
		}
		s.log.Warn("write delivery outcome; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return fmt.Errorf("write delivery outcome: %w", err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// Run delivers until ctx ends, then lets attempts in flight finish for up to ShutdownGrace,
// commits what was completed and returns. Notifications not completed are delivered by the next
// run (their offsets are not committed).
func (d *Deliverer) Run(ctx context.Context) error {
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(d.cfg.ShutdownGrace, cancelWork) })
	defer stopGrace()

	tail, err := d.startTail(ctx)
	if err != nil {
		return err
	}
	defer tail.Close()

	cl, err := kafkaclient.New(d.kafka, d.log,
		kgo.ConsumerGroup(d.cfg.Group),
		kgo.ConsumeTopics(d.cfg.NotificationsTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.RebalanceTimeout(max(60*time.Second, d.cfg.maxDeliveryTime()+30*time.Second)),
	)
	if err != nil {
		return fmt.Errorf("notifier delivery: %w", err)
	}
	defer cl.Close()
	out := kafkaSink{cl: cl, log: d.log}
	d.log.Info("delivering notifications", "topic", d.cfg.NotificationsTopic, "group", d.cfg.Group, "remembered_ids", d.seen.Len())

	for {
		fs := cl.PollRecords(ctx, d.cfg.MaxPollRecords)
		if fs.IsClientClosed() || ctx.Err() != nil {
			cl.AllowRebalance()
			return nil
		}
		fs.EachError(func(topic string, p int32, err error) {
			d.log.Warn("fetch notifications", "topic", topic, "partition", p, "err", err)
		})
		recs := fs.Records()
		if len(recs) == 0 {
			cl.AllowRebalance()
			if len(fs.Errors()) > 0 { // e.g. the topic is missing: do not spin
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
			continue
		}
		done := d.deliverBatch(ctx, workCtx, recs, out)
		commit := committable(recs, done)
		if len(commit) > 0 {
			if err := cl.CommitRecords(workCtx, commit...); err != nil {
				d.log.Warn("commit notification offsets; they will be redelivered and skipped as duplicates", "err", err)
			}
		}
		cl.AllowRebalance()
		if len(commit) < len(recs) {
			if ctx.Err() != nil {
				return nil
			}
			// Not reachable: only a shutdown leaves a notification without an outcome.
			return errors.New("notifier delivery: a notification was left without an outcome")
		}
	}
}

// committable returns the records whose offsets may be committed: per partition, the longest
// run from the first record on whose outcomes were written.
func committable(recs []*kgo.Record, done []bool) []*kgo.Record {
	stopped := map[string]map[int32]bool{}
	var out []*kgo.Record
	for i, r := range recs {
		if stopped[r.Topic] == nil {
			stopped[r.Topic] = map[int32]bool{}
		}
		if stopped[r.Topic][r.Partition] {
			continue
		}
		if !done[i] {
			stopped[r.Topic][r.Partition] = true
			continue
		}
		out = append(out, r)
	}
	return out
}

// deliverBatch delivers a batch concurrently and reports for each record whether its outcome
// was written. A notification that appears twice in the batch is delivered once.
func (d *Deliverer) deliverBatch(runCtx, workCtx context.Context, recs []*kgo.Record, out sink) []bool {
	done := make([]bool, len(recs))
	first := map[string]int{} // notification id -> index of its first record
	dupOf := make([]int, len(recs))
	reqs := make([]*marketv1.NotificationRequested, len(recs))
	errs := make([]error, len(recs))
	for i, r := range recs {
		dupOf[i] = -1
		m, err := topics.DecodeRecord(d.requests, r)
		if err != nil {
			errs[i] = err // dead-lettered by deliver
			continue
		}
		n := m.(*marketv1.NotificationRequested)
		reqs[i] = n
		if id := n.GetNotificationId(); id != "" {
			if j, ok := first[id]; ok {
				dupOf[i] = j
				continue
			}
			first[id] = i
		}
	}
	sem := make(chan struct{}, d.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, r := range recs {
		if dupOf[i] >= 0 {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			done[i] = d.deliver(runCtx, workCtx, r, reqs[i], errs[i], out)
		}()
	}
	wg.Wait()
	for i := range recs {
		if j := dupOf[i]; j >= 0 {
			done[i] = done[j]
			if done[i] {
				d.m.duplicate()
			}
		}
	}
	return done
}

// deliver delivers one notification (decoded n, or rec undecodable with decodeErr) and
// reports whether its outcome was written: delivered, dead-lettered, or skipped as already
// delivered. It returns false only when runCtx ended before an outcome.
func (d *Deliverer) deliver(runCtx, workCtx context.Context, rec *kgo.Record, n *marketv1.NotificationRequested, decodeErr error, out sink) bool {
	if runCtx.Err() != nil {
		return false
	}
	if n == nil {
		return d.deadLetter(workCtx, rec, nil, decodeErr, out)
	}
	id := n.GetNotificationId()
	if id == "" {
		return d.deadLetter(workCtx, rec, nil, errors.New("notification_id missing"), out)
	}
	if d.seen.Contains(id) {
		d.m.duplicate()
		d.log.Debug("notification delivered already; skipped", "notification_id", id)
		return true
	}
	switch n.GetChannel() {
	case marketv1.Channel_CHANNEL_IN_APP:
		ok := d.writeOutcome(workCtx, out, d.logRecord(n, marketv1.DeliveryStatus_DELIVERY_STATUS_DELIVERED, 1, attemptResult{}, 0))
		if ok {
			d.remember(id)
		}
		return ok
	case marketv1.Channel_CHANNEL_WEBHOOK:
		return d.deliverWebhook(runCtx, workCtx, rec, n, out)
	default:
		res := attemptResult{err: fmt.Errorf("channel %v cannot be delivered", n.GetChannel()), permanent: true}
		return d.deadLetter(workCtx, rec, d.logRecord(n, marketv1.DeliveryStatus_DELIVERY_STATUS_FAILED, 1, res, 0), res.err, out)
	}
}

func (d *Deliverer) deliverWebhook(runCtx, workCtx context.Context, rec *kgo.Record, n *marketv1.NotificationRequested, out sink) bool {
	body, err := topics.MarshalJSON(n)
	if err != nil {
		res := attemptResult{err: fmt.Errorf("encode webhook body: %w", err), permanent: true}
		return d.deadLetter(workCtx, rec, d.logRecord(n, marketv1.DeliveryStatus_DELIVERY_STATUS_FAILED, 1, res, 0), res.err, out)
	}
	secret := d.cfg.Secret
	if d.cfg.PerSubscriptionSecrets {
		secret = SubscriptionSecret(d.cfg.Secret, n.GetSubscriptionId())
	}
	for attempt := 1; ; attempt++ {
		res := d.post(workCtx, n.GetWebhookUrl(), n.GetNotificationId(), secret, body, attempt)
		if workCtx.Err() != nil && res.err != nil {
			return false // shutdown grace over: no outcome, the next run delivers it
		}
		switch {
		case res.err == nil:
			d.m.attempt(n.GetChannel(), marketv1.DeliveryStatus_DELIVERY_STATUS_DELIVERED, res.latency)
			ok := d.writeOutcome(workCtx, out, d.logRecord(n, marketv1.DeliveryStatus_DELIVERY_STATUS_DELIVERED, attempt, res, 0))
			if ok {
				d.remember(n.GetNotificationId())
			}
			return ok
		case res.permanent || attempt >= d.cfg.MaxAttempts:
			d.m.attempt(n.GetChannel(), marketv1.DeliveryStatus_DELIVERY_STATUS_FAILED, res.latency)
			cause := fmt.Errorf("webhook delivery failed after %d attempts: %w", attempt, res.err)
			if res.permanent {
				cause = fmt.Errorf("webhook delivery failed for good at attempt %d: %w", attempt, res.err)
			}
			return d.deadLetter(workCtx, rec, d.logRecord(n, marketv1.DeliveryStatus_DELIVERY_STATUS_FAILED, attempt, res, 0), cause, out)
		}
		wait := backoff(attempt, d.cfg.BackoffBase, d.cfg.BackoffMax, d.rand())
		if res.hasRetry {
			wait = min(res.retryAfter, d.cfg.MaxRetryAfter)
		}
		d.m.attempt(n.GetChannel(), marketv1.DeliveryStatus_DELIVERY_STATUS_RETRYING, res.latency)
		if !d.writeOutcome(workCtx, out, d.logRecord(n, marketv1.DeliveryStatus_DELIVERY_STATUS_RETRYING, attempt, res, wait)) {
			return false
		}
		if runCtx.Err() != nil {
			return false // shutting down: do not wait to retry, the next run does
		}
		t := time.NewTimer(wait)
		select {
		case <-runCtx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// deadLetter writes the failure's log record (if any) and the dead letter of rec together.
func (d *Deliverer) deadLetter(ctx context.Context, rec *kgo.Record, logRec *kgo.Record, cause error, out sink) bool {
	dl := topics.DeadLetter(rec, deliveryStage, cause, d.now())
	dl.Topic = d.cfg.DeadLetterTopic
	recs := []*kgo.Record{dl}
	if logRec != nil {
		recs = []*kgo.Record{logRec, dl}
	}
	if err := out.write(ctx, recs...); err != nil {
		d.log.Warn("dead-letter notification", "err", err, "offset", rec.Offset)
		return false
	}
	d.m.deadLettered()
	d.log.Warn("notification dead-lettered", "key", string(rec.Key), "offset", rec.Offset, "err", cause)
	return true
}

func (d *Deliverer) writeOutcome(ctx context.Context, out sink, logRec *kgo.Record) bool {
	if err := out.write(ctx, logRec); err != nil {
		d.log.Warn("log delivery attempt", "err", err)
		return false
	}
	return true
}

func (d *Deliverer) remember(id string) {
	d.seen.Add(id)
	d.m.rememberedIDs(d.seen.Len())
}

// logRecord returns the delivery-log record of one attempt.
func (d *Deliverer) logRecord(n *marketv1.NotificationRequested, status marketv1.DeliveryStatus, attempt int, res attemptResult, wait time.Duration) *kgo.Record {
	env := marketv1.NewEnvelope(d.cfg.Producer, n.GetNotificationId(), d.now())
	env.CausationId = n.GetEnvelope().GetEventId()
	ev := &marketv1.NotificationDelivered{
		Envelope:       env,
		NotificationId: n.GetNotificationId(),
		SubscriptionId: n.GetSubscriptionId(),
		Status:         status,
		Attempt:        int32(attempt),
		HttpStatus:     int32(res.status),
		LatencyMs:      res.latency.Milliseconds(),
		UserId:         n.GetUserId(),
		Channel:        n.GetChannel(),
		RetryInMs:      wait.Milliseconds(),
	}
	if res.err != nil {
		ev.Error = res.err.Error()
	}
	rec, err := topics.NewRecord(d.deliveries, n.GetNotificationId(), ev)
	if err != nil {
		panic(fmt.Sprintf("notifications: encode delivery log record: %v", err)) // our own message of the topic's type
	}
	return rec
}
