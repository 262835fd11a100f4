package notifications

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// maxTitleRunes bounds a notification title.
const maxTitleRunes = 160

var kindLabels = map[marketv1.AnomalyKind]string{
	marketv1.AnomalyKind_ANOMALY_KIND_PRICE_DROP:           "Price drop",
	marketv1.AnomalyKind_ANOMALY_KIND_PRICE_SPIKE:          "Price spike",
	marketv1.AnomalyKind_ANOMALY_KIND_REVIEW_SPIKE:         "Review spike",
	marketv1.AnomalyKind_ANOMALY_KIND_RATING_DROP:          "Rating drop",
	marketv1.AnomalyKind_ANOMALY_KIND_RANK_JUMP:            "Rank jump",
	marketv1.AnomalyKind_ANOMALY_KIND_OUT_OF_STOCK:         "Out of stock",
	marketv1.AnomalyKind_ANOMALY_KIND_BACK_IN_STOCK:        "Back in stock",
	marketv1.AnomalyKind_ANOMALY_KIND_SELLER_COUNT_JUMP:    "Seller count jump",
	marketv1.AnomalyKind_ANOMALY_KIND_NEW_TOP10_COMPETITOR: "New top-10 competitor",
}

var severityLabels = map[marketv1.Severity]string{
	marketv1.Severity_SEVERITY_INFO:     "info",
	marketv1.Severity_SEVERITY_WARNING:  "warning",
	marketv1.Severity_SEVERITY_CRITICAL: "critical",
}

// AnomalyTitle is the short title of an anomaly's notification, e.g.
// `Price drop: Anker PowerCore 10000 (B0ABC12345)`.
func AnomalyTitle(a *marketv1.AnomalyDetected) string {
	label, ok := kindLabels[a.GetKind()]
	if !ok {
		label = "Anomaly"
	}
	var subject string
	switch {
	case a.GetTitle() != "" && a.GetAsin() != "":
		subject = fmt.Sprintf("%s (%s)", a.GetTitle(), a.GetAsin())
	case a.GetAsin() != "":
		subject = a.GetAsin()
	case a.GetTitle() != "":
		subject = a.GetTitle()
	}
	if kw := a.GetKeyword(); kw != "" {
		if subject == "" {
			subject = strconv.Quote(kw)
		} else {
			subject += " in " + strconv.Quote(kw)
		}
	}
	return truncate(label+": "+subject, maxTitleRunes)
}

// AnomalyBody is the text of an anomaly's notification: its explanation, or its figures when
// it has none.
func AnomalyBody(a *marketv1.AnomalyDetected) string {
	if e := strings.TrimSpace(a.GetExplanation()); e != "" {
		return e
	}
	sev := severityLabels[a.GetSeverity()]
	if sev == "" {
		sev = "unrated"
	}
	if b := a.GetBaseline(); b != nil {
		return fmt.Sprintf("Observed %g against a baseline of %g (score %.2f, %s).", a.GetObserved(), b.GetCenter(), a.GetScore(), sev)
	}
	return fmt.Sprintf("Observed %g (score %.2f, %s).", a.GetObserved(), a.GetScore(), sev)
}

// AnalysisTitle is the short title of a completed analysis' notification.
func AnalysisTitle(c *marketv1.AnalysisCompleted) string {
	t := fmt.Sprintf("Analysis of %q completed", c.GetKeyword())
	if c.GetStale() {
		t += " (stale result)"
	}
	return truncate(t, maxTitleRunes)
}

// AnalysisBody is the text of a completed analysis' notification: the headline figures of its
// summary.
func AnalysisBody(c *marketv1.AnalysisCompleted) string {
	s := c.GetSummary()
	if s == nil {
		return "The analysis completed without a summary."
	}
	parts := []string{fmt.Sprintf("%d competitors", s.GetCompetitorCount())}
	if s.PriceMedianMinor != nil {
		parts = append(parts, "median price "+formatMinor(s.GetPriceMedianMinor(), s.GetCurrency()))
	}
	if s.RatingMean != nil {
		parts = append(parts, fmt.Sprintf("mean rating %.1f", s.GetRatingMean()))
	}
	if n := len(s.GetNewEntrants()); n > 0 {
		parts = append(parts, fmt.Sprintf("%d new entrants", n))
	}
	return strings.Join(parts, ", ") + "."
}

// zeroDecimal lists the ISO 4217 currencies without minor units.
var zeroDecimal = map[string]bool{"BIF": true, "CLP": true, "DJF": true, "GNF": true, "ISK": true, "JPY": true, "KMF": true,
	"KRW": true, "PYG": true, "RWF": true, "UGX": true, "VND": true, "VUV": true, "XAF": true, "XOF": true, "XPF": true}

// formatMinor renders an amount in minor units of currency, e.g. "24.99 USD".
func formatMinor(minor float64, currency string) string {
	if zeroDecimal[currency] {
		return strings.TrimSpace(fmt.Sprintf("%.0f %s", minor, currency))
	}
	return strings.TrimSpace(fmt.Sprintf("%.2f %s", minor/100, currency))
}

func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
