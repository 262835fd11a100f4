package market

import (
	"math"
	"strings"
	"unicode"
)

// Method names how a sales estimate was made; the values are those of
// market.v1.SalesEstimate.method.
type Method string

const (
	// MethodBoughtPastMonth is an estimate from the "N+ bought in past month" badge.
	MethodBoughtPastMonth Method = "bought_past_month"
	// MethodRankPowerLaw is an estimate from the best-sellers rank through a power law.
	MethodRankPowerLaw Method = "rank_power_law"
)

// Estimate is an estimated number of units sold per month with its band.
type Estimate struct {
	// Units is the point estimate.
	Units float64
	// Low is the lower end of the band.
	Low float64
	// High is the upper end of the band.
	High float64
	// Method says where the estimate comes from.
	Method Method
}

// BoughtPastMonthBucket returns the range [lo, hi) of monthly units that a "lower+ bought in
// past month" badge stands for. Amazon shows a ladder of lower bounds (50+, 100+, 200+ ... 900+,
// 1K+, 2K+ ... 9K+, 10K+, 20K+ ...): hi is the next rung, lower plus its order of magnitude
// (100 for 200, 1000 for 3000), except that 50+ is followed by 100+. ok is false for lower < 1.
func BoughtPastMonthBucket(lower int64) (lo, hi int64, ok bool) {
	if lower < 1 {
		return 0, 0, false
	}
	if lower >= 50 && lower < 100 {
		return lower, 100, true
	}
	mag := int64(1)
	for mag <= lower/10 {
		mag *= 10
	}
	return lower, lower + mag, true
}

// FromBoughtPastMonth estimates monthly units from a badge's lower bound: the band is the
// badge's bucket [lo, hi) and the point the bucket's geometric mean, since within a bucket
// sales are skewed towards its low end. ok is false for lower < 1.
func FromBoughtPastMonth(lower int64) (Estimate, bool) {
	lo, hi, ok := BoughtPastMonthBucket(lower)
	if !ok {
		return Estimate{}, false
	}
	return Estimate{
		Units:  math.Sqrt(float64(lo) * float64(hi)),
		Low:    float64(lo),
		High:   float64(hi),
		Method: MethodBoughtPastMonth,
	}, true
}

// PowerLaw maps a best-sellers rank to monthly units: Units = A * rank^-B, with the band
// [Units/Band, Units*Band].
type PowerLaw struct {
	// A is the monthly units of rank 1.
	A float64
	// B is the exponent.
	B float64
	// Band is the multiplicative uncertainty (>= 1).
	Band float64
	// Source says where the coefficients come from.
	Source string
}

// Units returns the point estimate of a rank (>= 1).
func (p PowerLaw) Units(rank int64) float64 {
	return p.A * math.Pow(float64(rank), -p.B)
}

// SalesModel estimates monthly unit sales from badges and best-sellers ranks.
type SalesModel struct {
	// Categories are the power laws by normalised category name (NormalizeCategory).
	Categories map[string]PowerLaw
	// Default is the power law of a category that is unknown or missing from Categories.
	Default PowerLaw
}

const calibrated = "estimate: the book exponent of Brynjolfsson, Hu and Smith (2003) adjusted per category, " +
	"scaled so ranks 1K/10K/100K fall in the ranges seller tools publish for the category; refit from bought-past-month badges"

// defaultLaws are the power laws of DefaultSalesModel. Every one of them is an estimate:
// Amazon publishes no sales figures. The only published fit is for books (Brynjolfsson, Hu and
// Smith, "Consumer Surplus in the Digital Economy", Management Science 49(11), 2003: ln(weekly
// units) = 10.526 - 0.871 ln(rank), here converted to months); the others keep an exponent
// near it and a scale chosen so that ranks 1,000, 10,000 and 100,000 give the orders of
// magnitude commonly quoted for each top-level category. They are meant to be refit from
// products that show both a rank and a bought-past-month badge; treat a rank estimate as right
// within its band (a factor of 2) at best.
var defaultLaws = map[string]PowerLaw{
	"books":                       {A: 161_400, B: 0.871, Band: 2, Source: "Brynjolfsson, Hu and Smith (2003), weekly fit x 52/12"},
	"home and kitchen":            {A: 450_000, B: 0.80, Band: 2, Source: calibrated},
	"kitchen and dining":          {A: 250_000, B: 0.80, Band: 2, Source: calibrated},
	"electronics":                 {A: 250_000, B: 0.80, Band: 2, Source: calibrated},
	"sports and outdoors":         {A: 250_000, B: 0.82, Band: 2, Source: calibrated},
	"toys and games":              {A: 300_000, B: 0.82, Band: 2, Source: calibrated},
	"beauty and personal care":    {A: 400_000, B: 0.82, Band: 2, Source: calibrated},
	"health and household":        {A: 450_000, B: 0.82, Band: 2, Source: calibrated},
	"clothing shoes and jewelry":  {A: 500_000, B: 0.78, Band: 2, Source: calibrated},
	"pet supplies":                {A: 200_000, B: 0.82, Band: 2, Source: calibrated},
	"tools and home improvement":  {A: 250_000, B: 0.82, Band: 2, Source: calibrated},
	"office products":             {A: 150_000, B: 0.82, Band: 2, Source: calibrated},
	"baby":                        {A: 100_000, B: 0.85, Band: 2, Source: calibrated},
	"automotive":                  {A: 150_000, B: 0.80, Band: 2, Source: calibrated},
	"patio lawn and garden":       {A: 150_000, B: 0.82, Band: 2, Source: calibrated},
	"arts crafts and sewing":      {A: 120_000, B: 0.83, Band: 2, Source: calibrated},
	"cell phones and accessories": {A: 200_000, B: 0.82, Band: 2, Source: calibrated},
	"grocery and gourmet food":    {A: 300_000, B: 0.85, Band: 2, Source: calibrated},
	"video games":                 {A: 60_000, B: 0.90, Band: 2, Source: calibrated},
	"industrial and scientific":   {A: 60_000, B: 0.82, Band: 2, Source: calibrated},
}

// DefaultSalesModel returns the built-in power laws (see the table in sales.go: every one an
// estimate) and, for other categories, A = 200,000, B = 0.82 with a band of 3. The categories
// map is shared: treat it as read-only.
func DefaultSalesModel() *SalesModel {
	return &SalesModel{
		Categories: defaultLaws,
		Default:    PowerLaw{A: 200_000, B: 0.82, Band: 3, Source: "estimate: a typical category's law, with a wider band"},
	}
}

// Law returns the power law of a category (as named on the page or already normalised) and
// whether the category is known; unknown categories get the default law.
func (m *SalesModel) Law(category string) (PowerLaw, bool) {
	if p, ok := m.Categories[category]; ok {
		return p, true
	}
	if p, ok := m.Categories[NormalizeCategory(category)]; ok {
		return p, true
	}
	return m.Default, false
}

// FromRank estimates monthly units from a best-sellers rank in a category. ok is false for
// rank < 1.
func (m *SalesModel) FromRank(rank int64, category string) (Estimate, bool) {
	if rank < 1 {
		return Estimate{}, false
	}
	p, _ := m.Law(category)
	u := p.Units(rank)
	band := max(p.Band, 1)
	return Estimate{Units: u, Low: u / band, High: u * band, Method: MethodRankPowerLaw}, true
}

// Estimate estimates monthly units from what is known of a product: the bought-past-month
// lower bound where the page shows one (> 0), otherwise the best-sellers rank (> 0) in its
// category. ok is false when neither is known.
func (m *SalesModel) Estimate(boughtPastMonth, rank int64, category string) (Estimate, bool) {
	if e, ok := FromBoughtPastMonth(boughtPastMonth); ok {
		return e, true
	}
	return m.FromRank(rank, category)
}

// NormalizeCategory returns a category name as the model's table keys it: lower case, "&" as
// "and", punctuation dropped, single spaces ("Clothing, Shoes & Jewelry" is "clothing shoes and
// jewelry"). It does not allocate when the name is already normalised.
func NormalizeCategory(s string) string {
	if isNormalized(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	inWord := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '&':
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString("and")
			inWord = false
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if !inWord && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			inWord = true
		default:
			inWord = false
		}
	}
	return b.String()
}

// isNormalized reports whether s is ASCII lower-case words and digits separated by single spaces.
func isNormalized(s string) bool {
	prevSpace := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			if prevSpace {
				return false
			}
			prevSpace = true
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			prevSpace = false
		default:
			return false
		}
	}
	return !prevSpace || s == ""
}
