package redis

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// SubscriptionKey is the key of a subscription's entry, relative to a generation: s:<id>, a
// hash of its guard, the owner's key (index) and whether it was deleted.
func SubscriptionKey(id string) string { return "s:" + EscapeKeyPart(id) }

// UserSubscriptionsKey is the key of a user's subscriptions, relative to a generation:
// u:<user>:subs, a hash subscription id -> SubscriptionRow JSON.
func UserSubscriptionsKey(user string) string { return "u:" + EscapeKeyPart(user) + ":subs" }

// SubscriptionRow is the JSON stored per subscription in u:<user>:subs: the subscription as
// the API lists it, enum values in lower case without their prefix.
type SubscriptionRow struct {
	ID          string   `json:"id"`
	UserID      string   `json:"user_id"`
	Keyword     string   `json:"keyword,omitempty"`
	ASIN        string   `json:"asin,omitempty"`
	MinSeverity string   `json:"min_severity,omitempty"`
	Kinds       []string `json:"kinds"`
	Channel     string   `json:"channel,omitempty"`
	WebhookURL  string   `json:"webhook_url,omitempty"`
	Analyses    bool     `json:"analyses"`
	// Time is the change's event time, unix ms.
	Time    int64  `json:"time"`
	EventID string `json:"event_id"`
}

// subscriptionGuard orders the changes of a subscription as the notifier does: event time (in
// nanoseconds, 19 digits), then event id; compared as strings.
func subscriptionGuard(at time.Time, eventID string) string {
	return fmt.Sprintf("%019d|%s", at.UnixNano(), eventID)
}

// subscriptionRows turns a SubscriptionChanged into the subscription script's call. A change
// without a subscription id in its value takes it from the record key, as the notifier does.
func subscriptionRows(s *Sink, m proto.Message, key []byte) ([]Row, error) {
	ev := m.(*marketv1.SubscriptionChanged)
	if err := marketv1.ValidateEnvelope(ev.GetEnvelope()); err != nil {
		return nil, err
	}
	sub := ev.GetSubscription()
	id := sub.GetSubscriptionId()
	if id == "" {
		id = string(key)
	}
	if id == "" {
		return nil, errors.New("subscription_id: missing (neither in the value nor as the key)")
	}
	at := ev.GetEnvelope().GetEventTime().AsTime()
	guard := subscriptionGuard(at, ev.GetEnvelope().GetEventId())
	switch ev.GetAction() {
	case marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_UPSERTED:
		row := SubscriptionRow{ID: id, UserID: sub.GetUserId(), Keyword: sub.GetKeyword(), ASIN: sub.GetAsin(),
			MinSeverity: lowerEnum(sub.GetMinSeverity(), "SEVERITY_"), Kinds: []string{}, Channel: lowerEnum(sub.GetChannel(), "CHANNEL_"),
			WebhookURL: sub.GetWebhookUrl(), Analyses: sub.GetAnalyses(), Time: at.UnixMilli(), EventID: ev.GetEnvelope().GetEventId()}
		for _, k := range sub.GetKinds() {
			row.Kinds = append(row.Kinds, lowerEnum(k, "ANOMALY_KIND_"))
		}
		data, err := marshalJSON(row)
		if err != nil {
			return nil, fmt.Errorf("subscription %s as JSON: %w", id, err)
		}
		index := UserSubscriptionsKey(sub.GetUserId())
		args := []any{"", "", guard, id, SubscriptionKey(id), "upsert", index, string(data)}
		return []Row{{script: subscriptionScript, keys: []string{SubscriptionKey(id), index}, args: args}}, nil
	case marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED:
		return deletionRows(id, guard), nil
	default:
		return nil, fmt.Errorf("subscription %s: action %v: want upserted or deleted", id, ev.GetAction())
	}
}

// deletionRows is the script call deleting subscription id at guard.
func deletionRows(id, guard string) []Row {
	args := []any{"", "", guard, id, SubscriptionKey(id), "delete", "", ""}
	return []Row{{script: subscriptionScript, keys: []string{SubscriptionKey(id)}, args: args}}
}

// subscriptionTombstone turns a tombstone of the compacted subscriptions topic (a record
// without a value) into the deletion of the subscription its key names, at the record's
// timestamp, as the notifier reads it.
func subscriptionTombstone(r *kgo.Record) ([]Row, error) {
	if len(r.Key) == 0 {
		return nil, errors.New("tombstone without a key")
	}
	return deletionRows(string(r.Key), subscriptionGuard(r.Timestamp, "")), nil
}

// lowerEnum is an enum value's name in lower case without its prefix; "" for UNSPECIFIED.
func lowerEnum(v interface {
	Descriptor() protoreflect.EnumDescriptor
	Number() protoreflect.EnumNumber
}, prefix string) string {
	d := v.Descriptor().Values().ByNumber(v.Number())
	if d == nil {
		return fmt.Sprint(int32(v.Number()))
	}
	n := strings.ToLower(strings.TrimPrefix(string(d.Name()), prefix))
	if n == "unspecified" {
		return ""
	}
	return n
}
