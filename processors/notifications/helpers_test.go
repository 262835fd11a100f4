package notifications

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// t0 is the instant the tests' events happen around.
var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

var testNamespace = uuid.MustParse("0b7e7a52-57f5-4b7e-9d0e-2f8f3c1a9e11")

// envAt returns an envelope at t0+sec seconds whose event id is derived from name.
func envAt(sec int, name string) *marketv1.Envelope {
	return &marketv1.Envelope{
		EventId:       uuid.NewSHA1(testNamespace, []byte(name)).String(),
		EventTime:     timestamppb.New(t0.Add(time.Duration(sec) * time.Second)),
		Producer:      "test",
		SchemaVersion: marketv1.SchemaVersion,
	}
}

// subOpt changes a test subscription.
type subOpt func(*marketv1.Subscription)

func onKeyword(k string) subOpt { return func(s *marketv1.Subscription) { s.Asin, s.Keyword = "", k } }

func minSeverity(v marketv1.Severity) subOpt {
	return func(s *marketv1.Subscription) { s.MinSeverity = v }
}

func kinds(k ...marketv1.AnomalyKind) subOpt { return func(s *marketv1.Subscription) { s.Kinds = k } }

func webhook(url string) subOpt {
	return func(s *marketv1.Subscription) { s.Channel, s.WebhookUrl = marketv1.Channel_CHANNEL_WEBHOOK, url }
}

func withAnalyses() subOpt { return func(s *marketv1.Subscription) { s.Analyses = true } }

// sub returns an in-app subscription of id following asin.
func sub(id, asin string, opts ...subOpt) *marketv1.Subscription {
	s := &marketv1.Subscription{SubscriptionId: id, UserId: "user-" + id, Asin: asin, Channel: marketv1.Channel_CHANNEL_IN_APP}
	for _, o := range opts {
		o(s)
	}
	return s
}

// upsert returns the upsert of s at t0+sec.
func upsert(sec int, s *marketv1.Subscription) *marketv1.SubscriptionChanged {
	return &marketv1.SubscriptionChanged{
		Envelope:     envAt(sec, fmt.Sprintf("upsert/%s/%d/%s%s", s.GetSubscriptionId(), sec, s.GetAsin(), s.GetKeyword())),
		Action:       marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_UPSERTED,
		Subscription: s,
	}
}

// deletion returns the deletion of subscription id at t0+sec.
func deletion(sec int, id string) *marketv1.SubscriptionChanged {
	return &marketv1.SubscriptionChanged{
		Envelope:     envAt(sec, fmt.Sprintf("delete/%s/%d", id, sec)),
		Action:       marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED,
		Subscription: &marketv1.Subscription{SubscriptionId: id},
	}
}

// anomaly returns an anomaly with id on asin at t0+sec.
func anomaly(sec int, id, asin string, sev marketv1.Severity, kind marketv1.AnomalyKind) *marketv1.AnomalyDetected {
	return &marketv1.AnomalyDetected{
		Envelope:    envAt(sec, "anomaly/"+id),
		AnomalyId:   id,
		Asin:        asin,
		Marketplace: "amazon.com",
		Kind:        kind,
		Severity:    sev,
		Score:       4.2,
		Observed:    19.99,
		Baseline:    &marketv1.Baseline{Method: "robust_z", Center: 29.99, Spread: 1.5, Points: 48},
		Explanation: "Price fell from about $29.99 to $19.99.",
		Title:       "Anker PowerCore 10000",
	}
}

// completed returns the completion of analysis id of keyword at t0+sec.
func completed(sec int, id, keyword string) *marketv1.AnalysisEvent {
	return &marketv1.AnalysisEvent{
		Envelope:   envAt(sec, "analysis/"+id),
		AnalysisId: id,
		Event: &marketv1.AnalysisEvent_Completed{Completed: &marketv1.AnalysisCompleted{
			Keyword: keyword,
			Summary: &marketv1.KeywordWindowStats{CompetitorCount: 42, Currency: "USD", PriceMedianMinor: ptr(2499.0), RatingMean: ptr(4.31)},
		}},
	}
}

func ptr[T any](v T) *T { return &v }

const (
	sevInfo     = marketv1.Severity_SEVERITY_INFO
	sevWarning  = marketv1.Severity_SEVERITY_WARNING
	sevCritical = marketv1.Severity_SEVERITY_CRITICAL
	kindDrop    = marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP
	kindSpike   = marketv1.AnomalyKind_ANOMALY_KIND_PRICE_SPIKE
	kindStock   = marketv1.AnomalyKind_ANOMALY_KIND_OUT_OF_STOCK
)

// hashesOf returns the requested_hashes of ids, in order.
func hashesOf(ids ...string) []byte {
	var b []byte
	for _, id := range ids {
		b = binary.LittleEndian.AppendUint64(b, requestedHash(id))
	}
	return b
}
