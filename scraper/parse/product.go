package parse

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Histogram is the star distribution of a product's ratings in percent: index 0 is one star,
// index 4 is five stars, as the page rounds them (the sum may be 99 to 101).
type Histogram [5]int

// Percent returns the percentage of ratings with the given number of stars (1-5); 0 out of range.
func (h *Histogram) Percent(stars int) int {
	if h == nil || stars < 1 || stars > 5 {
		return 0
	}
	return h[stars-1]
}

// ProductPage is what a product detail page showed.
type ProductPage struct {
	// ASIN of the product the page offers; "" only on a blocked page.
	ASIN string
	// Marketplace is the domain the page belongs to (from the options, else inferred); "" when unknown.
	Marketplace string
	// Attributes are the facts the page shows; a field it does not show is absent.
	Attributes *marketv1.ProductAttributes
	// RatingHistogram is the star distribution; nil when the page has none.
	RatingHistogram *Histogram
	// Blocked is true for a robot-check (captcha) page; nothing else is then set.
	Blocked bool
	// Warnings name what could not be read.
	Warnings []string
}

// Product reads a product detail page. It returns ErrUnrecognized (wrapped) for a page that shows
// neither an ASIN nor a product title and is not a robot check.
func Product(r io.Reader, opts Options) (*ProductPage, error) {
	doc, raw, err := load(r)
	if err != nil {
		return nil, fmt.Errorf("product page: %w", err)
	}
	e := newEnv(doc, opts)
	root := doc.Nodes[0]
	out := &ProductPage{Marketplace: e.marketplace}
	title := ""
	for _, sel := range titleSelectors {
		if title = textOf(first(root, sel)); title != "" {
			break
		}
	}
	asin := e.productASIN(root)
	if isRobotCheck(root, raw, title != "") {
		out.Blocked = true
		return out, nil
	}
	if asin == "" && title == "" {
		return nil, fmt.Errorf("product page: no ASIN and no product title: %w", ErrUnrecognized)
	}
	out.ASIN = asin
	if asin == "" {
		e.warnf("no ASIN")
	}
	a := &marketv1.ProductAttributes{}
	out.Attributes = a
	if title != "" {
		a.Title = ptr(title)
	} else {
		e.warnf("no title")
	}
	if b := productBrand(root); b != "" {
		a.Brand = ptr(b)
	}
	if c := productCategory(root); c != "" {
		a.Category = ptr(c)
	}
	e.readProductPrices(root, a)
	e.readProductRating(root, a)
	if n := first(root, selBought); n != nil {
		if v, ok := parseBought(textOf(n)); ok {
			a.BoughtPastMonth = ptr(v)
		}
	}
	a.Ranks = productRanks(root)
	a.Prime = productPrime(root)
	if n := first(root, selAvailability); n != nil {
		t := spacedTextOf(n)
		a.Availability = parseAvailability(t)
		if a.Availability == marketv1.Availability_AVAILABILITY_UNSPECIFIED && t != "" {
			e.warnf("availability %q not understood", clip(t))
		}
	}
	for _, n := range all(root, selOffers) {
		if v, ok := parseSellerCount(spacedTextOf(n)); ok {
			a.SellerCount = ptr(v)
			break
		}
	}
	if u := e.productImage(root); u != "" {
		a.ImageUrl = ptr(u)
	}
	out.RatingHistogram = e.productHistogram(root)
	out.Warnings = e.warnings
	return out, nil
}

var (
	selASINInput = cascadia.MustCompile(`input#ASIN, input[name="ASIN"], input[name="asin"]`)
	// dataASINSelectors are tried in order; they name the page's own product, unlike the data-asin
	// of carousels and ads elsewhere on the page.
	dataASINSelectors = []cascadia.Selector{
		cascadia.MustCompile(`#averageCustomerReviews[data-asin]`),
		cascadia.MustCompile(`#dp[data-asin]`),
		cascadia.MustCompile(`#ppd[data-asin], #centerCol[data-asin], #title_feature_div[data-csa-c-asin]`),
	}
	// titleSelectors are tried in order.
	titleSelectors = []cascadia.Selector{
		cascadia.MustCompile(`#productTitle`),
		cascadia.MustCompile(`#btAsinTitle, #ebooksProductTitle`),
		cascadia.MustCompile(`h1#title`),
	}
)

// productASIN returns the ASIN of the buy form, else the canonical link's, else a data-asin
// attribute's; it warns when the buy form and the canonical link disagree.
func (e *env) productASIN(root *html.Node) string {
	var canonical string
	if n := first(root, selCanonical); n != nil {
		if m := asinInURLRe.FindStringSubmatch(attr(n, "href")); m != nil {
			canonical = m[1]
		}
	}
	var form string
	if n := first(root, selASINInput); n != nil {
		if v := strings.ToUpper(strings.TrimSpace(attr(n, "value"))); asinRe.MatchString(v) {
			form = v
		}
	}
	switch {
	case form != "" && canonical != "" && form != canonical:
		e.warnf("buy form ASIN %s differs from canonical link ASIN %s; using the buy form's", form, canonical)
		return form
	case form != "":
		return form
	case canonical != "":
		return canonical
	}
	for _, sel := range dataASINSelectors {
		n := first(root, sel)
		for _, key := range []string{"data-asin", "data-csa-c-asin"} {
			if v := strings.ToUpper(strings.TrimSpace(attr(n, key))); asinRe.MatchString(v) {
				return v
			}
		}
	}
	return ""
}

var (
	selByline      = cascadia.MustCompile(`#bylineInfo, #brand, a#brand, #byline a`)
	selDetailRows  = cascadia.MustCompile(`#productDetails_techSpec_section_1 tr, #productDetails_detailBullets_sections1 tr, #productDetails_db_sections tr, table.prodDetTable tr, #productOverview_feature_div tr, #tech tr`)
	selDetailBulls = cascadia.MustCompile(`#detailBullets_feature_div li, #detailBulletsWrapper_feature_div li, #detail-bullets li, #detailBullets li`)
	selTH          = cascadia.MustCompile(`th, td.a-span3, td:first-child`)
	selTD          = cascadia.MustCompile(`td`)
	selBold        = cascadia.MustCompile(`.a-text-bold, b`)
)

// brandRes read the brand out of a byline.
var brandRes = []*regexp.Regexp{
	regexp.MustCompile(`^(?i:visit the)\s+(.+?)\s+(?i:store)$`),
	regexp.MustCompile(`^(?i:brand|marke|marca|marque|merk|märke|marka)\s*[:：]\s*(.+)$`),
	regexp.MustCompile(`^ブランド\s*[:：]\s*(.+)$`),
	regexp.MustCompile(`^(?i:besuchen sie den|besuche den)\s+(.+?)[-\s]store$`),
	regexp.MustCompile(`^(?i:visita la tienda de|visite a loja da|visite a loja de|visitez la boutique)\s+(.+)$`),
	regexp.MustCompile(`^(?i:visita lo store di)\s+(.+)$`),
	regexp.MustCompile(`^(.+?)のストアを表示$`),
	regexp.MustCompile(`^(?i:by)\s+(.+)$`),
}

// brandLabels are the row names of the brand in product detail tables, lower-cased.
var brandLabels = map[string]bool{"brand": true, "brand name": true, "marke": true, "marca": true, "marque": true, "merk": true, "ブランド": true, "ブランド名": true, "品牌": true}

// productBrand reads the brand from the byline ("Visit the X Store", "Brand: X"), else from the
// detail table's Brand row.
func productBrand(root *html.Node) string {
	if n := first(root, selByline); n != nil {
		t := textOf(n)
		for _, re := range brandRes {
			if m := re.FindStringSubmatch(t); m != nil {
				if b := strings.TrimSpace(m[1]); b != "" {
					return b
				}
			}
		}
	}
	for _, row := range detailRows(root) {
		if brandLabels[strings.ToLower(row[0])] {
			return row[1]
		}
	}
	return ""
}

// detailRows returns the (label, value) pairs of the product details tables and bullets.
func detailRows(root *html.Node) [][2]string {
	var out [][2]string
	for _, tr := range all(root, selDetailRows) {
		th := first(tr, selTH)
		td := first(tr, selTD)
		if th == nil || td == nil || th == td {
			continue
		}
		out = append(out, [2]string{strings.Trim(textOf(th), " :："), textOf(td)})
	}
	for _, li := range all(root, selDetailBulls) {
		b := first(li, selBold)
		if b == nil {
			continue
		}
		label := strings.Trim(textOf(b), " :：")
		value := strings.TrimSpace(strings.TrimPrefix(textOf(li), textOf(b)))
		out = append(out, [2]string{label, strings.TrimLeft(value, " :：")})
	}
	return out
}

var selBreadcrumb = cascadia.MustCompile(`#wayfinding-breadcrumbs_feature_div li a, #wayfinding-breadcrumbs_container li a, .a-breadcrumb li a`)

// productCategory returns the last breadcrumb.
func productCategory(root *html.Node) string {
	crumbs := all(root, selBreadcrumb)
	for i := len(crumbs) - 1; i >= 0; i-- {
		if t := textOf(crumbs[i]); t != "" && t != "›" {
			return t
		}
	}
	return ""
}

// priceSelectors are tried in order for the price a buyer pays.
var priceSelectors = []cascadia.Selector{
	cascadia.MustCompile(`#corePriceDisplay_desktop_feature_div .priceToPay, #corePrice_desktop .priceToPay, #corePrice_feature_div .priceToPay, #apex_desktop .priceToPay, #apex_offerDisplay_desktop .priceToPay`),
	cascadia.MustCompile(`#corePrice_feature_div .apexPriceToPay, #corePrice_desktop .apexPriceToPay, #apex_desktop .apexPriceToPay`),
	cascadia.MustCompile(`#apex-pricetopay-accessibility-label`),
	cascadia.MustCompile(`#corePrice_feature_div .a-price:not(.a-text-price), #corePriceDisplay_desktop_feature_div .a-price:not(.a-text-price)`),
	cascadia.MustCompile(`#priceblock_dealprice`),
	cascadia.MustCompile(`#priceblock_saleprice`),
	cascadia.MustCompile(`#priceblock_ourprice`),
	cascadia.MustCompile(`#price_inside_buybox, #newBuyBoxPrice, #kindle-price, #tp_price_block_total_price_ww`),
}

// listPriceSelectors are tried in order for the struck-through list price.
var listPriceSelectors = []cascadia.Selector{
	cascadia.MustCompile(`#corePriceDisplay_desktop_feature_div .basisPrice .a-price, #corePrice_desktop .basisPrice .a-price, #corePrice_feature_div .basisPrice .a-price`),
	cascadia.MustCompile(`#corePriceDisplay_desktop_feature_div .a-price[data-a-strike="true"], #corePrice_desktop .a-price[data-a-strike="true"], #corePrice_feature_div .a-price[data-a-strike="true"], #apex_desktop .a-price[data-a-strike="true"]`),
	cascadia.MustCompile(`#listPrice, #priceblock_ourprice_row .a-text-strike, #price .a-text-strike, span.priceBlockStrikePriceString`),
}

// readProductPrices reads the price and the list price.
func (e *env) readProductPrices(root *html.Node, a *marketv1.ProductAttributes) {
	var errs []string
	for _, sel := range priceSelectors {
		n := first(root, sel)
		if n == nil {
			continue
		}
		m, err := e.readPrice(n)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		a.Price = m
		break
	}
	if a.Price == nil {
		if len(errs) > 0 {
			e.warnf("price: %s", errs[0])
		} else {
			e.warnf("no price shown")
		}
	}
	for _, sel := range listPriceSelectors {
		n := first(root, sel)
		if n == nil {
			continue
		}
		m, err := e.readPrice(n)
		if err != nil {
			e.warnf("list price: %v", err)
			continue
		}
		a.ListPrice = m
		return
	}
}

var (
	selRatingTitle = cascadia.MustCompile(`#acrPopover`)
	selRatingAlt   = cascadia.MustCompile(`#acrPopover .a-icon-alt, #averageCustomerReviews .a-icon-alt, [data-hook="rating-out-of-text"]`)
	selReviewCount = cascadia.MustCompile(`#acrCustomerReviewText, [data-hook="total-review-count"], #acrCustomerReviewLink`)
)

// readProductRating reads the average rating and the number of ratings.
func (e *env) readProductRating(root *html.Node, a *marketv1.ProductAttributes) {
	var tried []string
	if n := first(root, selRatingTitle); n != nil {
		tried = append(tried, clean(attr(n, "title")))
	}
	for _, n := range all(root, selRatingAlt) {
		tried = append(tried, textOf(n))
		if len(tried) > 4 {
			break
		}
	}
	for _, t := range tried {
		if v, ok := parseRating(t); ok {
			a.Rating = ptr(v)
			break
		}
	}
	if a.Rating == nil && len(tried) > 0 && strings.Join(tried, "") != "" {
		e.warnf("rating %q not understood", clip(strings.Join(tried, " / ")))
	}
	for _, n := range all(root, selReviewCount) {
		for _, t := range []string{textOf(n), clean(attr(n, "aria-label"))} {
			if v, ok := parseCount(t); ok {
				a.ReviewCount = ptr(v)
				return
			}
		}
	}
}

var selBought = cascadia.MustCompile(`#social-proofing-faceout-title-tk_bought, [id^="social-proofing-faceout-title"]`)

// rankLabels are the names of the best-sellers rank row, lower-cased.
var rankLabels = []string{"best sellers rank", "best-sellers rank", "amazon bestseller-rang", "bestseller-rang", "clasificación en los más vendidos", "ranking dos mais vendidos", "classement des meilleures ventes", "posizione nella classifica bestseller", "売れ筋ランキング", "amazon 売れ筋ランキング", "bestsellerrang", "亚马逊热销商品排名"}

var (
	selSalesRank = cascadia.MustCompile(`#SalesRank`)
	selLi        = cascadia.MustCompile(`li`)
)

// productRanks reads the best-sellers ranks, main category first.
func productRanks(root *html.Node) []*marketv1.BestSellersRank {
	isRankLabel := func(s string) bool {
		l := strings.ToLower(strings.Trim(s, " :："))
		for _, r := range rankLabels {
			if strings.Contains(l, r) {
				return true
			}
		}
		return false
	}
	for _, tr := range all(root, selDetailRows) {
		th, td := first(tr, selTH), first(tr, selTD)
		if th == nil || td == nil || th == td || !isRankLabel(textOf(th)) {
			continue
		}
		if ranks := parseRanks(lineTexts(td)); len(ranks) > 0 {
			return ranks
		}
	}
	for _, li := range all(root, selDetailBulls) {
		b := first(li, selBold)
		if b == nil || !isRankLabel(textOf(b)) {
			continue
		}
		// The value is the li's text after its label; nested lists give one rank each.
		lines := []string{strings.TrimPrefix(textOf(li), textOf(b))}
		if nested := all(li, selLi); len(nested) > 0 {
			lines = []string{textOfExcept(li, nested, b)}
			for _, n := range nested {
				lines = append(lines, textOf(n))
			}
		}
		if ranks := parseRanks(lines); len(ranks) > 0 {
			return ranks
		}
	}
	if n := first(root, selSalesRank); n != nil {
		return parseRanks(lineTexts(n))
	}
	return nil
}

// lineTexts returns the texts of a value cell: one per list item when it has a list, else its text.
func lineTexts(n *html.Node) []string {
	if items := all(n, selLi); len(items) > 0 {
		out := make([]string, 0, len(items))
		for _, li := range items {
			out = append(out, textOf(li))
		}
		return out
	}
	return []string{textOf(n)}
}

// textOfExcept returns n's text without the text of the excluded subtrees.
func textOfExcept(n *html.Node, skip []*html.Node, label *html.Node) string {
	skipSet := map[*html.Node]bool{label: true}
	for _, s := range skip {
		skipSet[s] = true
	}
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(c *html.Node) {
		if skipSet[c] {
			return
		}
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
			return
		}
		if c.Type == html.ElementNode && (c.Data == "script" || c.Data == "style") {
			return
		}
		for k := c.FirstChild; k != nil; k = k.NextSibling {
			walk(k)
		}
	}
	walk(n)
	return clean(b.String())
}

var (
	selBuyBox         = cascadia.MustCompile(`#buybox, #desktop_buybox, #apex_desktop, #corePriceDisplay_desktop_feature_div, #price, #priceblock_ourprice_row, #deliveryBlockMessage, #mir-layout-DELIVERY_BLOCK`)
	selPrimeInBuyBox  = cascadia.MustCompile(`[class*="a-icon-prime"], #primeBadge, #prime-badge, [aria-label="Amazon Prime"], [aria-label="Prime"]`)
	selDeliveryInfo   = cascadia.MustCompile(`#deliveryBlockMessage, #mir-layout-DELIVERY_BLOCK, #delivery-message, #ddmDeliveryMessage`)
	primeDeliveryText = regexp.MustCompile(`(?i)prime members|join prime|free prime delivery|prime-mitglieder|miembros prime|membros prime|membres prime|プライム会員`)
)

// productPrime reads whether the offer is Prime: a Prime badge in the buy box, or a delivery message
// that offers Prime delivery, says true; delivery messages without either say false; no delivery
// message says nothing.
func productPrime(root *html.Node) *bool {
	for _, box := range all(root, selBuyBox) {
		if first(box, selPrimeInBuyBox) != nil {
			return ptr(true)
		}
	}
	said := false
	for _, d := range all(root, selDeliveryInfo) {
		t := spacedTextOf(d)
		if primeDeliveryText.MatchString(t) {
			return ptr(true)
		}
		said = said || t != ""
	}
	if said {
		return ptr(false)
	}
	return nil
}

var (
	selAvailability = cascadia.MustCompile(`#availability, #outOfStock, #availabilityInsideBuyBox_feature_div`)
	selOffers       = cascadia.MustCompile(`#olp_feature_div, #olpLinkWidget_feature_div, .olp-text-box, #aod-ingress-link, #buybox-see-all-buying-choices, #mbc, #olp-upd-new, #olp-new`)
	selMainImage    = cascadia.MustCompile(`#landingImage, #imgBlkFront, #ebooksImgBlkFront, #main-image, #imgTagWrapperId img`)
	selOGImage      = cascadia.MustCompile(`meta[property="og:image"]`)
)

// productImage returns the main image: its high-resolution URL, else src, else the first dynamic
// image, else the og:image.
func (e *env) productImage(root *html.Node) string {
	if img := first(root, selMainImage); img != nil {
		if u := e.resolve(attr(img, "data-old-hires")); u != "" {
			return u
		}
		if u := e.imageURL(img); u != "" {
			return u
		}
		// data-a-dynamic-image maps each size's URL to [width, height]: take the widest.
		var dyn map[string][]int
		if json.Unmarshal([]byte(attr(img, "data-a-dynamic-image")), &dyn) == nil {
			best, bestW := "", -1
			for k, wh := range dyn {
				w := 0
				if len(wh) > 0 {
					w = wh[0]
				}
				if w > bestW || (w == bestW && k < best) {
					best, bestW = k, w
				}
			}
			if u := e.resolve(best); u != "" {
				return u
			}
		}
	}
	if m := first(root, selOGImage); m != nil {
		return e.resolve(attr(m, "content"))
	}
	return ""
}

var (
	selHistogram  = cascadia.MustCompile(`#histogramTable, #cm_cr_dp_d_rating_histogram, [data-hook="histogram"], .cr-widget-histogram`)
	selMeter      = cascadia.MustCompile(`.a-meter`)
	selMeterBar   = cascadia.MustCompile(`.a-meter-bar`)
	selHistRow    = cascadia.MustCompile(`li, tr, a[aria-label]`)
	histLabelRe   = regexp.MustCompile(`(\d{1,3})\s*(?:%|percent|per cent|prozent|por ciento|por cento|pour cent|per cento|procent)`)
	histStarsRe   = regexp.MustCompile(`(?i)([1-5])\s*(?:stars?|sterne?n?|estrellas?|estrelas?|étoiles?|stelle|sterren|gwiazd)|星\s*([1-5])|([1-5])\s*つ星`)
	widthRe       = regexp.MustCompile(`width:\s*(\d{1,3})(?:\.\d+)?%`)
	percentTextRe = regexp.MustCompile(`(\d{1,3})\s*%`)
)

// productHistogram reads the 1-to-5-star distribution: one meter per row, the percentage from the
// row's label, meter value or bar width, the stars from the label, else from the row order (Amazon
// lists five stars first). nil when there is no complete histogram.
func (e *env) productHistogram(root *html.Node) *Histogram {
	box := first(root, selHistogram)
	if box == nil {
		return nil
	}
	meters := all(box, selMeter)
	if len(meters) == 0 {
		e.warnf("rating histogram without meters")
		return nil
	}
	if len(meters) != 5 {
		e.warnf("rating histogram has %d rows, want 5", len(meters))
		return nil
	}
	var h Histogram
	seen := [5]bool{}
	for i, m := range meters {
		row := closest(m, selHistRow)
		label := ""
		if row != nil {
			label = attr(row, "aria-label")
			if label == "" {
				if a := first(row, selAriaLabel); a != nil {
					label = attr(a, "aria-label")
				}
			}
		}
		stars := 5 - i
		if mm := histStarsRe.FindStringSubmatch(label); mm != nil {
			stars, _ = strconv.Atoi(mm[1] + mm[2] + mm[3])
		}
		pct, ok := -1, false
		if mm := histLabelRe.FindStringSubmatch(strings.ToLower(label)); mm != nil {
			pct, _ = strconv.Atoi(mm[1])
			ok = true
		}
		if !ok {
			if v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(attr(m, "aria-valuenow")), "%")); err == nil {
				pct, ok = v, true
			}
		}
		if !ok {
			if bar := first(m, selMeterBar); bar != nil {
				if mm := widthRe.FindStringSubmatch(attr(bar, "style")); mm != nil {
					pct, _ = strconv.Atoi(mm[1])
					ok = true
				}
			}
		}
		if !ok && row != nil {
			if mm := percentTextRe.FindAllStringSubmatch(textOf(row), -1); len(mm) > 0 {
				pct, _ = strconv.Atoi(mm[len(mm)-1][1])
				ok = true
			}
		}
		if !ok || pct < 0 || pct > 100 || stars < 1 || stars > 5 || seen[stars-1] {
			e.warnf("rating histogram row %d not understood", i+1)
			return nil
		}
		seen[stars-1] = true
		h[stars-1] = pct
	}
	sum := 0
	for _, v := range h {
		sum += v
	}
	if sum < 97 || sum > 103 {
		e.warnf("rating histogram sums to %d%%", sum)
	}
	return &h
}
