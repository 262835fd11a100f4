package sandbox

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// pageTemplates are the rare pages (robot check, errors), written with html/template.
var pageTemplates = template.Must(template.New("pages").ParseFS(templateFS, "templates/*.tmpl"))

// bufPool recycles render buffers.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page template into a fresh byte slice.
func render(name string, view any) ([]byte, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := pageTemplates.ExecuteTemplate(buf, name, view); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return bytes.Clone(buf.Bytes()), nil
}

// Layout is a search page layout.
type Layout string

// The search page layouts.
const (
	// LayoutList is the one-column list of wide cards (Amazon's default for most searches).
	LayoutList Layout = "list"
	// LayoutGrid is the grid of small cards.
	LayoutGrid Layout = "grid"
)

// siteView holds what every page shows.
type siteView struct {
	MP        *Marketplace
	SiteName  string
	BodyClass string
	Keyword   string
}

// cardView is one result card.
type cardView struct {
	ASIN, UUID  string
	Index       int
	Position    int
	ComponentID int
	Sponsored   bool
	// The *HTML fields are escaped already: written as they are.
	HrefHTML     string
	TitleHTML    string
	AltHTML      string
	ImageHTML    string
	Image2xHTML  string
	Title        string
	HasRating    bool
	Rating       string
	Stars        string
	ReviewsFull  string
	ReviewsShort string
	Bought       template.HTML
	Deal         bool
	HasPrice     bool
	Price        priceParts
	HasList      bool
	List         priceParts
	ListLabel    string
	Prime        bool
	FastDate     string
	SlowDate     string
	ShippingFee  string
	FreeOver     string
	Offers       int
	OfferFrom    string
}

// itemView is an entry of the results: a card or a carousel widget.
type itemView struct {
	Card     *cardView
	Index    int
	Carousel []*cardView
}

type pageLink struct {
	N        int
	URL      string
	Current  bool
	Ellipsis bool
}

// searchView is a search result page.
type searchView struct {
	siteView
	Canonical       string
	Grid            bool
	Total           int
	Pages           int
	RangeText       string
	Items           []itemView
	PaginationIndex int
	PrevURL         string
	PrevPage        int
	NextURL         string
	NextPage        int
	PageLinks       []pageLink
}

// histRow is a row of the ratings histogram.
type histRow struct {
	Stars int
	Word  string
	Pct   int
}

type crumb struct {
	Name string
	Href string
	Last bool
}

// productView is a product page.
type productView struct {
	siteView
	ASIN              string
	Title             string
	Brand             string
	StoreID           string
	Canonical         string
	Image, ImageHires string
	Category          string
	CategorySlug      string
	Sub               string
	SubNode           int64
	Breadcrumbs       []crumb
	HasRating         bool
	Rating            string
	Stars             string
	ReviewsFull       string
	Histogram         []histRow
	Bought            template.HTML
	HasPrice          bool
	Deal              bool
	Price             priceParts
	HasList           bool
	List              priceParts
	ListLabel         string
	Savings           int
	Availability      string
	AvailabilityClass string
	Prime             bool
	FastDate          string
	SlowDate          string
	ShippingFee       string
	ShipsFrom         string
	SoldBy            string
	MerchantID        string
	SessionID         string
	Offers            int
	OfferFrom         priceParts
	BSR               string
	SubBSR            string
	Model             string
	Dimensions        string
	FirstAvailable    string
	DetailBullets     bool
	Bullets           []string
}

// errorView is a robot-check, not-found, unavailable or throttled page.
type errorView struct {
	siteView
	Token  string
	Return string
	Image  string
	Dog    string
}

func site(mp *Marketplace, kw string) siteView {
	return siteView{MP: mp, SiteName: mp.siteName, BodyClass: mp.bodyClass, Keyword: kw}
}

// boughtLabel writes a bought-past-month bucket: 50+, 300+, 1K+, 20K+ (digits and "K+" only,
// so it is safe HTML, written with a literal "+" as Amazon does).
func boughtLabel(n int) template.HTML {
	switch {
	case n == 0:
		return ""
	case n >= 1000:
		return template.HTML(strconv.Itoa(n/1000) + "K+")
	default:
		return template.HTML(strconv.Itoa(n) + "+")
	}
}

// groupThousands writes n with comma grouping (English text such as review counts and ranks).
func groupThousands(n int) string { return Marketplaces[0].group(int64(n)) }

// shortCount writes a review count as search cards do: 381, 1K, 1.5K, 84.7K, 1.2M (truncated).
func shortCount(n int) string {
	unitOf := func(v int, div int, suffix string) string {
		whole, tenth := v/div, v%div*10/div
		if tenth == 0 || whole >= 100 {
			return strconv.Itoa(whole) + suffix
		}
		return strconv.Itoa(whole) + "." + strconv.Itoa(tenth) + suffix
	}
	switch {
	case n < 1000:
		return strconv.Itoa(n)
	case n < 1_000_000:
		return unitOf(n, 1000, "K")
	default:
		return unitOf(n, 1_000_000, "M")
	}
}

// starClass is the half-star suffix of the star icon class: 4.2 -> "4", 4.3 -> "4-5", 4.8 -> "5".
func starClass(r float64) string {
	halves := int(r*2 + 0.5)
	if halves%2 == 0 {
		return strconv.Itoa(halves / 2)
	}
	return strconv.Itoa(halves/2) + "-5"
}

func formatRating(r float64) string { return strconv.FormatFloat(r, 'f', 1, 64) }

// uuidOf makes a deterministic UUID-shaped id.
func uuidOf(seed uint64, a, b, c uint64) string {
	const hexdigits = "0123456789abcdef"
	var buf [36]byte
	h := [2]uint64{hash3(seed, saltUUID, a, b, c), hash3(seed, saltUUID, a, b, c+1)}
	j := 0
	for i := 0; i < 32; i++ {
		switch i {
		case 8, 12, 16, 20:
			buf[j] = '-'
			j++
		}
		nib := byte(h[i/16] >> (60 - 4*(i%16)) & 15)
		switch i {
		case 12:
			nib = 4 // version 4
		case 16:
			nib = 8 | nib&3 // variant
		}
		buf[j] = hexdigits[nib]
		j++
	}
	return string(buf[:])
}

// searchURL is the path of a search result page.
func searchURL(kw string, page int, layout Layout, mp *Marketplace, mpParam bool, qid int64) string {
	v := url.Values{}
	v.Set("k", kw)
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if layout == LayoutGrid {
		v.Set("layout", string(layout))
	}
	if mpParam {
		v.Set("mp", mp.Domain)
	}
	v.Set("qid", strconv.FormatInt(qid, 10))
	v.Set("ref", "sr_pg_"+strconv.Itoa(page))
	return "/s?" + v.Encode()
}

// searchRequest is what a search page request asks for.
type searchRequest struct {
	keyword string // as typed, normalized
	page    int
	layout  Layout
	mp      *Marketplace
	mpParam bool // the marketplace came from ?mp=, so links keep it
}

// deliveryDates are the delivery dates a page promises: Prime in two days, others in five.
func (s *Snapshot) deliveryDates() (fast, slow string) {
	t := s.Time()
	return t.Add(48 * time.Hour).Format("Mon, Jan 2"), t.Add(5 * 24 * time.Hour).Format("Mon, Jan 2")
}

// pageConst is what every card of a page shares.
type pageConst struct {
	qid         int64
	kwEscaped   string
	fastDate    string
	slowDate    string
	shippingFee string
	freeOver    string
}

func (s *Snapshot) pageConst(req searchRequest) *pageConst {
	pc := &pageConst{qid: s.Time().Unix(), kwEscaped: url.QueryEscape(req.keyword)}
	pc.fastDate, pc.slowDate = s.deliveryDates()
	// Fees are round amounts in every currency.
	fee := &product{idx: 0}
	pc.shippingFee = req.mp.Format(req.mp.price(6.99, fee))
	pc.freeOver = req.mp.Format(req.mp.price(35, fee))
	return pc
}

// card builds the view of one result card.
func (s *Snapshot) card(sl slot, pos, index int, req searchRequest, pc *pageConst) *cardView {
	st, p, mp, qid := sl.st, sl.st.p, req.mp, pc.qid
	b := make([]byte, 0, 160)
	b = append(b, '/')
	b = append(b, p.slug...)
	b = append(b, "/dp/"...)
	b = append(b, p.asin...)
	b = append(b, "/ref=sr_1_"...)
	b = strconv.AppendInt(b, int64(pos), 10)
	b = append(b, "?keywords="...)
	b = append(b, pc.kwEscaped...)
	b = append(b, "&qid="...)
	b = strconv.AppendInt(b, qid, 10)
	b = append(b, "&sr=8-"...)
	b = strconv.AppendInt(b, int64(pos), 10)
	href := string(b)
	if sl.sponsored {
		href = "/sspa/click?ie=UTF8&spc=" + uuidOf(s.m.seed, uint64(p.idx), uint64(qid), 7) + "&url=" + url.QueryEscape(href+"&sp_csd=d2lkZ2V0TmFtZT1zcF9hdGY&psc=1")
	}
	c := &cardView{
		ASIN: p.asin, UUID: uuidOf(s.m.seed, uint64(p.idx), uint64(qid), uint64(pos)),
		Index: index, Position: pos, ComponentID: 10 + index, Sponsored: sl.sponsored,
		HrefHTML: escapeHTML(href), Title: p.title, TitleHTML: p.html.title, AltHTML: p.html.title,
		ImageHTML: p.html.cardImage, Image2xHTML: p.html.cardImage2x,
		Prime: p.prime && st.inStock, Bought: boughtLabel(st.bought),
	}
	if sl.sponsored {
		c.AltHTML = p.html.sponsoredAlt
	}
	if st.reviews > 0 {
		c.HasRating = true
		c.Rating = formatRating(st.rating)
		c.Stars = starClass(st.rating)
		c.ReviewsFull = groupThousands(st.reviews)
		c.ReviewsShort = shortCount(st.reviews)
	}
	if st.inStock {
		price, list := prices(st, mp)
		c.HasPrice, c.Price = true, mp.parts(price)
		c.Deal = st.onSale
		if list > 0 {
			c.HasList, c.List = true, mp.parts(list)
			c.ListLabel = "List:"
			if p.listRatio == 0 {
				c.ListLabel = "Typical:"
			}
		}
		c.FastDate, c.SlowDate = pc.fastDate, pc.slowDate
		c.ShippingFee, c.FreeOver = pc.shippingFee, pc.freeOver
		if st.sellers >= 3 {
			c.Offers = st.sellers
			c.OfferFrom = mp.Format(mp.price(st.price*0.93, p))
		}
	}
	return c
}

// searchPageView builds the view of a search result page. Its cards come from the same
// composition (page) and the same product states as the truth's listings (PageTruth).
func (s *Snapshot) searchPageView(req searchRequest) *searchView {
	mp := req.mp
	pc := s.pageConst(req)
	qid := pc.qid
	v := &searchView{siteView: site(mp, req.keyword), Grid: req.layout == LayoutGrid}
	v.Canonical = "https://www." + mp.Domain + "/s?k=" + url.QueryEscape(req.keyword)
	kw := s.m.keywordByName(req.keyword)
	if kw == nil {
		return v
	}
	sp := s.page(kw, req.page)
	v.Total, v.Pages = len(sp.slots), sp.pages
	if sp.from > 0 {
		v.RangeText = fmt.Sprintf("%d-%d of %s results for", sp.from, sp.to, groupThousands(sp.total))
	}
	index := 1
	for i, sl := range sp.slots {
		pos := i + 1
		c := s.card(sl, pos, index, req, pc)
		v.Items = append(v.Items, itemView{Card: c})
		index++
		if pos == 4 && len(sp.carousel) > 0 {
			it := itemView{Index: index}
			for j, st := range sp.carousel {
				it.Carousel = append(it.Carousel, s.card(slot{st: st, sponsored: true}, 100+j, index, req, pc))
			}
			v.Items = append(v.Items, it)
			index++
		}
	}
	v.PaginationIndex = index
	link := func(n int) string { return searchURL(req.keyword, n, req.layout, mp, req.mpParam, qid) }
	if req.page > 1 && req.page <= sp.pages {
		v.PrevURL, v.PrevPage = link(req.page-1), req.page-1
	}
	if req.page < sp.pages {
		v.NextURL, v.NextPage = link(req.page+1), req.page+1
	}
	// Pages 1-3 around the current one, an ellipsis, the last page (as Amazon shows them).
	last := 0
	for n := 1; n <= sp.pages; n++ {
		if n == 1 || n == sp.pages || (n >= req.page-1 && n <= req.page+1) {
			if last != 0 && n > last+1 {
				v.PageLinks = append(v.PageLinks, pageLink{Ellipsis: true})
			}
			v.PageLinks = append(v.PageLinks, pageLink{N: n, URL: link(n), Current: n == req.page})
			last = n
		}
	}
	return v
}

// productPageView builds the view of a product page; false when the product is not listed.
func (s *Snapshot) productPageView(asin string, mp *Marketplace) (*productView, bool) {
	p, ok := s.m.byASIN[asin]
	if !ok {
		return nil, false
	}
	st := &s.states[p.idx]
	if !st.active {
		return nil, false
	}
	spec := &keywordSpecs[p.kw]
	cat := categories[p.cat]
	v := &productView{
		siteView: site(mp, ""),
		ASIN:     p.asin, Title: p.title, Brand: p.brand,
		StoreID:   uuidOf(s.m.seed, uint64(p.idx), 0, 11),
		Canonical: "https://www." + mp.Domain + dpPath(p),
		Image:     imageURL(p.image, "SX466"), ImageHires: imageURL(p.image, "SL1500"),
		Category: cat.name, CategorySlug: cat.slug, Sub: spec.sub, SubNode: spec.subNode,
		Breadcrumbs: []crumb{
			{Name: cat.name, Href: "/" + cat.slug + "/b/ref=dp_bc_1?ie=UTF8&node=" + strconv.FormatInt(cat.node, 10)},
			{Name: spec.mid, Href: "/b/ref=dp_bc_2?ie=UTF8&node=" + strconv.FormatInt(spec.subNode/10, 10)},
			{Name: spec.sub, Href: "/b/ref=dp_bc_3?ie=UTF8&node=" + strconv.FormatInt(spec.subNode, 10), Last: true},
		},
		Bought:         boughtLabel(st.bought),
		Prime:          p.prime,
		Availability:   availability(st),
		Model:          p.model,
		Dimensions:     fmt.Sprintf("%.1f x %.1f x %.1f inches; %.1f ounces", 2+float64(p.idx%7), 1+float64(p.idx%5), 0.5+float64(p.idx%3), 3+float64(p.idx%40)),
		FirstAvailable: p.firstAvail.Format("January 2, 2006"),
		DetailBullets:  cat.detailBullets,
		MerchantID:     "A" + strings.ToUpper(uuidOf(s.m.seed, uint64(p.idx), 0, 12)[:13]),
		SessionID:      fmt.Sprintf("%03d-%07d-%07d", p.idx%1000, hash3(s.m.seed, saltUUID, uint64(p.idx), 1, 0)%10_000_000, uint64(s.at)%10_000_000),
		SoldBy:         p.seller,
	}
	v.ShipsFrom = "Amazon"
	if !p.prime {
		v.ShipsFrom = p.seller
	}
	for _, f := range spec.features {
		v.Bullets = append(v.Bullets, strings.ToUpper(f[:1])+f[1:]+": designed by "+p.brand+" for "+spec.uses[len(v.Bullets)%len(spec.uses)]+".")
	}
	if st.reviews > 0 {
		v.HasRating = true
		v.Rating, v.Stars, v.ReviewsFull = formatRating(st.rating), starClass(st.rating), groupThousands(st.reviews)
		h := histogram(st.rating)
		words := []string{"five", "four", "three", "two", "one"}
		for i, pct := range h {
			v.Histogram = append(v.Histogram, histRow{Stars: 5 - i, Word: words[i], Pct: pct})
		}
	}
	v.AvailabilityClass = "a-color-success"
	if st.inStock {
		price, list := prices(st, mp)
		v.HasPrice, v.Price = true, mp.parts(price)
		v.Deal = st.onSale
		if list > 0 {
			v.HasList, v.List = true, mp.parts(list)
			v.ListLabel = "List Price:"
			if p.listRatio == 0 {
				v.ListLabel = "Typical price:"
			}
			v.Savings = int(100 - price*100/list)
		}
		v.FastDate, v.SlowDate = s.deliveryDates()
		v.ShippingFee = mp.Format(mp.price(6.99, &product{}))
		if st.stockLeft > 0 {
			v.AvailabilityClass = "a-color-price"
		}
		if st.sellers > 1 {
			v.Offers = st.sellers
			v.OfferFrom = mp.parts(price)
		}
	} else {
		v.AvailabilityClass = "a-color-price"
	}
	if st.bsr > 0 {
		v.BSR, v.SubBSR = groupThousands(st.bsr), groupThousands(st.subBSR)
	}
	return v, true
}
