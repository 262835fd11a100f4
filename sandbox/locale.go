package sandbox

import (
	"math"
	"net"
	"strconv"
	"strings"
)

// Marketplace is a marketplace variant: its domain, currency and how it writes prices.
type Marketplace struct {
	// Domain is the marketplace's domain, e.g. "amazon.de".
	Domain string `json:"domain"`
	// Currency is the ISO 4217 code of its prices.
	Currency string `json:"currency"`
	// Exponent is the number of minor-unit digits of the currency (ISO 4217): prices in the
	// truth are integers in minor units (cents, paise; yen have none).
	Exponent int `json:"exponent"`
	// Lang is the page's lang attribute.
	Lang string `json:"lang"`

	rate      float64 // local units per US dollar
	symbol    string
	after     bool   // symbol after the amount
	thousands string // group separator
	decimal   string // decimal separator
	whole     bool   // shown without minor units (INR, JPY)
	indian    bool   // lakh grouping: 1,23,456
	bodyClass string
	siteName  string // "Amazon.com"
}

// Marketplaces are the marketplace variants the sandbox serves, the default first.
var Marketplaces = []*Marketplace{
	{Domain: "amazon.com", Currency: "USD", Exponent: 2, Lang: "en-us", rate: 1, symbol: "$", thousands: ",", decimal: ".", bodyClass: "a-m-us", siteName: "Amazon.com"},
	{Domain: "amazon.de", Currency: "EUR", Exponent: 2, Lang: "de-de", rate: 0.92, symbol: "€", after: true, thousands: ".", decimal: ",", bodyClass: "a-m-de", siteName: "Amazon.de"},
	{Domain: "amazon.co.uk", Currency: "GBP", Exponent: 2, Lang: "en-gb", rate: 0.79, symbol: "£", thousands: ",", decimal: ".", bodyClass: "a-m-gb", siteName: "Amazon.co.uk"},
	{Domain: "amazon.es", Currency: "EUR", Exponent: 2, Lang: "es-es", rate: 0.92, symbol: "€", after: true, thousands: ".", decimal: ",", bodyClass: "a-m-es", siteName: "Amazon.es"},
	{Domain: "amazon.in", Currency: "INR", Exponent: 2, Lang: "en-in", rate: 83.5, symbol: "₹", thousands: ",", decimal: ".", whole: true, indian: true, bodyClass: "a-m-in", siteName: "Amazon.in"},
	{Domain: "amazon.co.jp", Currency: "JPY", Exponent: 0, Lang: "ja-jp", rate: 150, symbol: "￥", thousands: ",", decimal: ".", whole: true, bodyClass: "a-m-jp", siteName: "Amazon.co.jp"},
}

// LookupMarketplace finds a marketplace by domain ("amazon.de", "www.amazon.de") or by its
// country part ("de", "co.jp", "jp"); nil when unknown.
func LookupMarketplace(name string) *Marketplace {
	name = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "www.")
	for _, mp := range Marketplaces {
		tld := strings.TrimPrefix(mp.Domain, "amazon.")
		if name == mp.Domain || name == tld || name == strings.TrimPrefix(tld, "co.") {
			return mp
		}
	}
	return nil
}

// marketplaceForHost picks the marketplace a Host header names: "amazon.de", "www.amazon.de",
// or a local alias such as "amazon.de.localhost:8080"; nil when it names none.
func marketplaceForHost(host string) *Marketplace {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimPrefix(strings.ToLower(host), "www.")
	var best *Marketplace
	for _, mp := range Marketplaces {
		if host == mp.Domain || strings.HasPrefix(host, mp.Domain+".") || strings.HasSuffix(host, "."+mp.Domain) {
			if best == nil || len(mp.Domain) > len(best.Domain) {
				best = mp
			}
		}
	}
	return best
}

// charmStyle is how a product's prices end: 0 at .99, 1 at .x9, 2 at any cent.
func (p *product) charmStyle() int {
	switch h := p.idx * 7 % 20; {
	case h < 12:
		return 0
	case h < 17:
		return 1
	default:
		return 2
	}
}

// price converts a US-dollar amount to this marketplace's minor units, rounded the way sellers
// price (charm prices), 0 for a zero amount.
func (mp *Marketplace) price(usd float64, p *product) int64 {
	if usd <= 0 {
		return 0
	}
	v := usd * mp.rate
	style := p.charmStyle()
	switch mp.Currency {
	case "JPY":
		y := int64(math.Round(v/10)) * 10
		if style == 0 && y >= 1000 {
			y = int64(math.Round(v/100))*100 - 20 // ￥1,280 / ￥2,980
		}
		return max(y, 10)
	case "INR":
		r := int64(math.Round(v))
		if style == 0 && r >= 100 {
			r = int64(math.Round(v/10))*10 - 1 // ₹2,869
		}
		return max(r, 1) * 100
	}
	var cents int64
	switch {
	case style == 2:
		cents = int64(math.Round(v * 100))
	case style == 0 && v >= 10:
		cents = int64(math.Round(v))*100 - 1
	default:
		cents = int64(math.Round(v*10))*10 - 1
	}
	return max(cents, 99)
}

// priceParts is a price split the way the a-price markup shows it.
type priceParts struct {
	Text        string // the whole price as in span.a-offscreen: "$1,299.99", "1.299,99 €"
	Symbol      string
	SymbolAfter bool
	Whole       string // "1,299"
	Decimal     string // "." or ","; empty when the price shows no minor units
	Fraction    string // "99"
}

// parts formats an amount in minor units.
func (mp *Marketplace) parts(minor int64) priceParts {
	var whole, frac int64
	if mp.Exponent == 0 {
		whole = minor
	} else {
		div := int64(math.Pow10(mp.Exponent))
		whole, frac = minor/div, minor%div
	}
	pp := priceParts{Symbol: mp.symbol, SymbolAfter: mp.after, Whole: mp.group(whole)}
	num := pp.Whole
	if !mp.whole {
		pp.Decimal = mp.decimal
		f := strconv.FormatInt(frac, 10)
		for len(f) < mp.Exponent {
			f = "0" + f
		}
		pp.Fraction = f
		num += pp.Decimal + pp.Fraction
	}
	if mp.after {
		pp.Text = num + "\u00a0" + mp.symbol
	} else {
		pp.Text = mp.symbol + num
	}
	return pp
}

// Format writes an amount in minor units as the marketplace shows it: "$1,299.99",
// "1.299,99 €" (with a no-break space), "₹2,863", "￥1,280".
func (mp *Marketplace) Format(minor int64) string { return mp.parts(minor).Text }

// group writes an integer with the marketplace's digit grouping.
func (mp *Marketplace) group(n int64) string {
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], n, 10)
	if len(d) <= 3 {
		return string(d)
	}
	var out [40]byte
	o := len(out)
	size := 3
	for i, k := len(d)-1, 0; i >= 0; i, k = i-1, k+1 {
		if k == 3 || (k > 3 && (k-3)%size == 0) {
			o -= len(mp.thousands)
			copy(out[o:], mp.thousands)
		}
		if k == 3 && mp.indian {
			size = 2
		}
		o--
		out[o] = d[i]
	}
	return string(out[o:])
}
