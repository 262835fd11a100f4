package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/sandbox"
)

func TestMatchAnomalies(t *testing.T) {
	injected := []sandbox.Anomaly{
		{ASIN: "A1", Kind: sandbox.PriceDrop},
		{ASIN: "A2", Kind: sandbox.SellerJump},
		{ASIN: "A3", Kind: sandbox.OutOfStock},  // never observed
		{ASIN: "A4", Kind: sandbox.ReviewSpike}, // observed, detected as another kind
	}
	detected := []detection{{"A1", "price_drop"}, {"A2", "seller_count_jump"}, {"A4", "price_spike"}, {"A9", "price_drop"}}
	observed := map[string]bool{"A1": true, "A2": true, "A4": true, "A9": true}
	got := matchAnomalies(injected, detected, observed)
	if got != (anomalyMatch{Detectable: 3, Matched: 2}) {
		t.Errorf("matchAnomalies = %+v, want 3 detectable, 2 matched", got)
	}
	if got := matchAnomalies(nil, detected, observed); got != (anomalyMatch{}) {
		t.Errorf("nothing injected: %+v", got)
	}
}

func TestPrintChecksCountsMisses(t *testing.T) {
	var b bytes.Buffer
	n := printChecks(&b, []checkResult{{"topic", "x", "3 records", true}, {"redis", "y", "none", false}}, 90*time.Second)
	if n != 1 || !strings.Contains(b.String(), "MISS") || !strings.Contains(b.String(), "2 checks, 1 missed, after 1m30s") {
		t.Fatalf("printChecks = %d\n%s", n, b.String())
	}
}
