package parse

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// maxCount bounds counts read from pages (reviews, results, purchases): more is a misreading.
const maxCount = 1_000_000_000_000

// countRe matches a count as pages write it: "84,753", "1.234", "84.7K", "1K+", "1,2 mil", "10万".
var countRe = regexp.MustCompile(`(\d+(?:[.,' ]\d+)*)\s*((?:K|k|M|mil|Mil|mille)\b|万|千)?`)

// parseCount reads the first count in text. Separators followed by three digits group thousands;
// with a multiplier suffix ("84.7K", "1,2 mil") the separator is a decimal point.
func parseCount(text string) (int64, bool) {
	m := countRe.FindStringSubmatch(normaliseDigits(text))
	if m == nil {
		return 0, false
	}
	return countValue(m[1], m[2])
}

// countValue converts a count's digits and multiplier suffix.
func countValue(digits, suffix string) (int64, bool) {
	mult := 1.0
	switch suffix {
	case "K", "k", "mil", "Mil", "mille", "千":
		mult = 1e3
	case "M":
		mult = 1e6
	case "万":
		mult = 1e4
	}
	if mult == 1 {
		// An integer: every separator must group three digits.
		parts := strings.FieldsFunc(digits, func(r rune) bool { return r == '.' || r == ',' || r == '\'' || r == ' ' })
		if len(parts) > 1 && !validGrouping(parts) {
			return 0, false
		}
		joined := strings.Join(parts, "")
		if len(joined) > 13 {
			return 0, false
		}
		v, err := strconv.ParseInt(joined, 10, 64)
		if err != nil || v > maxCount {
			return 0, false
		}
		return v, true
	}
	// With a multiplier, a single '.' or ',' followed by one or two digits is a decimal point.
	d := strings.ReplaceAll(digits, " ", "")
	if i := strings.LastIndexAny(d, ".,"); i >= 0 && len(d)-i-1 < 3 {
		d = strings.NewReplacer(".", "", ",", "", "'", "").Replace(d[:i]) + "." + d[i+1:]
	} else {
		d = strings.NewReplacer(".", "", ",", "", "'", "").Replace(d)
	}
	if len(d) > 13 {
		return 0, false
	}
	f, err := strconv.ParseFloat(d, 64)
	if err != nil {
		return 0, false
	}
	v := math.Round(f * mult)
	if v > maxCount {
		return 0, false
	}
	return int64(v), true
}

// ratingRes match "4.5 out of 5 stars", "4,5 von 5 Sternen", "4,5 de 5 estrellas", "4,5 sur 5",
// "4,5 su 5", "5つ星のうち4.3", "4.2 out of 5".
var ratingRes = []*regexp.Regexp{
	regexp.MustCompile(`(\d(?:[.,]\d{1,2})?)\s*(?:out of|von|de|sur|su|van|z|av|من|из)\s*5\b`),
	regexp.MustCompile(`5\s*つ星のうち\s*(\d(?:[.,]\d{1,2})?)`),
	regexp.MustCompile(`星5つ中の\s*(\d(?:[.,]\d{1,2})?)`),
}

// parseRating reads an average star rating from its localised phrase; a value outside 1..5 is refused.
func parseRating(text string) (float64, bool) {
	t := normaliseDigits(text)
	for _, re := range ratingRes {
		m := re.FindStringSubmatch(t)
		if m == nil {
			continue
		}
		v, err := strconv.ParseFloat(strings.Replace(m[1], ",", ".", 1), 64)
		if err != nil || v < 1 || v > 5 {
			return 0, false
		}
		return v, true
	}
	return 0, false
}

// boughtMarkers are the phrases of a "bought in past month" badge, lower-cased.
var boughtMarkers = []string{
	"bought in past month", "bought in the past month",
	"im letzten monat gekauft", "im vergangenen monat gekauft",
	"comprados el mes pasado", "compras no mês passado", "comprados no mês passado",
	"achetés au cours du mois dernier", "achetés le mois dernier",
	"acquistati nel mese scorso", "acquistati il mese scorso",
	"gekocht in de afgelopen maand", "köpta förra månaden", "kupionych w zeszłym miesiącu",
	"過去1か月で", "过去一个月",
}

// boughtCountRe finds the count of a bought badge after the Japanese "past 1 month" was removed.
var boughtCountRe = regexp.MustCompile(`(\d+(?:[.,' ]\d{3})*(?:[.,]\d{1,2})?)\s*((?:K|k|M|mil|Mil|mille)\b|万|千)?`)

// boughtShortRe matches the short badge "50+ bought" that omits the period.
var boughtShortRe = regexp.MustCompile(`^\s*(\d+(?:[.,]\d+)?)\s*([Kk])?\+\s*bought\s*$`)

// parseBought reads the lower bound of "1K+ bought in past month" and its translations
// ("Mehr als 1.000 Mal im letzten Monat gekauft", "Más de 1 mil comprados el mes pasado",
// "過去1か月で1000点以上購入されました"); texts that are not such a badge give false.
func parseBought(text string) (int64, bool) {
	t := strings.ToLower(normaliseDigits(text))
	found := false
	for _, m := range boughtMarkers {
		if strings.Contains(t, m) {
			found = true
			t = strings.Replace(t, m, " ", 1)
			break
		}
	}
	if !found {
		m := boughtShortRe.FindStringSubmatch(t)
		if m == nil {
			return 0, false
		}
		return countValue(m[1], strings.ToUpper(m[2]))
	}
	m := boughtCountRe.FindStringSubmatch(t)
	if m == nil {
		return 0, false
	}
	suffix := m[2]
	if suffix == "k" {
		suffix = "K"
	}
	return countValue(m[1], suffix)
}

// rankRe matches one best-sellers rank: "#1,234 in Electronics", "Nr. 1.234 in Elektronik",
// "nº1.234 en Electrónica", "Nº 1.234 em Eletrônicos", "1,234位家電＆カメラ".
var rankRe = regexp.MustCompile(`^(?:#|Nr\.|nº|n\.º|Nº|N°|No\.|n°)?\s*(\d+(?:[.,' ]\d{3})*)\s*(?:位\s*|in der\s+|in\s+|en\s+|em\s+|dans\s+|w\s+|i\s+)(.+)$`)

// rankSplitRe finds where a rank starts inside a run of text that holds several.
var rankSplitRe = regexp.MustCompile(`(?:#|Nr\.\s?|nº\s?|n\.º\s?|Nº\s?|N°\s?)\d|\d[\d,.]*位`)

// parenRe removes "(See Top 100 in Electronics)" and its translations.
var parenRe = regexp.MustCompile(`\s*[(（][^()（）]*[)）]`)

// parseRanks reads best-sellers ranks from one text per line (a list item each) or from one text
// holding them all; lines that are not ranks are ignored.
func parseRanks(lines []string) []*marketv1.BestSellersRank {
	var out []*marketv1.BestSellersRank
	for _, line := range lines {
		for _, piece := range splitRanks(normaliseDigits(line)) {
			piece = strings.TrimSpace(parenRe.ReplaceAllString(piece, ""))
			piece = strings.TrimSpace(strings.TrimLeft(piece, "-–:•"))
			m := rankRe.FindStringSubmatch(piece)
			if m == nil {
				continue
			}
			rank, ok := countValue(m[1], "")
			category := strings.TrimSpace(strings.TrimRight(m[2], " ,;-–"))
			if i := strings.LastIndex(category, " > "); i >= 0 {
				category = strings.TrimSpace(category[i+3:]) // a ladder "A > B > C" names its leaf last
			}
			if !ok || rank <= 0 || category == "" {
				continue
			}
			out = append(out, &marketv1.BestSellersRank{Rank: rank, Category: category})
		}
	}
	return out
}

// splitRanks cuts a text holding several ranks at the start of each.
func splitRanks(s string) []string {
	idx := rankSplitRe.FindAllStringIndex(s, -1)
	if len(idx) <= 1 {
		return []string{s}
	}
	out := make([]string, 0, len(idx))
	for i, loc := range idx {
		end := len(s)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		out = append(out, s[loc[0]:end])
	}
	return out
}

// availabilityRes classify what a page says about stock, most specific first.
var availabilityRes = []struct {
	re *regexp.Regexp
	v  marketv1.Availability
}{
	{regexp.MustCompile(`(?i)only \d+ left|nur noch \d+|solo quedan? \d+|quedan? solo \d+|apenas \d+ |il ne reste plus que \d+|solo \d+ rimast|nog maar \d+|残り\d+点|仅剩\s*\d+`), marketv1.Availability_AVAILABILITY_LOW_STOCK},
	{regexp.MustCompile(`(?i)pre-?order|will be released|vorbestell|erscheint am|preventa|reserva ahora|pré-venda|précommande|pré-commande|preordina|予約`), marketv1.Availability_AVAILABILITY_PREORDER},
	{regexp.MustCompile(`(?i)currently unavailable|out of stock|unavailable|nicht verfügbar|nicht auf lager|no disponible|agotado|não disponível|indisponível|sem estoque|indisponible|en rupture|non disponibile|esaurito|niet beschikbaar|在庫切れ|取り扱いできません|無货|缺货`), marketv1.Availability_AVAILABILITY_OUT_OF_STOCK},
	{regexp.MustCompile(`(?i)in stock|auf lager|en stock|em estoque|disponibilità immediata|disponibile|op voorraad|i lager|w magazynie|stokta|在庫あり|有现货|usually ships|available to ship|ships within|versandfertig|disponible`), marketv1.Availability_AVAILABILITY_IN_STOCK},
}

// parseAvailability classifies a stock message; unspecified when it says nothing recognisable.
func parseAvailability(text string) marketv1.Availability {
	for _, a := range availabilityRes {
		if a.re.MatchString(text) {
			return a.v
		}
	}
	return marketv1.Availability_AVAILABILITY_UNSPECIFIED
}

// sellerCountRes read the number of offers: "New (5) from", "5 New from", "Neu (5) ab",
// "Nuevo (5) desde", "Novo (5) a partir de", "Neuf (5) à partir de", "新品の出品：5".
var sellerCountRes = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(?:new|neu|nuevo|novo|neuf|nuovo|nieuw|nowy)\s*\((\d+)\)`),
	regexp.MustCompile(`(?i)(\d+)\s*(?:new|neu|nuevos?|novos?|neufs?|nuovi)\s*(?:from|ab|desde|a partir|à partir|da)`),
	regexp.MustCompile(`新品の出品[：:]\s*(\d+)`),
	regexp.MustCompile(`(?i)other sellers on amazon\s*\((\d+)\)`),
}

// parseSellerCount reads the number of sellers offering a product new.
func parseSellerCount(text string) (int32, bool) {
	t := normaliseDigits(text)
	for _, re := range sellerCountRes {
		if m := re.FindStringSubmatch(t); m != nil {
			v, err := strconv.ParseInt(m[1], 10, 32)
			if err == nil && v > 0 {
				return int32(v), true
			}
		}
	}
	return 0, false
}

// totalResultsRe finds the page range of a result count: "1-48", "17–32".
var totalResultsRe = regexp.MustCompile(`(\d+)\s*[-–]\s*(\d+)`)

// quotedRe removes the keyword the result count quotes, which may hold digits.
var quotedRe = regexp.MustCompile(`"[^"]*"|“[^”]*”|„[^“”]*[“”]|«[^»]*»|「[^」]*」|『[^』]*』`)

// parseResultCount reads "1-48 of over 2,000 results for", "1-48 von mehr als 10.000 Ergebnissen",
// "48 results for" or "1-48/10,000以上": the total (absent when not shown) and the page's first and
// last result numbers (0 when not shown).
func parseResultCount(text string) (total int64, hasTotal bool, first, last int64) {
	t := quotedRe.ReplaceAllString(normaliseDigits(text), " ")
	if m := totalResultsRe.FindStringSubmatchIndex(t); m != nil {
		first, _ = strconv.ParseInt(t[m[2]:m[3]], 10, 64)
		last, _ = strconv.ParseInt(t[m[4]:m[5]], 10, 64)
		t = t[:m[0]] + " " + t[m[1]:]
	}
	for _, mm := range countRe.FindAllStringSubmatch(t, -1) {
		if v, ok := countValue(mm[1], mm[2]); ok {
			return v, true, first, last
		}
	}
	return 0, false, first, last
}
