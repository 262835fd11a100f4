package parse

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// maxIntegerDigits bounds the integer part of an amount so that amount_minor cannot overflow int64
// (10^15 with three minor digits is 10^18).
const maxIntegerDigits = 15

// dollar stands for "$" in the sign table: which dollar depends on the marketplace.
const dollar = "$dollar"

// yen stands for "¥"/"￥": the yen, or the yuan on amazon.cn.
const yen = "$yen"

// krona stands for "kr": Swedish unless the marketplace says Danish or Norwegian.
const krona = "$krona"

// currencySign is a currency sign or abbreviation as pages write it.
type currencySign struct {
	text     string
	currency string
	// word signs must not touch a letter on either side ("kr" is not found in "Kreditkarte").
	word bool
}

// currencySigns are checked in order: a longer sign before any sign it contains.
var currencySigns = []currencySign{
	{"CDN$", "CAD", false},
	{"CA$", "CAD", false},
	{"US$", "USD", false},
	{"AU$", "AUD", false},
	{"NZ$", "NZD", false},
	{"SG$", "SGD", false},
	{"HK$", "HKD", false},
	{"MX$", "MXN", false},
	{"R$", "BRL", false},
	{"C$", "CAD", false},
	{"A$", "AUD", false},
	{"S$", "SGD", false},
	{"E£", "EGP", false},
	{"د.إ", "AED", false},
	{"ر.س", "SAR", false},
	{"ج.م", "EGP", false},
	{"Rs.", "INR", false},
	{"Rs", "INR", true},
	{"zł", "PLN", false},
	{"TL", "TRY", true},
	{"kr", krona, true},
	{"$", dollar, false},
	{"€", "EUR", false},
	{"£", "GBP", false},
	{"₹", "INR", false},
	{"¥", yen, false},
	{"円", "JPY", false},
	{"元", "CNY", false},
	{"₫", "VND", false},
	{"₺", "TRY", false},
	{"₩", "KRW", false},
	{"฿", "THB", false},
	{"₱", "PHP", false},
	{"₪", "ILS", false},
	{"₽", "RUB", false},
	{"₴", "UAH", false},
}

// commaDecimalCurrencies are written with a decimal comma where the marketplace is unknown.
var commaDecimalCurrencies = map[string]bool{
	"EUR": true, "BRL": true, "TRY": true, "PLN": true, "SEK": true, "DKK": true, "NOK": true,
	"CZK": true, "HUF": true, "RON": true, "BGN": true, "RUB": true, "UAH": true, "ARS": true,
	"CLP": true, "COP": true, "IDR": true, "VND": true,
}

// ParsePrice reads an amount of money as a marketplace writes it ("$1,299.99", "1.299,99 €",
// "₹2,863", "VND 339,065", "R$ 1.234,56", "￥1,280", "CDN$ 12.99") into minor units of its ISO 4217
// currency. The marketplace (a domain such as "amazon.de"; may be empty) supplies the currency when
// the text has none, tells which dollar "$" is, and is the hint for separators that could be read
// both ways. The first amount in the text is taken; a sign in front of it is ignored, so the result is
// never negative. Errors wrap ErrNoPrice, ErrNoCurrency or ErrMalformedNumber.
func ParsePrice(text, marketplace string) (*marketv1.Money, error) {
	norm := normaliseDigits(text)
	loc, known := localeOf(marketplace)
	currency := detectCurrency(norm, loc, known)
	start, end, ok := findNumber(norm)
	if !ok {
		return nil, fmt.Errorf("parse price %q: %w", clip(text), ErrNoPrice)
	}
	if currency == "" {
		return nil, fmt.Errorf("parse price %q: %w", clip(text), ErrNoCurrency)
	}
	decimal := byte('.')
	switch {
	case known:
		decimal = loc.decimal
	case commaDecimalCurrencies[currency]:
		decimal = ','
	}
	intPart, frac, err := splitNumber(norm[start:end], exponent(currency), decimal)
	if err != nil {
		return nil, fmt.Errorf("parse price %q: %w", clip(text), err)
	}
	amount, err := toMinor(intPart, frac, exponent(currency))
	if err != nil {
		return nil, fmt.Errorf("parse price %q: %w", clip(text), err)
	}
	return &marketv1.Money{AmountMinor: amount, Currency: currency}, nil
}

// clip shortens text quoted in an error message.
func clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// normaliseDigits maps full-width and Arabic-Indic digits and separators to ASCII, every kind of
// space to a plain space, and drops bidi and zero-width marks, so the number scanner sees one alphabet.
func normaliseDigits(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '０' && r <= '９':
			b.WriteByte(byte('0' + r - '０'))
		case r >= '٠' && r <= '٩':
			b.WriteByte(byte('0' + r - '٠'))
		case r >= '۰' && r <= '۹':
			b.WriteByte(byte('0' + r - '۰'))
		case r == '’':
			b.WriteByte('\'')
		case r == '，' || r == '٬':
			b.WriteByte(',')
		case r == '．' || r == '٫':
			b.WriteByte('.')
		case r == '＄':
			b.WriteByte('$')
		case r == '￥':
			b.WriteString("¥")
		case r == '\u200e' || r == '\u200f' || r == '\u200b' || r == '\u200c' || r == '\u200d' || r == '\ufeff' || r == '\u061c':
			// bidi and zero-width marks carry no meaning here
		case r == '\u00a0' || r == '\u202f' || r == '\u2009' || r == '\u2007' || r == '\u3000' || unicode.IsSpace(r):
			b.WriteByte(' ')
		case r == utf8.RuneError:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// detectCurrency finds the currency a normalised price text is in: an ISO code, else a sign, else the
// marketplace's currency; "" when none applies.
func detectCurrency(s string, loc locale, known bool) string {
	if c := findISOCode(s); c != "" {
		return c
	}
	for _, sg := range currencySigns {
		if !containsSign(s, sg) {
			continue
		}
		switch sg.currency {
		case dollar:
			switch loc.currency {
			case "USD", "CAD", "AUD", "MXN", "SGD", "NZD", "HKD":
				return loc.currency
			}
			return "USD"
		case yen:
			if loc.currency == "CNY" {
				return "CNY"
			}
			return "JPY"
		case krona:
			switch loc.currency {
			case "SEK", "DKK", "NOK":
				return loc.currency
			}
			return "SEK"
		}
		return sg.currency
	}
	if known {
		return loc.currency
	}
	return ""
}

// findISOCode returns the first three-capital-letter word of s that is a known ISO 4217 code.
func findISOCode(s string) string {
	for i := 0; i+3 <= len(s); i++ {
		if !isUpper(s[i]) || (i > 0 && isASCIILetter(s[i-1])) {
			continue
		}
		if !isUpper(s[i+1]) || !isUpper(s[i+2]) || (i+3 < len(s) && isASCIILetter(s[i+3])) {
			continue
		}
		if code := s[i : i+3]; isoCurrencies[code] {
			return code
		}
	}
	return ""
}

// containsSign reports whether s contains the sign, respecting word boundaries for word signs.
func containsSign(s string, sg currencySign) bool {
	from := 0
	for {
		i := strings.Index(s[from:], sg.text)
		if i < 0 {
			return false
		}
		i += from
		if !sg.word {
			return true
		}
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[i+len(sg.text):])
		if (i == 0 || !unicode.IsLetter(before)) && (i+len(sg.text) == len(s) || !unicode.IsLetter(after)) {
			return true
		}
		from = i + len(sg.text)
	}
}

func isUpper(c byte) bool       { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool       { return c >= '0' && c <= '9' }
func isASCIILetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }

// findNumber returns the byte span of the first number in a normalised text: digits joined by '.', ','
// or apostrophes, or by single spaces that are followed by exactly three digits (thousands).
func findNumber(s string) (start, end int, ok bool) {
	start = strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' })
	if start < 0 {
		return 0, 0, false
	}
	end = start
	for end < len(s) && isDigit(s[end]) {
		end++
	}
	for end+1 < len(s) {
		c := s[end]
		switch c {
		case '.', ',', '\'':
			if !isDigit(s[end+1]) {
				return start, end, true
			}
		case ' ':
			n := 0
			for end+1+n < len(s) && isDigit(s[end+1+n]) {
				n++
			}
			if n != 3 {
				return start, end, true
			}
		default:
			return start, end, true
		}
		end++
		for end < len(s) && isDigit(s[end]) {
			end++
		}
	}
	return start, end, true
}

// splitNumber splits a number token into its integer digits and fraction digits, deciding which
// separator is the decimal one. exp is the currency's number of minor digits and decimal the
// marketplace's decimal separator; both settle a single separator followed by exactly three digits.
func splitNumber(tok string, exp int, decimal byte) (intPart, frac string, err error) {
	var groups []string
	var seps []byte
	last := 0
	for i := 0; i < len(tok); i++ {
		if !isDigit(tok[i]) {
			groups = append(groups, tok[last:i])
			seps = append(seps, tok[i])
			last = i + 1
		}
	}
	groups = append(groups, tok[last:])
	if len(seps) == 0 {
		return groups[0], "", nil
	}
	lastSep := seps[len(seps)-1]
	mixed := false
	for _, c := range seps {
		if c != seps[0] {
			mixed = true
			break
		}
	}
	if mixed {
		// The last separator is the decimal one; everything before it must be one grouping kind.
		if lastSep == ' ' || lastSep == '\'' {
			return "", "", ErrMalformedNumber
		}
		for _, c := range seps[:len(seps)-1] {
			if c != seps[0] || c == lastSep {
				return "", "", ErrMalformedNumber
			}
		}
		if !validGrouping(groups[:len(groups)-1]) {
			return "", "", ErrMalformedNumber
		}
		return strings.Join(groups[:len(groups)-1], ""), groups[len(groups)-1], nil
	}
	// One kind of separator.
	if lastSep == ' ' || lastSep == '\'' || len(seps) > 1 {
		if !validGrouping(groups) {
			return "", "", ErrMalformedNumber
		}
		return strings.Join(groups, ""), "", nil
	}
	// A single '.' or ','.
	head, tail := groups[0], groups[1]
	if len(tail) != 3 || !validGrouping(groups) {
		return head, tail, nil
	}
	// "1,299" or "1.299": thousands unless the currency has three decimals and the marketplace
	// writes its decimals with this separator ("12.345 KWD").
	if exp == 3 && lastSep == decimal {
		return head, tail, nil
	}
	return head + tail, "", nil
}

// validGrouping reports whether digit groups read as thousands grouping: a first group of one to
// three digits not starting with 0, then groups of three (or of two before a last group of three, as
// India writes lakhs: 1,23,456).
func validGrouping(groups []string) bool {
	if len(groups) < 2 {
		return len(groups) == 1 && groups[0] != ""
	}
	first := groups[0]
	if len(first) == 0 || len(first) > 3 || first[0] == '0' {
		return false
	}
	for i, g := range groups[1:] {
		lastGroup := i == len(groups)-2
		switch {
		case len(g) == 3:
		case len(g) == 2 && !lastGroup:
		default:
			return false
		}
	}
	return true
}

// toMinor combines integer and fraction digits into minor units of a currency with exp decimals,
// rounding half up when the text has more decimals than the currency.
func toMinor(intPart, frac string, exp int) (int64, error) {
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > maxIntegerDigits {
		return 0, ErrMalformedNumber
	}
	var v int64
	for i := 0; i < len(intPart); i++ {
		v = v*10 + int64(intPart[i]-'0')
	}
	for i := 0; i < exp; i++ {
		v *= 10
		if i < len(frac) {
			v += int64(frac[i] - '0')
		}
	}
	if len(frac) > exp && frac[exp] >= '5' {
		v++
	}
	limit := int64(1)
	for i := 0; i < maxIntegerDigits+exp; i++ {
		limit *= 10
	}
	if v >= limit { // rounding carried into a sixteenth integer digit
		return 0, ErrMalformedNumber
	}
	return v, nil
}
