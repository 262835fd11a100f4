package importer

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Emitter returns an emit function for Read that encodes each event as a record of topic t (key:
// the ASIN; headers schema, content-type and event-id) and hands it to send, e.g. a wrapper around
// kgo.Client.Produce. An error from send stops Read.
func Emitter(t topics.Topic, send func(*kgo.Record) error) func(*marketv1.ProductObserved) error {
	return func(ev *marketv1.ProductObserved) error {
		rec, err := topics.NewEventRecord(t, ev)
		if err != nil {
			return fmt.Errorf("encode %s: %w", ev.GetAsin(), err)
		}
		return send(rec)
	}
}
