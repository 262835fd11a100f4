package topics

import (
	"testing"

	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

func TestForEvent(t *testing.T) {
	for _, tc := range []struct {
		event proto.Message
		want  string // empty: none
	}{
		{&marketv1.ProductObserved{}, ProductObservations},
		{&marketv1.SearchResultsObserved{}, SearchResults},
		{&marketv1.ProductStateChanged{}, ProductChanges},
		{&marketv1.AnomalyDetected{}, Anomalies},
		{&marketv1.SubscriptionChanged{}, Subscriptions},
		{&marketv1.AnalysisEvent{}, AnalysisEvents}, // the saga's loop carries it too, but is no stream
		{&marketv1.ScrapeRequested{}, ""},           // three priority streams
		{&marketv1.ProductState{}, ""},              // a table's value
	} {
		got, ok := ForEvent(tc.event)
		if ok != (tc.want != "") || got.Name != tc.want {
			t.Errorf("ForEvent(%T) = %q, %v; want %q", tc.event, got.Name, ok, tc.want)
		}
	}
}
