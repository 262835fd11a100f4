package redis

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// anomalyRows turns an AnomalyDetected into the anomaly script's call: the global feed, and the
// keyword's feed when the anomaly names a keyword.
func anomalyRows(s *Sink, m proto.Message) ([]Row, error) {
	ev := m.(*marketv1.AnomalyDetected)
	if ev.GetAnomalyId() == "" {
		return nil, errors.New("anomaly_id: missing")
	}
	if err := marketv1.ValidateEnvelope(ev.GetEnvelope()); err != nil {
		return nil, err
	}
	data, err := topics.MarshalJSON(ev)
	if err != nil {
		return nil, fmt.Errorf("anomaly %s as JSON: %w", ev.GetAnomalyId(), err)
	}
	ms := ev.GetEnvelope().GetEventTime().AsTime().UnixMilli()
	msg := Change{Kind: KindAnomaly, Keyword: ev.GetKeyword(), ASIN: ev.GetAsin(), ID: ev.GetAnomalyId(), Time: ms}
	keys := []string{AnomalyFeedKey, AnomalyDataKey}
	if kw := ev.GetKeyword(); kw != "" {
		keys = append(keys, KeywordKey(kw, SuffixAnomalyFeed), KeywordKey(kw, SuffixAnomalyData))
	}
	args := []any{"", msg.JSON(), ev.GetAnomalyId(), ms, string(data), s.opts.AnomalyCap, ttlMillis(s.opts.KeywordTTL)}
	return []Row{{script: anomalyScript, keys: keys, args: args, Change: msg}}, nil
}
