package parse

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// SearchPage is what a search-results page showed.
type SearchPage struct {
	// Marketplace is the domain the page belongs to (from the options, else inferred from the page);
	// "" when unknown.
	Marketplace string
	// Keyword is the query as the page's search box shows it; "" when not shown.
	Keyword string
	// Page is the 1-based page number; 0 when the page does not tell.
	Page int32
	// TotalResults is the total the page claims ("1-48 of over 2,000 results" gives 2000); nil when
	// not shown.
	TotalResults *int64
	// Listings are the result cards in page order, sponsored ones included. A card without an ASIN
	// is skipped (and named in Warnings) but still counts for the positions of the cards after it.
	Listings []*marketv1.Listing
	// Blocked is true for a robot-check (captcha) page; it then has no listings.
	Blocked bool
	// NoResults is true when the page says that nothing matched the query.
	NoResults bool
	// Warnings name what could not be read, per card ("card 3 (B0...): price ...").
	Warnings []string
}

// Search reads a search-results page. It returns ErrUnrecognized (wrapped) for a page that has no
// result cards and is neither a robot check nor a "no results" page; any other page gives a
// SearchPage, however little of it could be read.
func Search(r io.Reader, opts Options) (*SearchPage, error) {
	doc, raw, err := load(r)
	if err != nil {
		return nil, fmt.Errorf("search page: %w", err)
	}
	e := newEnv(doc, opts)
	root := doc.Nodes[0]
	out := &SearchPage{Marketplace: e.marketplace}
	cards := resultCards(root)
	if isRobotCheck(root, raw, len(cards) > 0) {
		out.Blocked = true
		return out, nil
	}
	out.Keyword = searchKeyword(root)
	e.readResultCount(root, out)
	out.Page = e.searchPageNumber(root)
	if len(cards) == 0 {
		if saysNoResults(root) {
			out.NoResults = true
			return out, nil
		}
		return nil, fmt.Errorf("search page: no result cards, no robot check, no \"no results\" message: %w", ErrUnrecognized)
	}
	detachNested(cards)
	for i, card := range cards {
		if l := e.readCard(card, int32(i+1)); l != nil {
			out.Listings = append(out.Listings, l)
		}
	}
	out.Warnings = e.warnings
	return out, nil
}

var (
	selCard    = cascadia.MustCompile(`[data-component-type="s-search-result"]`)
	selOldCard = cascadia.MustCompile(`li.s-result-item[data-asin], div.s-result-item[data-asin]`)
)

// resultCards returns the result cards of a page in order: the current markup's
// s-search-result components, else the older s-result-item elements that carry an ASIN.
func resultCards(root *html.Node) []*html.Node {
	if cards := all(root, selCard); len(cards) > 0 {
		return cards
	}
	var out []*html.Node
	isCard := map[*html.Node]bool{}
	for _, n := range all(root, selOldCard) {
		if strings.TrimSpace(attr(n, "data-asin")) == "" {
			continue
		}
		nested := false
		for p := n.Parent; p != nil && !nested; p = p.Parent {
			nested = isCard[p]
		}
		if nested {
			continue // an item inside a card (a carousel, a variation) is not a result of its own
		}
		isCard[n] = true
		out = append(out, n)
	}
	return out
}

// detachNested takes a card that sits inside another card (an unclosed tag in the page nests every
// later card into the earlier one) out of the tree, so that each card reads only its own content.
func detachNested(cards []*html.Node) {
	isCard := make(map[*html.Node]bool, len(cards))
	for _, c := range cards {
		isCard[c] = true
	}
	for _, c := range cards {
		for p := c.Parent; p != nil; p = p.Parent {
			if isCard[p] {
				c.Parent.RemoveChild(c)
				break
			}
		}
	}
}

var (
	selSearchBox = cascadia.MustCompile(`input#twotabsearchtextbox, input[name="field-keywords"]`)
	selInfoBar   = cascadia.MustCompile(`[data-component-type="s-result-info-bar"], #s-result-info-bar, #s-result-count, .s-desktop-toolbar`)
	selKeyword   = cascadia.MustCompile(`.a-color-state`)
	selSpanOnly  = cascadia.MustCompile(`span`)
)

// searchKeyword returns the query in the search box, else the quoted query of the result count.
func searchKeyword(root *html.Node) string {
	if n := first(root, selSearchBox); n != nil {
		if v := clean(attr(n, "value")); v != "" {
			return v
		}
	}
	if bar := first(root, selInfoBar); bar != nil {
		if n := first(bar, selKeyword); n != nil {
			return strings.Trim(textOf(n), "\"“”„«»「」 ")
		}
	}
	return ""
}

// readResultCount fills TotalResults from the result-count line; it remembers the page's first
// result number for searchPageNumber.
func (e *env) readResultCount(root *html.Node, out *SearchPage) {
	bar := first(root, selInfoBar)
	if bar == nil {
		return
	}
	candidates := append(all(bar, selSpanOnly), bar)
	for _, n := range candidates {
		if hasClass(n, "a-color-state") || within(n, bar, selKeyword) {
			continue
		}
		t := textOf(n)
		if !strings.ContainsAny(t, "0123456789") || len(t) > 400 {
			continue
		}
		total, ok, firstResult, _ := parseResultCount(t)
		if ok {
			out.TotalResults = ptr(total)
		}
		if firstResult > 0 {
			e.firstResult = firstResult
		}
		if ok || firstResult > 0 {
			return
		}
	}
}

var selPagination = cascadia.MustCompile(`.s-pagination-selected, .s-pagination-item[aria-current="page"], ul.a-pagination li.a-selected, #pagnCur, .pagnCur`)

// searchPageNumber returns the page number from the pagination strip, else from the page URL, else 1
// when the first result shown is result 1; 0 when nothing tells.
func (e *env) searchPageNumber(root *html.Node) int32 {
	if n := first(root, selPagination); n != nil {
		if v, err := strconv.ParseInt(textOf(n), 10, 32); err == nil && v > 0 {
			return int32(v)
		}
	}
	if e.base != nil {
		if v, err := strconv.ParseInt(e.base.Query().Get("page"), 10, 32); err == nil && v > 0 {
			return int32(v)
		}
	}
	if e.firstResult == 1 {
		return 1
	}
	return 0
}

var asinRe = regexp.MustCompile(`^[A-Z0-9]{10}$`)

// asinInURLRe finds an ASIN in a product link ("/dp/B0...", "/gp/product/B0...", or the same
// URL-encoded inside a sponsored click URL).
var asinInURLRe = regexp.MustCompile(`(?:/|%2F)(?:dp|gp/product|gp%2Fproduct)(?:/|%2F)([A-Z0-9]{10})`)

var (
	selTitleRecipe   = cascadia.MustCompile(`[data-cy="title-recipe"]`)
	selH2            = cascadia.MustCompile(`h2`)
	selLink          = cascadia.MustCompile(`a`)
	selOldTitle      = cascadia.MustCompile(`a.s-access-detail-page, a.s-link-style h2, span.a-text-normal`)
	selByLine        = cascadia.MustCompile(`div.a-row.a-size-base.a-color-secondary, div.a-row.a-spacing-none, div.a-row.a-spacing-mini`)
	selPriceRecipe   = cascadia.MustCompile(`[data-cy="price-recipe"]`)
	selSecondary     = cascadia.MustCompile(`[data-cy="secondary-offer-recipe"]`)
	selAPrice        = cascadia.MustCompile(`span.a-price`)
	selOldPrice      = cascadia.MustCompile(`span.sx-price, span.s-price, span.a-color-price`)
	selStrike        = cascadia.MustCompile(`span.a-price[data-a-strike="true"], span.a-text-strike`)
	selReviewsBlock  = cascadia.MustCompile(`[data-cy="reviews-block"]`)
	selStarAlt       = cascadia.MustCompile(`i[class*="a-icon-star"] .a-icon-alt, span.a-icon-alt`)
	selAriaLabel     = cascadia.MustCompile(`[aria-label]`)
	selReviewLink    = cascadia.MustCompile(`a[href*="customerReviews"], a[href*="#reviews"]`)
	selUnderline     = cascadia.MustCompile(`span.s-underline-text`)
	selPrimeBadge    = cascadia.MustCompile(`[class*="a-icon-prime"], [aria-label="Amazon Prime"], .s-prime, [data-component-type="s-prime-badge"]`)
	selPrimeUpsell   = cascadia.MustCompile(`.prime-signup-ingress, [data-ingress-id*="prime"]`)
	selCardImage     = cascadia.MustCompile(`img.s-image, img.s-access-image`)
	selSponsorMarker = cascadia.MustCompile(`.puis-sponsored-label-text, .s-sponsored-label-text, .s-sponsored-header, .s-sponsored-list-header, .puis-sponsored-label-info-icon, .s-sponsored-label-info-icon, [data-component-type="sp-sponsored-result"]`)
	selShortText     = cascadia.MustCompile(`span, h5, div.a-row`)
)

// sponsoredWords are the labels of a sponsored card.
var sponsoredWords = map[string]bool{
	"sponsored": true, "gesponsert": true, "patrocinado": true, "sponsorisé": true, "sponsorizzato": true,
	"スポンサー": true, "gesponsord": true, "sponsrad": true, "sponsorowane": true, "sponsorlu": true,
	"ممول": true, "प्रायोजित": true, "赞助": true, "sponsored ad": true,
}

// sponsoredPrefixes start a title's aria-label on sponsored cards.
var sponsoredPrefixes = func() []string {
	var out []string
	for _, p := range []string{"Sponsored Ad", "Anuncio patrocinado", "Gesponserte Anzeige", "Anúncio patrocinado", "Annonce sponsorisée", "Annuncio sponsorizzato", "スポンサー広告"} {
		out = append(out, p+" - ", p+" – ")
	}
	return out
}()

// readCard reads one result card; nil when it has no ASIN.
func (e *env) readCard(card *html.Node, pos int32) *marketv1.Listing {
	asin := cardASIN(card)
	if asin == "" {
		e.warnf("card %d: no ASIN, skipped", pos)
		return nil
	}
	where := fmt.Sprintf("card %d (%s)", pos, asin)
	a := &marketv1.ProductAttributes{}
	l := &marketv1.Listing{Asin: asin, Position: pos, Sponsored: ptr(isSponsored(card)), Attributes: a}

	titleH2, brand := cardTitle(card)
	if t := titleText(titleH2); t != "" {
		a.Title = ptr(t)
	} else if n := first(card, selOldTitle); n != nil {
		if t := clean(attr(n, "title")); t != "" {
			a.Title = ptr(t)
		} else if t := textOf(n); t != "" {
			a.Title = ptr(t)
		}
	}
	if a.Title == nil {
		e.warnf("%s: no title", where)
	}
	if brand != "" {
		a.Brand = ptr(brand)
	}

	e.readCardPrices(card, a, where)

	e.readCardRating(card, a, where)
	if v, ok := cardReviewCount(card); ok {
		a.ReviewCount = ptr(v)
	}
	if v, ok := cardBought(card); ok {
		a.BoughtPastMonth = ptr(v)
	}
	a.Prime = cardPrime(card)
	if img := first(card, selCardImage); img != nil {
		if u := e.imageURL(img); u != "" {
			a.ImageUrl = ptr(u)
		}
	}
	return l
}

// readCardRating reads the star rating from the first icon text that is one; an icon text with digits
// that is not understood is named in the warnings.
func (e *env) readCardRating(card *html.Node, a *marketv1.ProductAttributes, where string) {
	unread := ""
	for _, n := range all(card, selStarAlt) {
		t := textOf(n)
		if v, ok := parseRating(t); ok {
			a.Rating = ptr(v)
			return
		}
		if unread == "" && strings.ContainsAny(t, "0123456789") {
			unread = t
		}
	}
	if unread != "" {
		e.warnf("%s: rating %q not understood", where, clip(unread))
	}
}

// cardASIN returns a card's ASIN from data-asin, else from its product link; "" when neither is valid.
func cardASIN(card *html.Node) string {
	if a := strings.ToUpper(strings.TrimSpace(attr(card, "data-asin"))); asinRe.MatchString(a) {
		return a
	}
	for _, n := range all(card, selLink) {
		if m := asinInURLRe.FindStringSubmatch(attr(n, "href")); m != nil {
			return m[1]
		}
	}
	return ""
}

// isSponsored reports whether a card carries a sponsored label in any of the forms Amazon used.
func isSponsored(card *html.Node) bool {
	if hasClass(card, "AdHolder") || first(card, selSponsorMarker) != nil {
		return true
	}
	if h := first(card, selH2); h != nil {
		label := attr(h, "aria-label")
		for _, p := range sponsoredPrefixes {
			if strings.HasPrefix(label, p) {
				return true
			}
		}
	}
	for _, n := range all(card, selShortText) {
		if n.FirstChild == nil || n.FirstChild != n.LastChild || n.FirstChild.Type != html.TextNode {
			continue // only elements holding one text node: labels, not containers
		}
		t := strings.ToLower(clean(n.FirstChild.Data))
		if len(t) < 40 && sponsoredWords[t] {
			return true
		}
	}
	return false
}

// cardTitle finds the title heading of a card and the brand line above it, if any: in the grid
// layout the brand is a heading of its own that is not a link.
func cardTitle(card *html.Node) (title *html.Node, brand string) {
	scope := first(card, selTitleRecipe)
	if scope == nil {
		scope = card
	}
	h2s := all(scope, selH2)
	for _, h := range h2s {
		if within(h, scope, selLink) || hasClass(h, "a-text-normal") || attr(h, "aria-label") != "" {
			title = h
			break
		}
	}
	if title == nil && len(h2s) > 0 {
		title = h2s[len(h2s)-1]
	}
	for _, h := range h2s {
		if h != title && !within(h, scope, selLink) {
			if t := textOf(h); t != "" && len(t) < 80 {
				brand = t
				break
			}
		}
	}
	if brand == "" {
		brand = byLineBrand(card)
	}
	return title, brand
}

// byLineBrand reads the older "by Anker" line under a title.
func byLineBrand(card *html.Node) string {
	for _, n := range all(card, selByLine) {
		t := spacedTextOf(n)
		for _, p := range []string{"by ", "von "} {
			if strings.HasPrefix(t, p) {
				b := strings.TrimSpace(strings.TrimPrefix(t, p))
				if i := strings.Index(b, " | "); i >= 0 {
					b = b[:i]
				}
				if b != "" && len(b) < 80 {
					return b
				}
			}
		}
	}
	return ""
}

// titleText returns a title heading's text, else its aria-label without the sponsored prefix.
func titleText(h *html.Node) string {
	if h == nil {
		return ""
	}
	if t := textOf(h); t != "" {
		return t
	}
	label := clean(attr(h, "aria-label"))
	for _, p := range sponsoredPrefixes {
		label = strings.TrimPrefix(label, p)
	}
	return label
}

// readCardPrices reads the price and struck-through list price of a card, from its price block when
// it has one; prices under "More Buying Choices" are not the card's price.
func (e *env) readCardPrices(card *html.Node, a *marketv1.ProductAttributes, where string) {
	scope := first(card, selPriceRecipe)
	if scope == nil {
		scope = card
	}
	var priceNode, listNode *html.Node
	for _, n := range all(scope, selAPrice) {
		if within(n, scope, selSecondary) {
			continue
		}
		strike := attr(n, "data-a-strike") == "true"
		if strike && listNode == nil {
			listNode = n
		}
		if !strike && !hasClass(n, "a-text-price") && priceNode == nil {
			priceNode = n
		}
	}
	if priceNode == nil {
		for _, n := range all(scope, selOldPrice) {
			if !within(n, scope, selSecondary) && !within(n, scope, selStrike) {
				priceNode = n
				break
			}
		}
	}
	if listNode == nil {
		if n := first(scope, selStrike); n != nil && !within(n, scope, selSecondary) {
			listNode = n
		}
	}
	if priceNode == nil {
		e.warnf("%s: no price shown", where)
	} else if m, err := e.readPrice(priceNode); err != nil {
		e.warnf("%s: price: %v", where, err)
	} else {
		a.Price = m
	}
	if listNode != nil {
		if m, err := e.readPrice(listNode); err != nil {
			e.warnf("%s: list price: %v", where, err)
		} else {
			a.ListPrice = m
		}
	}
}

var (
	selOffscreen  = cascadia.MustCompile(`.a-offscreen`)
	selAriaHidden = cascadia.MustCompile(`[aria-hidden="true"]`)
	selSxWhole    = cascadia.MustCompile(`.sx-price-whole, .a-price-whole`)
	selSxFrac     = cascadia.MustCompile(`.sx-price-fractional, .a-price-fraction`)
	selSxCurrency = cascadia.MustCompile(`.sx-price-currency, .a-price-symbol`)
)

// readPrice reads a price element: its screen-reader text, else its visible text, else the parts
// (symbol, whole, fraction) the older markup splits a price into.
func (e *env) readPrice(n *html.Node) (*marketv1.Money, error) {
	var texts []string
	if o := first(n, selOffscreen); o != nil {
		texts = append(texts, textOf(o))
	}
	if h := first(n, selAriaHidden); h != nil {
		texts = append(texts, textOf(h))
	}
	if w := first(n, selSxWhole); w != nil {
		whole := strings.TrimRight(textOf(w), ".,")
		frac := textOf(first(n, selSxFrac))
		sym := textOf(first(n, selSxCurrency))
		dec := "."
		if loc, ok := localeOf(e.marketplace); ok {
			dec = string(loc.decimal)
		}
		if frac != "" {
			texts = append(texts, sym+whole+dec+frac)
		} else {
			texts = append(texts, sym+whole)
		}
	}
	texts = append(texts, textOf(n))
	var firstErr error
	for _, t := range texts {
		if strings.TrimSpace(t) == "" {
			continue
		}
		m, err := ParsePrice(t, e.marketplace)
		if err == nil {
			return m, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("parse price %q: %w", "", ErrNoPrice)
	}
	return nil, firstErr
}

// reviewLabelRe matches a count label such as "84,753 ratings" or "1.234 Bewertungen".
var reviewLabelRe = regexp.MustCompile(`^\(?\s*[\d.,' ]+\s*[KkM]?\s*\)?\s*\pL`)

// starWords mark aria-labels about the star rating rather than the count.
var starWords = []string{"star", "stern", "estrell", "estrel", "étoile", "stell", "ster", "星", "gwiazd", "yıldız"}

// cardReviewCount reads a card's number of ratings: the count link's aria-label ("84,753 ratings"),
// else a review link's text, else the abbreviated "(84.7K)".
func cardReviewCount(card *html.Node) (int64, bool) {
	scope := first(card, selReviewsBlock)
	if scope == nil {
		scope = card
	}
	for _, n := range all(scope, selAriaLabel) {
		label := clean(attr(n, "aria-label"))
		if !reviewLabelRe.MatchString(label) || isStarLabel(label) {
			continue
		}
		if v, ok := parseCount(label); ok {
			return v, true
		}
	}
	for _, n := range all(scope, selReviewLink) {
		t := textOf(n)
		if isStarLabel(t) {
			continue
		}
		if v, ok := parseCount(t); ok {
			return v, true
		}
	}
	for _, n := range all(scope, selUnderline) {
		t := strings.Trim(textOf(n), "() ")
		if t != "" && strings.Trim(t, "0123456789.,KkM ") == "" {
			if v, ok := parseCount(t); ok {
				return v, true
			}
		}
	}
	return 0, false
}

// isStarLabel reports whether a label speaks of stars (a rating, not a count).
func isStarLabel(s string) bool {
	l := strings.ToLower(s)
	for _, w := range starWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	_, ok := parseRating(s)
	return ok
}

// cardBought reads a card's "N+ bought in past month" badge.
func cardBought(card *html.Node) (int64, bool) {
	for _, n := range all(card, selSpanOnly) {
		t := textOf(n)
		if len(t) > 120 {
			continue
		}
		if v, ok := parseBought(t); ok {
			return v, true
		}
	}
	return 0, false
}

// cardPrime reads whether a card's offer is Prime: a Prime badge, or the "Join Prime to get FREE
// delivery" upsell that Amazon shows visitors only on Prime-eligible offers, says true; a delivery
// line with neither says false; a card without a delivery line says nothing.
func cardPrime(card *html.Node) *bool {
	if first(card, selPrimeBadge) != nil || first(card, selPrimeUpsell) != nil {
		return ptr(true)
	}
	if first(card, selDeliveryBlock) != nil {
		return ptr(false)
	}
	return nil
}

var selDeliveryBlock = cascadia.MustCompile(`[data-cy="delivery-recipe"], .udm-delivery-block`)

// imageURL returns an image's URL: src unless it is a placeholder, else data-src, else the first
// srcset entry.
func (e *env) imageURL(img *html.Node) string {
	if u := e.resolve(attr(img, "src")); u != "" && !strings.Contains(u, "grey-pixel") && !strings.Contains(u, "transparent-pixel") {
		return u
	}
	if u := e.resolve(attr(img, "data-src")); u != "" {
		return u
	}
	if f := strings.Fields(attr(img, "srcset")); len(f) > 0 {
		return e.resolve(f[0])
	}
	return ""
}
