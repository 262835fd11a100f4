package parse

import (
	"net/url"
	"strings"
)

// locale is what a marketplace implies about the numbers and money on its pages.
type locale struct {
	// currency is the ISO 4217 code a price without a currency sign is in.
	currency string
	// decimal is the decimal separator of the marketplace's language ('.' or ',').
	decimal byte
}

// marketplaces maps a marketplace domain to its locale.
var marketplaces = map[string]locale{
	"amazon.com":    {"USD", '.'},
	"amazon.ca":     {"CAD", '.'},
	"amazon.com.mx": {"MXN", '.'},
	"amazon.com.br": {"BRL", ','},
	"amazon.co.uk":  {"GBP", '.'},
	"amazon.ie":     {"EUR", '.'},
	"amazon.de":     {"EUR", ','},
	"amazon.fr":     {"EUR", ','},
	"amazon.it":     {"EUR", ','},
	"amazon.es":     {"EUR", ','},
	"amazon.nl":     {"EUR", ','},
	"amazon.com.be": {"EUR", ','},
	"amazon.at":     {"EUR", ','},
	"amazon.se":     {"SEK", ','},
	"amazon.pl":     {"PLN", ','},
	"amazon.com.tr": {"TRY", ','},
	"amazon.in":     {"INR", '.'},
	"amazon.co.jp":  {"JPY", '.'},
	"amazon.cn":     {"CNY", '.'},
	"amazon.com.au": {"AUD", '.'},
	"amazon.sg":     {"SGD", '.'},
	"amazon.ae":     {"AED", '.'},
	"amazon.sa":     {"SAR", '.'},
	"amazon.eg":     {"EGP", '.'},
	"amazon.co.za":  {"ZAR", '.'},
}

// langMarketplaces maps the lang attribute of a page's <html> element to the marketplace that
// serves that language by default; used only when neither the options nor the page's links name one.
var langMarketplaces = map[string]string{
	"en-us": "amazon.com",
	"en-ca": "amazon.ca",
	"fr-ca": "amazon.ca",
	"es-mx": "amazon.com.mx",
	"pt-br": "amazon.com.br",
	"en-gb": "amazon.co.uk",
	"de-de": "amazon.de",
	"fr-fr": "amazon.fr",
	"it-it": "amazon.it",
	"es-es": "amazon.es",
	"nl-nl": "amazon.nl",
	"sv-se": "amazon.se",
	"pl-pl": "amazon.pl",
	"tr-tr": "amazon.com.tr",
	"en-in": "amazon.in",
	"hi-in": "amazon.in",
	"ja-jp": "amazon.co.jp",
	"zh-cn": "amazon.cn",
	"en-au": "amazon.com.au",
	"en-sg": "amazon.sg",
	"en-ae": "amazon.ae",
	"ar-ae": "amazon.ae",
	"ar-sa": "amazon.sa",
	"en-za": "amazon.co.za",
}

// normaliseMarketplace turns "https://www.amazon.de/s?k=x", "www.amazon.de" or "Amazon.DE" into
// "amazon.de"; it returns "" for an empty input.
func normaliseMarketplace(s string) string {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return ""
	}
	if strings.Contains(s, "://") {
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			s = u.Host
		}
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 && !strings.Contains(s[i:], ".") {
		s = s[:i] // port
	}
	s = strings.TrimPrefix(s, "www.")
	s = strings.TrimPrefix(s, "smile.")
	return s
}

// localeOf returns the locale of a marketplace domain and whether it is known.
func localeOf(marketplace string) (locale, bool) {
	l, ok := marketplaces[normaliseMarketplace(marketplace)]
	return l, ok
}

// minorUnits are the ISO 4217 exponents of the currencies a marketplace can show; a currency not
// listed here has two decimals.
var minorUnits = map[string]int{
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}

// isoCurrencies are the codes recognised when a page writes the code instead of a sign ("VND 339,065").
var isoCurrencies = map[string]bool{
	"AED": true, "ARS": true, "AUD": true, "BDT": true, "BGN": true, "BHD": true, "BRL": true,
	"CAD": true, "CHF": true, "CLP": true, "CNY": true, "COP": true, "CZK": true, "DKK": true,
	"EGP": true, "EUR": true, "GBP": true, "HKD": true, "HUF": true, "IDR": true, "ILS": true,
	"INR": true, "ISK": true, "JOD": true, "JPY": true, "KES": true, "KRW": true, "KWD": true,
	"LKR": true, "MAD": true, "MXN": true, "MYR": true, "NGN": true, "NOK": true, "NZD": true,
	"OMR": true, "PEN": true, "PHP": true, "PKR": true, "PLN": true, "QAR": true, "RON": true,
	"RUB": true, "SAR": true, "SEK": true, "SGD": true, "THB": true, "TND": true, "TRY": true,
	"TWD": true, "UAH": true, "USD": true, "UYU": true, "VND": true, "ZAR": true,
}

// exponent returns the number of minor-unit digits of an ISO 4217 currency.
func exponent(currency string) int {
	if e, ok := minorUnits[currency]; ok {
		return e
	}
	return 2
}
