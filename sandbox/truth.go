package sandbox

import (
	"math"
	"strconv"
	"time"
)

// Truth is the market's state at one simulated time, served at /_truth.
type Truth struct {
	// Time is the simulated time of the state (rounded down to the market's step).
	Time string `json:"time"`
	// Epoch is the simulated time the market started.
	Epoch string `json:"epoch"`
	// Seed is the market's seed.
	Seed uint64 `json:"seed"`
	// Marketplace is the marketplace the prices are in.
	Marketplace string `json:"marketplace"`
	// Currency is the ISO 4217 code of the prices, in minor units of CurrencyExponent digits.
	Currency string `json:"currency"`
	// CurrencyExponent is the number of minor-unit digits of Currency.
	CurrencyExponent int `json:"currency_exponent"`
	// Products is every catalog product, listed or not at this time, in catalog order.
	Products []ProductTruth `json:"products"`
	// Keywords is every keyword's result pages as the pages show them.
	Keywords []KeywordTruth `json:"keywords"`
	// Anomalies are the anomalies injected so far, in time order.
	Anomalies []Anomaly `json:"anomalies"`
}

// ProductTruth is one product's state, as its product page shows it. Absent fields (omitted)
// are not shown on the page; they are never zero.
type ProductTruth struct {
	// ASIN is the product's Amazon Standard Identification Number.
	ASIN string `json:"asin"`
	// Title is the text of #productTitle.
	Title string `json:"title"`
	// Brand is the brand of "Visit the BRAND Store" (#bylineInfo).
	Brand string `json:"brand"`
	// Category is the top-level category (first breadcrumb, first Best Sellers Rank row).
	Category string `json:"category"`
	// Subcategory is the leaf category (last breadcrumb, second Best Sellers Rank row).
	Subcategory string `json:"subcategory"`
	// Active is false before the product's launch and after it leaves the marketplace; the other
	// dynamic fields are then absent and /dp/ASIN answers 404.
	Active bool `json:"active"`
	// Keywords are the keywords whose results list the product now.
	Keywords []string `json:"keywords,omitempty"`
	// Price is what the buyer pays, in minor units; absent when unavailable.
	Price int64 `json:"price,omitempty"`
	// ListPrice is the struck-through list (or typical) price; absent when not shown.
	ListPrice int64 `json:"list_price,omitempty"`
	// Currency is the ISO 4217 code of the prices.
	Currency string `json:"currency"`
	// Deal is true during a limited-time deal.
	Deal bool `json:"deal,omitempty"`
	// Rating is the average rating in stars; absent without reviews.
	Rating float64 `json:"rating,omitempty"`
	// Reviews is the number of ratings; absent when none.
	Reviews int `json:"reviews,omitempty"`
	// Histogram is the percentage of ratings with 5, 4, 3, 2 and 1 stars; absent without reviews.
	Histogram []int `json:"histogram,omitempty"`
	// BoughtPastMonth is the lower bound of "N+ bought in past month"; absent when not shown.
	BoughtPastMonth int `json:"bought_past_month,omitempty"`
	// BestSellersRanks are the "Best Sellers Rank" rows: the category, then the subcategory.
	BestSellersRanks []Rank `json:"best_sellers_ranks,omitempty"`
	// Prime is true when the page shows the Prime badge (a Prime product that is available).
	Prime bool `json:"prime"`
	// InStock is false when the page says "Currently unavailable.".
	InStock bool `json:"in_stock"`
	// Availability is the text of #availability.
	Availability string `json:"availability,omitempty"`
	// SellerCount is the number of sellers offering the product new ("New (N) from"); absent
	// when the page does not show it (a single seller, or unavailable).
	SellerCount int `json:"seller_count,omitempty"`
	// ImageURL is the main image of the product page.
	ImageURL string `json:"image_url"`
	// URL is the product page's path.
	URL string `json:"url"`
}

// Rank is a best-sellers rank in one category.
type Rank struct {
	// Category is the category as the row names it.
	Category string `json:"category"`
	// Rank is the "#N", 1 the best seller.
	Rank int `json:"rank"`
}

// KeywordTruth is one keyword's result pages.
type KeywordTruth struct {
	// Keyword is the search keyword (lower case).
	Keyword string `json:"keyword"`
	// Category is the category of the keyword's products.
	Category string `json:"category"`
	// TotalResults is the number of organic results over all pages.
	TotalResults int `json:"total_results"`
	// PageSize is the number of organic results per page.
	PageSize int `json:"page_size"`
	// Pages are the keyword's pages, in order.
	Pages []PageASINs `json:"pages"`
}

// PageASINs is one result page's cards in the order the page shows them.
type PageASINs struct {
	// Page is the 1-based page number.
	Page int `json:"page"`
	// ASINs are the data-asin of every s-search-result card, sponsored ones included.
	ASINs []string `json:"asins"`
	// Sponsored are the 1-based positions (in ASINs) of the sponsored cards.
	Sponsored []int `json:"sponsored"`
}

// PageTruth is one search result page's listings exactly as rendered, served at /_truth/keyword.
type PageTruth struct {
	// Time is the simulated time of the page (its X-Sandbox-Time).
	Time string `json:"time"`
	// Marketplace is the marketplace domain of the page.
	Marketplace string `json:"marketplace"`
	// Currency is the ISO 4217 code of the prices.
	Currency string `json:"currency"`
	// CurrencyExponent is the number of minor-unit digits of Currency.
	CurrencyExponent int `json:"currency_exponent"`
	// Keyword is the normalized search keyword.
	Keyword string `json:"keyword"`
	// Page is the 1-based page number.
	Page int `json:"page"`
	// Pages is the number of result pages of the keyword.
	Pages int `json:"pages"`
	// PageSize is the number of organic results per page.
	PageSize int `json:"page_size"`
	// TotalResults is the number of organic results over all pages.
	TotalResults int `json:"total_results"`
	// Listings are the page's s-search-result cards in order.
	Listings []Listing `json:"listings"`
}

// Listing is one result card of a search page. Absent fields (omitted) are not shown on the card.
type Listing struct {
	// ASIN is the card's data-asin.
	ASIN string `json:"asin"`
	// Position is the card's 1-based position among the page's result cards.
	Position int `json:"position"`
	// Sponsored is true for an ad (AdHolder, "Sponsored" label).
	Sponsored bool `json:"sponsored"`
	// OrganicRank is the 1-based rank among the keyword's organic results; absent when sponsored.
	OrganicRank int `json:"organic_rank,omitempty"`
	// Title is the card's h2 text.
	Title string `json:"title"`
	// Brand is the product's brand (the title's first word on these pages).
	Brand string `json:"brand"`
	// Price is in minor units of Currency; absent when the product is unavailable.
	Price int64 `json:"price,omitempty"`
	// Currency is the ISO 4217 code of the prices.
	Currency string `json:"currency"`
	// ListPrice is the struck-through "List:" or "Typical:" price; absent when not shown.
	ListPrice int64 `json:"list_price,omitempty"`
	// Rating is the average in stars as in "4.5 out of 5 stars"; absent without reviews.
	Rating float64 `json:"rating,omitempty"`
	// Reviews is the number of ratings; absent when none.
	Reviews int `json:"reviews,omitempty"`
	// BoughtPastMonth is the lower bound of "N+ bought in past month"; absent when not shown.
	BoughtPastMonth int `json:"bought_past_month,omitempty"`
	// Prime is true when the card shows the Prime badge (a Prime product that is available).
	Prime bool `json:"prime"`
	// Deal is true when the card shows a "Limited time deal" badge.
	Deal bool `json:"deal,omitempty"`
	// ImageURL is the src of the card's s-image.
	ImageURL string `json:"image_url"`
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// imageURL is the path of a product image at one of Amazon's size suffixes.
func imageURL(id, size string) string { return "/images/I/" + id + "._AC_" + size + "_.jpg" }

// cardImageSize is the image size suffix of search result cards.
const cardImageSize = "UY218"

// dpPath is a product page's canonical path.
func dpPath(p *product) string { return "/" + p.slug + "/dp/" + p.asin }

// productTruth describes a product's state in a marketplace.
func (s *Snapshot) productTruth(st *pstate, mp *Marketplace) ProductTruth {
	p := st.p
	kw := &keywordSpecs[p.kw]
	pt := ProductTruth{
		ASIN: p.asin, Title: p.title, Brand: p.brand,
		Category: categories[p.cat].name, Subcategory: kw.sub,
		Active: st.active, Currency: mp.Currency, Prime: p.prime,
		ImageURL: imageURL(p.image, "SX466"), URL: dpPath(p),
	}
	if !st.active {
		pt.Prime = false
		return pt
	}
	pt.Prime = p.prime && st.inStock
	pt.Keywords = s.m.keywordsOf(p, s.at)
	pt.InStock = st.inStock
	pt.Availability = availability(st)
	if st.inStock {
		pt.Price, pt.ListPrice = prices(st, mp)
		pt.Deal = st.onSale
	}
	if st.reviews > 0 {
		pt.Rating, pt.Reviews = st.rating, st.reviews
		h := histogram(st.rating)
		pt.Histogram = h[:]
	}
	pt.BoughtPastMonth = st.bought
	pt.BestSellersRanks = []Rank{{categories[p.cat].name, st.bsr}, {kw.sub, st.subBSR}}
	if st.inStock && st.sellers > 1 {
		pt.SellerCount = st.sellers
	}
	return pt
}

// prices are the price and the shown list price of an in-stock product, in minor units.
func prices(st *pstate, mp *Marketplace) (price, list int64) {
	price = mp.price(st.price, st.p)
	if st.list > 0 {
		if l := mp.price(st.list, st.p); l > price {
			list = l
		}
	}
	return price, list
}

// availability is the text of the product page's #availability.
func availability(st *pstate) string {
	switch {
	case !st.inStock:
		return "Currently unavailable."
	case st.stockLeft > 0:
		return "Only " + strconv.Itoa(st.stockLeft) + " left in stock - order soon."
	default:
		return "In Stock"
	}
}

// listing describes one card of a search page.
func (s *Snapshot) listing(sl slot, pos int, mp *Marketplace) Listing {
	st, p := sl.st, sl.st.p
	l := Listing{
		ASIN: p.asin, Position: pos, Sponsored: sl.sponsored, OrganicRank: sl.organicRank,
		Title: p.title, Brand: p.brand, Currency: mp.Currency, Prime: p.prime && st.inStock,
		BoughtPastMonth: st.bought, ImageURL: imageURL(p.image, cardImageSize),
	}
	if st.inStock {
		l.Price, l.ListPrice = prices(st, mp)
		l.Deal = st.onSale
	}
	if st.reviews > 0 {
		l.Rating, l.Reviews = st.rating, st.reviews
	}
	return l
}

// PageTruth returns the listings of page pg of a keyword's results at this snapshot.
func (s *Snapshot) PageTruth(keyword string, pg int, mp *Marketplace) PageTruth {
	if mp == nil {
		mp = Marketplaces[0]
	}
	pt := PageTruth{
		Time: formatTime(s.Time()), Marketplace: mp.Domain, Currency: mp.Currency, CurrencyExponent: mp.Exponent,
		Keyword: NormalizeKeyword(keyword), Page: pg, Listings: []Listing{},
	}
	kw := s.m.keywordByName(keyword)
	if kw == nil {
		return pt
	}
	sp := s.page(kw, pg)
	pt.Pages, pt.PageSize, pt.TotalResults = sp.pages, kw.pageSize, sp.total
	for i, sl := range sp.slots {
		pt.Listings = append(pt.Listings, s.listing(sl, i+1, mp))
	}
	return pt
}

// Product returns a product's state at this snapshot; false when the ASIN is not in the catalog.
func (s *Snapshot) Product(asin string, mp *Marketplace) (ProductTruth, bool) {
	if mp == nil {
		mp = Marketplaces[0]
	}
	p, ok := s.m.byASIN[asin]
	if !ok {
		return ProductTruth{}, false
	}
	return s.productTruth(&s.states[p.idx], mp), true
}

// Truth returns the whole state at this snapshot, with the anomalies injected so far.
func (s *Snapshot) Truth(mp *Marketplace) Truth {
	if mp == nil {
		mp = Marketplaces[0]
	}
	t := Truth{
		Time: formatTime(s.Time()), Epoch: formatTime(s.m.cfg.Epoch), Seed: s.m.seed,
		Marketplace: mp.Domain, Currency: mp.Currency, CurrencyExponent: mp.Exponent,
		Products: make([]ProductTruth, len(s.states)),
	}
	for i := range s.states {
		t.Products[i] = s.productTruth(&s.states[i], mp)
	}
	for _, kw := range s.m.keywords {
		kt := KeywordTruth{Keyword: kw.spec.keyword, Category: categories[kw.spec.category].name, PageSize: kw.pageSize, Pages: []PageASINs{}}
		for pg := 1; ; pg++ {
			sp := s.page(kw, pg)
			kt.TotalResults = sp.total
			if len(sp.slots) == 0 {
				break
			}
			pa := PageASINs{Page: pg, ASINs: make([]string, len(sp.slots)), Sponsored: []int{}}
			for i, sl := range sp.slots {
				pa.ASINs[i] = sl.st.p.asin
				if sl.sponsored {
					pa.Sponsored = append(pa.Sponsored, i+1)
				}
			}
			kt.Pages = append(kt.Pages, pa)
		}
		t.Keywords = append(t.Keywords, kt)
	}
	t.Anomalies = s.m.anomaliesUntil(s.at, mp)
	if t.Anomalies == nil {
		t.Anomalies = []Anomaly{}
	}
	return t
}

// histograms are the 5..1-star percentages of every rating from 1.0 to 5.0 by tenths.
var histograms = func() (h [41][5]int) {
	for i := range h {
		h[i] = computeHistogram(1 + float64(i)/10)
	}
	return h
}()

// histogram returns the 5..1-star percentages of a rating (rounded to a tenth).
func histogram(rating float64) [5]int {
	i := int(math.Round((rating - 1) * 10))
	return histograms[min(max(i, 0), 40)]
}

// computeHistogram splits ratings into 5..1-star percentages whose mean is the rating: weights
// exp(beta*stars) with beta found by bisection, rounded to whole percents summing to 100.
func computeHistogram(rating float64) [5]int {
	mean := func(beta float64) float64 {
		var num, den float64
		for k := 1; k <= 5; k++ {
			w := math.Exp(beta * float64(k))
			num += w * float64(k)
			den += w
		}
		return num / den
	}
	lo, hi := -8.0, 8.0
	for i := 0; i < 40; i++ {
		mid := (lo + hi) / 2
		if mean(mid) < rating {
			lo = mid
		} else {
			hi = mid
		}
	}
	beta := (lo + hi) / 2
	var raw [5]float64
	var den float64
	for k := 1; k <= 5; k++ {
		raw[5-k] = math.Exp(beta * float64(k))
		den += raw[5-k]
	}
	// Largest remainder rounding to 100.
	var out [5]int
	var rem [5]float64
	sum := 0
	for i := range raw {
		v := raw[i] / den * 100
		out[i] = int(v)
		rem[i] = v - float64(out[i])
		sum += out[i]
	}
	for sum < 100 {
		best := 0
		for i := 1; i < 5; i++ {
			if rem[i] > rem[best] {
				best = i
			}
		}
		out[best]++
		rem[best] = -1
		sum++
	}
	return out
}
