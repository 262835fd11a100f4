// Package notifications turns anomalies and completed analyses into notifications for the
// subscriptions that follow them, and delivers those notifications.
//
// Three parts, each run on its own:
//
//   - The notifier (goka group "notifier", [New]) reads market.anomalies.v1 and
//     market.subscriptions.v1. It routes every subscription change, through its loopback, to the
//     subscription's own entry "subscription:<id>" of notifier-table, which remembers what the
//     subscription follows and routes the change on to that target ("asin:<ASIN>" or
//     "keyword:<keyword>") and, when the subscription moved or was deleted, a removal to the old
//     one. Every anomaly is routed to its ASIN's and its keyword's target, matched there against
//     the followers (severity at least min_severity, kind among kinds) and becomes one
//     NotificationRequested per matching subscription on market.notifications.v1.
//   - The analyses notifier (goka group "notifier-analyses", [NewAnalyses]) reads
//     market.analysis-events.v1 and, for every completed analysis, looks up the keyword's
//     followers in notifier-table and notifies those with analyses set.
//   - The [Deliverer] (a franz-go consumer group, not goka) delivers market.notifications.v1:
//     webhooks by a signed HTTP POST with retries, in-app notifications by logging them as
//     delivered; every attempt is logged on market.notification-deliveries.v1 and a
//     notification that cannot be delivered goes to the dead-letter topic.
//
// One anomaly, one delivery: a notification's id is derived from its subscription and its
// cause ([AnomalyNotificationID], [AnalysisNotificationID]); the notifiers remember the ids they
// requested (bounded) and skip them when a cause comes again, and the deliverer skips ids it
// has delivered. The guarantee is at-least-once delivery with an idempotency key: a receiver
// can see a notification twice only after a crash between its POST and the write of the
// outcome, and then with the same X-MIP-Notification-Id. See [Deliverer].
package notifications

import (
	"fmt"
	"strings"
	"time"

	"github.com/lovoo/goka"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/gokaenv"
	"github.com/marketinsightspro/marketinsights/processors"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Group is the goka group of the notifier.
const Group goka.Group = topics.GroupNotifier

// Table is the notifier's table: subscriptions by the key of what they follow, and each
// subscription's own entry.
const Table goka.Table = topics.NotifierTable

// Loop is the notifier's loopback topic.
const Loop goka.Stream = topics.NotifierLoop

// AnalysesGroup is the goka group that notifies completed analyses.
const AnalysesGroup goka.Group = topics.GroupNotifierAnalyses

// AnalysesTable is the analyses notifier's table: notification ids requested per analysis.
const AnalysesTable goka.Table = topics.NotifierAnalysesTable

// Config configures the two notifier groups.
type Config struct {
	// Group is the notifier's goka group; its table and loop are <Group>-table and <Group>-loop.
	Group goka.Group
	// AnalysesGroup is the analyses notifier's goka group; its table is <AnalysesGroup>-table.
	AnalysesGroup goka.Group
	// AnomaliesTopic is the anomalies input.
	AnomaliesTopic string
	// SubscriptionsTopic is the subscriptions input.
	SubscriptionsTopic string
	// AnalysisEventsTopic is the analyses notifier's input.
	AnalysisEventsTopic string
	// NotificationsTopic receives the notifications.
	NotificationsTopic string
	// Producer is written into the envelopes the notifiers create.
	Producer string
	// MaxAge is the age (event time to processing) beyond which an anomaly or analysis notifies
	// nobody, so replaying history does not spam; 0 notifies whatever the age.
	MaxAge time.Duration
	// MaxRequestedIDs bounds the notification ids a table value remembers for deduplication.
	MaxRequestedIDs int
	// MaxFollowers bounds the subscriptions of one ASIN or keyword, so a table value stays far
	// below Kafka's record size limit (about 250 bytes each); more are refused and dead-lettered.
	MaxFollowers int
	// Now is the clock MaxAge is measured with; nil means time.Now.
	Now func() time.Time
}

// DefaultConfig returns the configuration of the catalog's topics and groups.
func DefaultConfig() Config {
	return Config{
		Group:               Group,
		AnalysesGroup:       AnalysesGroup,
		AnomaliesTopic:      topics.Anomalies,
		SubscriptionsTopic:  topics.Subscriptions,
		AnalysisEventsTopic: topics.AnalysisEvents,
		NotificationsTopic:  topics.Notifications,
		Producer:            "notifier",
		MaxAge:              24 * time.Hour,
		MaxRequestedIDs:     1000,
		MaxFollowers:        2000,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Group == "" || c.AnalysesGroup == "":
		return fmt.Errorf("notifier config: group names missing")
	case c.AnomaliesTopic == "" || c.SubscriptionsTopic == "" || c.AnalysisEventsTopic == "" || c.NotificationsTopic == "":
		return fmt.Errorf("notifier config: topic names missing")
	case c.MaxRequestedIDs < 1:
		return fmt.Errorf("notifier config: MaxRequestedIDs %d, want at least 1", c.MaxRequestedIDs)
	case c.MaxFollowers < 1:
		return fmt.Errorf("notifier config: MaxFollowers %d, want at least 1", c.MaxFollowers)
	case c.MaxAge < 0:
		return fmt.Errorf("notifier config: MaxAge %v is negative", c.MaxAge)
	}
	return nil
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Config) match() MatchOptions {
	return MatchOptions{Producer: c.Producer, MaxRequestedIDs: c.MaxRequestedIDs}
}

// Graph returns the notifier's group graph (its callbacks record no metrics; New adds them).
func Graph(cfg Config) *goka.GroupGraph { return (&notifier{cfg: cfg}).graph() }

// New returns the notifier processor. Kafka tombstones of the subscriptions topic delete the
// subscription of their key.
func New(env gokaenv.Env, cfg Config, m *processors.Metrics, opts ...goka.ProcessorOption) (*goka.Processor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &notifier{cfg: cfg, m: m}
	base := []goka.ProcessorOption{goka.WithNilHandling(goka.NilProcess)}
	p, err := goka.NewProcessor(env.Brokers, n.graph(), env.ProcessorOptions(cfg.Group, append(base, opts...)...)...)
	if err != nil {
		return nil, fmt.Errorf("create processor %s: %w", cfg.Group, err)
	}
	return p, nil
}

// notifier holds the notifier's callbacks.
type notifier struct {
	cfg Config
	m   *processors.Metrics
}

var (
	notificationsTopic = topics.MustLookup(topics.Notifications)
	loopTopic          = topics.MustLookup(topics.NotifierLoop)
)

func (n *notifier) graph() *goka.GroupGraph {
	return goka.DefineGroup(n.cfg.Group,
		goka.Input(goka.Stream(n.cfg.AnomaliesTopic), processors.InputCodec(topics.Anomalies), n.onAnomaly),
		goka.Input(goka.Stream(n.cfg.SubscriptionsTopic), processors.InputCodec(topics.Subscriptions), n.onSubscription),
		goka.Loop(processors.InputCodec(topics.NotifierLoop), n.onLoop),
		goka.Persist(processors.Codec(topics.NotifierTable)),
		goka.Output(goka.Stream(n.cfg.NotificationsTopic), processors.Codec(topics.Notifications)),
		processors.DeadLetterEdge(),
	)
}

func (n *notifier) stage(part string) string { return string(n.cfg.Group) + "/" + part }

// onSubscription routes a subscription change to the subscription's own entry.
func (n *notifier) onSubscription(ctx goka.Context, msg any) {
	stage := n.stage("subscriptions")
	var ch *marketv1.SubscriptionChanged
	if msg == nil {
		ch = TombstoneChange(ctx.Key(), ctx.Timestamp(), n.cfg.Producer)
	} else {
		var ok bool
		if ch, ok = processors.Decoded[*marketv1.SubscriptionChanged](ctx, stage, msg); !ok {
			n.m.DeadLettered(n.cfg.Group)
			return
		}
	}
	n.m.Consumed(n.cfg.Group, ctx, ch.GetEnvelope().GetEventTime().AsTime())
	if err := ValidateChange(ch, ctx.Key()); err != nil {
		n.deadLetter(ctx, stage, ch, err, "invalid_subscription")
		return
	}
	key := SubscriptionKey(ch.GetSubscription().GetSubscriptionId())
	n.loopback(ctx, key, &marketv1.NotifierCommand{
		Envelope: commandEnvelope(ch.GetEnvelope(), key, n.cfg.Producer),
		Command:  &marketv1.NotifierCommand_SubscriptionChanged{SubscriptionChanged: ch},
	})
}

// onAnomaly routes an anomaly to the targets it concerns.
func (n *notifier) onAnomaly(ctx goka.Context, msg any) {
	if msg == nil {
		return // a tombstone means nothing on a stream of facts
	}
	stage := n.stage("anomalies")
	a, ok := processors.Decoded[*marketv1.AnomalyDetected](ctx, stage, msg)
	if !ok {
		n.m.DeadLettered(n.cfg.Group)
		return
	}
	n.m.Consumed(n.cfg.Group, ctx, a.GetEnvelope().GetEventTime().AsTime())
	if err := ValidateAnomaly(a); err != nil {
		n.deadLetter(ctx, stage, a, err, "invalid_anomaly")
		return
	}
	if IsStale(a.GetEnvelope(), n.cfg.now(), n.cfg.MaxAge) {
		n.m.Error(n.cfg.Group, "stale_anomaly")
		return
	}
	for _, key := range AnomalyTargets(a) {
		n.loopback(ctx, key, &marketv1.NotifierCommand{
			Envelope: commandEnvelope(a.GetEnvelope(), key, n.cfg.Producer),
			Command:  &marketv1.NotifierCommand_Anomaly{Anomaly: a},
		})
	}
}

// onLoop applies a command at a subscription's entry or at a target.
func (n *notifier) onLoop(ctx goka.Context, msg any) {
	if msg == nil {
		return
	}
	stage := n.stage("loop")
	cmd, ok := processors.Decoded[*marketv1.NotifierCommand](ctx, stage, msg)
	if !ok {
		n.m.DeadLettered(n.cfg.Group)
		return
	}
	n.m.Consumed(n.cfg.Group, ctx, cmd.GetEnvelope().GetEventTime().AsTime())
	key := ctx.Key()
	st, _ := ctx.Value().(*marketv1.NotifierState)
	switch c := cmd.GetCommand().(type) {
	case *marketv1.NotifierCommand_SubscriptionChanged:
		switch {
		case strings.HasPrefix(key, PrefixSubscription):
			if id := strings.TrimPrefix(key, PrefixSubscription); c.SubscriptionChanged.GetSubscription().GetSubscriptionId() != id {
				n.deadLetter(ctx, stage, cmd, fmt.Errorf("change of subscription %q at %s: %w",
					c.SubscriptionChanged.GetSubscription().GetSubscriptionId(), key, ErrMisrouted), "misrouted")
				return
			}
			next, routed, err := Route(st, c.SubscriptionChanged)
			if err != nil {
				n.deadLetter(ctx, stage, cmd, err, "invalid_subscription")
				return
			}
			if next != st {
				n.setValue(ctx, next)
			}
			for _, r := range routed {
				n.loopback(ctx, r.Key, &marketv1.NotifierCommand{
					Envelope: commandEnvelope(r.Change.GetEnvelope(), r.Key, n.cfg.Producer),
					Command:  &marketv1.NotifierCommand_SubscriptionChanged{SubscriptionChanged: r.Change},
				})
			}
		case IsTargetKey(key):
			next, changed, err := ApplyAtTarget(st, key, c.SubscriptionChanged, n.cfg.MaxFollowers)
			if err != nil {
				n.deadLetter(ctx, stage, cmd, err, "subscription_refused")
				return
			}
			if changed {
				n.setValue(ctx, next)
			}
		default:
			n.deadLetter(ctx, stage, cmd, fmt.Errorf("subscription change at key %q: %w", key, ErrMisrouted), "misrouted")
		}
	case *marketv1.NotifierCommand_Anomaly:
		if !IsTargetKey(key) {
			n.deadLetter(ctx, stage, cmd, fmt.Errorf("anomaly at key %q: %w", key, ErrMisrouted), "misrouted")
			return
		}
		next, out := MatchAnomaly(st, c.Anomaly, n.cfg.match())
		if next != st {
			n.setValue(ctx, next)
		}
		for _, req := range out {
			n.emit(ctx, req)
		}
	default:
		n.deadLetter(ctx, stage, cmd, fmt.Errorf("empty notifier command: %w", ErrMisrouted), "empty_command")
	}
}

func (n *notifier) loopback(ctx goka.Context, key string, cmd *marketv1.NotifierCommand) {
	ctx.Loopback(key, cmd, goka.WithCtxEmitHeaders(processors.EventHeaders(loopTopic, cmd)))
	n.m.Emitted(n.cfg.Group, string(n.cfg.Group)+"-loop")
}

func (n *notifier) emit(ctx goka.Context, req *marketv1.NotificationRequested) {
	emitNotification(ctx, n.cfg.NotificationsTopic, req)
	n.m.Emitted(n.cfg.Group, n.cfg.NotificationsTopic)
}

func (n *notifier) setValue(ctx goka.Context, st *marketv1.NotifierState) {
	ctx.SetValue(st)
	n.m.StateWritten(n.cfg.Group, proto.Size(st))
}

func (n *notifier) deadLetter(ctx goka.Context, stage string, v proto.Message, err error, reason string) {
	deadLetterMessage(ctx, stage, v, err)
	n.m.Error(n.cfg.Group, reason)
	n.m.DeadLettered(n.cfg.Group)
}

// emitNotification emits a notification keyed by its subscription id, with the catalog's headers.
func emitNotification(ctx goka.Context, topic string, req *marketv1.NotificationRequested) {
	processors.Emit(ctx, goka.Stream(topic), notificationsTopic, req.GetSubscriptionId(), req)
}

// deadLetterMessage dead-letters a decoded message that cannot be applied, re-encoded (the
// deterministic encoding of a decoded message keeps its fields and unknown fields).
func deadLetterMessage(ctx goka.Context, stage string, v proto.Message, cause error) {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(v)
	if err != nil {
		raw = nil
	}
	processors.DeadLetter(ctx, stage, raw, cause)
}
