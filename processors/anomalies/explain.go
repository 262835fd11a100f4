package anomalies

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/marketinsightspro/marketinsights/analytics/anomaly"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// explain writes the one sentence a seller reads about a statistical anomaly, e.g.
// "Price dropped 23% to $19.99, below its usual $25.00-$26.50 range over the last 14 observations."
func explain(kind marketv1.AnomalyKind, m Metric, r anomaly.Result, d *marketv1.AnomalyDetected, ev *marketv1.ProductStateChanged) string {
	b := d.GetBaseline()
	lo, hi, x := b.GetUsualLow(), b.GetUsualHigh(), d.GetObserved()
	up := r.Alert == anomaly.Up
	over := fmt.Sprintf("over the last %d observations", b.GetPoints())
	if r.Baseline.Method == anomaly.MethodSeasonal {
		over = fmt.Sprintf("for this time of day (%d observations)", b.GetPoints())
	}
	switch m {
	case MetricPrice:
		cur := d.GetCurrency()
		money := func(v float64) string { return FormatMoney(int64(math.Round(v)), cur) }
		center := natural(m, r.Baseline.Center)
		verb, side := "dropped", "below"
		if up {
			verb, side = "rose", "above"
		}
		return fmt.Sprintf("Price %s %s to %s, %s its usual %s %s.",
			verb, percent(x, center), money(x), side, usual(money(lo), money(hi)), over)
	case MetricReviews:
		total := ""
		if n := ev.GetAfter().ReviewCount; n != nil {
			total = fmt.Sprintf(" (%s in all)", groupDigits(*n))
		}
		return fmt.Sprintf("Reviews are arriving at about %s a day%s, above the usual %s a day %s.",
			groupDigits(int64(math.Round(x))), total,
			rangeText(groupDigits(int64(math.Round(lo))), groupDigits(int64(math.Round(hi)))), strings.Replace(over, "observations", "measurements", 1))
	case MetricRating:
		stars := func(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64) }
		return fmt.Sprintf("Rating fell to %s stars, below its usual %s %s.", stars(x), rangeText(stars(lo), stars(hi)), over)
	case MetricRank:
		rank := func(v float64) string { return "#" + groupDigits(int64(math.Round(v))) }
		in := ""
		if rs := ev.GetAfter().GetRanks(); len(rs) > 0 && rs[0].GetCategory() != "" {
			in = " in " + rs[0].GetCategory()
		}
		verb, side := "improved", "ahead of"
		if up { // a larger rank number sells less
			verb, side = "worsened", "behind"
		}
		return fmt.Sprintf("Best-sellers rank %s to %s%s, %s its usual %s %s.", verb, rank(x), in, side, rangeText(rank(lo), rank(hi)), over)
	case MetricSellers:
		n := func(v float64) string { return groupDigits(int64(math.Round(v))) }
		verb, side := "fell", "below"
		if up {
			verb, side = "rose", "above"
		}
		return fmt.Sprintf("Sellers %s to %s, %s the usual %s %s.", verb, n(x), side, rangeText(n(lo), n(hi)), over)
	}
	return fmt.Sprintf("%s: %v against a usual %v-%v.", kind, x, lo, hi)
}

// explainState writes the sentence of an availability anomaly; d is how long the previous
// availability had lasted.
func explainState(kind marketv1.AnomalyKind, prev marketv1.Availability, d time.Duration) string {
	if kind == marketv1.AnomalyKind_ANOMALY_KIND_BACK_IN_STOCK {
		return fmt.Sprintf("The product is back in stock after %s out of stock.", humanDuration(d))
	}
	was := "in stock"
	switch prev {
	case marketv1.Availability_AVAILABILITY_LOW_STOCK:
		was = "low on stock"
	case marketv1.Availability_AVAILABILITY_PREORDER:
		was = "available for pre-order"
	}
	return fmt.Sprintf("The product went out of stock; it was %s when last seen %s earlier.", was, humanDuration(d))
}

// usual renders a usual range as "$25.00-$26.50 range", or "level of $25.00" when it is one value.
func usual(lo, hi string) string {
	if lo == hi {
		return "level of " + lo
	}
	return lo + "-" + hi + " range"
}

// rangeText renders "lo-hi", or one value when both ends read the same.
func rangeText(lo, hi string) string {
	if lo == hi {
		return lo
	}
	return lo + "-" + hi
}

// percent renders |x-center| as a percentage of center: "23%", or "0.4%" below 1%.
func percent(x, center float64) string {
	if center == 0 {
		return "sharply"
	}
	p := math.Abs(x-center) / math.Abs(center) * 100
	if p < 1 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(math.Round(p), 'f', 0, 64) + "%"
}

// humanDuration renders d as "45 minutes", "3 hours" or "2 days" (rounded, at least 1 minute).
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.FormatInt(n, 10) + " " + unit + "s"
	}
	switch {
	case d < time.Hour:
		return plural(max(int64(math.Round(d.Minutes())), 1), "minute")
	case d < 48*time.Hour:
		return plural(int64(math.Round(d.Hours())), "hour")
	default:
		return plural(int64(math.Round(d.Hours()/24)), "day")
	}
}

// groupDigits renders n with comma thousands separators: 1234567 is "1,234,567".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// minorDigits are the ISO 4217 minor-unit digits of the currencies that do not have 2.
var minorDigits = map[string]int{
	"JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "PYG": 0, "UGX": 0, "XAF": 0, "XOF": 0,
	"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3,
}

// currencySymbols are the symbols of the marketplaces' currencies; others are written as their code.
var currencySymbols = map[string]string{
	"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "CA$", "AUD": "A$", "MXN": "MX$", "BRL": "R$",
}

// FormatMoney renders an amount in minor units of an ISO 4217 currency for people:
// (1999, "USD") is "$19.99", (123456, "EUR") "€1,234.56", (1500, "JPY") "¥1,500", (995, "SEK") "SEK 9.95".
func FormatMoney(minor int64, currency string) string {
	currency = strings.ToUpper(currency)
	digits, ok := minorDigits[currency]
	if !ok {
		digits = 2
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	unit := int64(math.Pow10(digits))
	amount := groupDigits(minor / unit)
	if digits > 0 {
		amount += fmt.Sprintf(".%0*d", digits, minor%unit)
	}
	switch sym, ok := currencySymbols[currency]; {
	case ok:
		return sign + sym + amount
	case currency == "":
		return sign + amount
	default:
		return sign + currency + " " + amount
	}
}
