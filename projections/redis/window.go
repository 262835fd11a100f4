package redis

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// WindowFields returns the fields of k:<keyword>:win:<kind>:<size> for an update, in a fixed
// order; stats is the KeywordWindowStats as JSON (proto field names).
func WindowFields(ev *marketv1.KeywordWindowUpdated) ([]Field, error) {
	if ev.GetKeyword() == "" {
		return nil, errors.New("keyword: missing")
	}
	if err := marketv1.ValidateEnvelope(ev.GetEnvelope()); err != nil {
		return nil, err
	}
	w := ev.GetWindow()
	if w == nil || w.GetKind() == marketv1.WindowKind_WINDOW_KIND_UNSPECIFIED || w.GetSizeSeconds() <= 0 {
		return nil, errors.New("window: missing, or without kind or size")
	}
	if err := w.GetStart().CheckValid(); err != nil {
		return nil, fmt.Errorf("window.start: %w", err)
	}
	if err := w.GetEnd().CheckValid(); err != nil {
		return nil, fmt.Errorf("window.end: %w", err)
	}
	stats, err := topics.MarshalJSON(ev.GetStats())
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	var f fields
	f.str("keyword", ev.GetKeyword())
	if ev.GetMarketplace() != "" {
		f.str("marketplace", ev.GetMarketplace())
	}
	f.str("series", WindowSeries(w.GetKind(), w.GetSizeSeconds()))
	f.i64("size_seconds", w.GetSizeSeconds())
	f.i64("step_seconds", w.GetStepSeconds())
	f.i64("start_ms", w.GetStart().AsTime().UnixMilli())
	f.i64("end_ms", w.GetEnd().AsTime().UnixMilli())
	f.i64("version", ev.GetVersion())
	f.str("final", boolText(ev.GetFinal()))
	if ev.GetClosedBy() != "" {
		f.str("closed_by", ev.GetClosedBy())
	}
	f.i64("pages_observed", int64(ev.GetPagesObserved()))
	f.str("stats", string(stats))
	f.i64("updated_at", ev.GetEnvelope().GetEventTime().AsTime().UnixMilli())
	f.str("event_id", ev.GetEnvelope().GetEventId())
	return f, nil
}

// windowRows turns a KeywordWindowUpdated into the window script's call.
func windowRows(s *Sink, m proto.Message) ([]Row, error) {
	ev := m.(*marketv1.KeywordWindowUpdated)
	fs, err := WindowFields(ev)
	if err != nil {
		return nil, err
	}
	w := ev.GetWindow()
	end := w.GetEnd().AsTime().UnixMilli()
	msg := Change{Kind: KindWindow, Keyword: ev.GetKeyword(), Window: WindowSeries(w.GetKind(), w.GetSizeSeconds()),
		Version: ev.GetVersion(), Time: end}
	args := make([]any, 0, 5+2*len(fs))
	args = append(args, "", msg.JSON(), end, ev.GetVersion(), ttlMillis(s.opts.KeywordTTL))
	for _, f := range fs {
		args = append(args, f.Name, f.Value)
	}
	key := WindowKey(ev.GetKeyword(), w.GetKind(), w.GetSizeSeconds())
	return []Row{{script: windowScript, keys: []string{key}, args: args, Change: msg}}, nil
}
