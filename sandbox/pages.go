package sandbox

import "net/url"

// The search and product pages, written with htmlw. The markup mirrors Amazon's real pages
// (shared/fixtures/amazon), compacted: the elements, classes, ids and attributes a parser of the
// real pages relies on are kept, in the same nesting; scripts, styles and most tracking
// attributes are left out.

func writeNavbar(w *htmlw, v *siteView) {
	w.raw(`<header id="navbar-main" class="nav-opt-sprite nav-flex nav-locale-us nav-lang-en nav-ssl nav-unrec nav-progressive-attribute"><div id="navbar" cel_widget_id="Navigation-desktop-navbar" role="navigation" class="nav-sprite-v1 celwidget nav-bluebeacon nav-a11y-t1 bold-focus-hover layout2 nav-flex layout3 layout3-alt nav-packard-glow hamburger using-mouse"><div id="nav-belt"><div class="nav-left"><div id="nav-logo"><a href="/ref=nav_logo" id="nav-logo-sprites" class="nav-logo-link nav-progressive-attribute" aria-label="`)
	w.esc(v.SiteName)
	w.raw(`"><span class="nav-sprite nav-logo-base"></span></a></div></div><div class="nav-fill" id="nav-fill-search"><form id="nav-search-bar-form" accept-charset="utf-8" action="/s/ref=nb_sb_noss" class="nav-searchbar nav-progressive-attribute" method="GET" name="site-search" role="search"><div class="nav-fill"><div class="nav-search-field "><label for="twotabsearchtextbox" style="display: none;">Search Amazon</label><input type="text" id="twotabsearchtextbox" value="`)
	w.esc(v.Keyword)
	w.raw(`" name="field-keywords" autocomplete="off" placeholder="Search Amazon" class="nav-input nav-progressive-attribute" dir="auto" tabindex="0" aria-label="Search Amazon" role="searchbox" spellcheck="false"></div></div><div class="nav-right"><div class="nav-search-submit nav-sprite"><span id="nav-search-submit-text" class="nav-search-submit-text nav-sprite nav-progressive-attribute" aria-label="Go"><input id="nav-search-submit-button" type="submit" class="nav-input nav-progressive-attribute" value="Go" tabindex="0"></span></div></div></form></div></div></div></header>
`)
}

func writeFooter(w *htmlw, v *siteView) {
	w.raw(`<div id="navFooter" class="navLeftFooter nav-sprite-v1" role="contentinfo"><div class="navFooterLine navFooterLinkLine navFooterPadItemLine"><ul><li class="nav_first"><a href="/gp/help/customer/display.html?nodeId=508088" class="nav_a">Conditions of Use</a></li><li><a href="/gp/help/customer/display.html?nodeId=468496" class="nav_a">Privacy Notice</a></li><li class="nav_last"><span>© 1996-2026, `)
	w.esc(v.SiteName)
	w.raw(`, Inc. or its affiliates</span></li></ul></div></div>
`)
}

func writeHead(w *htmlw, v *siteView) {
	w.raw(`<!doctype html><html lang="`)
	w.esc(v.MP.Lang)
	w.raw(`" class="a-no-js" data-19ax5a9jf="dingo"><head><meta charset="utf-8">
`)
}

func writeBodyOpen(w *htmlw, v *siteView) {
	w.raw(`<body class="`)
	w.esc(v.BodyClass)
	w.raw(` a-aui_72554-c a-meter-animate"><div id="a-page">
`)
	writeNavbar(w, v)
}

// writeSearch writes a search result page.
func writeSearch(w *htmlw, v *searchView) {
	writeHead(w, &v.siteView)
	w.raw(`<meta http-equiv="x-dns-prefetch-control" content="on">
<title>`)
	w.esc(v.SiteName)
	w.raw(` : `)
	w.esc(v.Keyword)
	w.raw(`</title>
<link rel="canonical" href="`)
	w.esc(v.Canonical)
	w.raw(`">
</head>
`)
	writeBodyOpen(w, &v.siteView)
	w.raw(`<div id="search">
<span data-component-type="s-result-info-bar" class="rush-component" data-component-id="1"><div cel_widget_id="UPPER-RESULT_INFO_BAR-0" class="s-widget-container s-spacing-small s-widget-container-height-small celwidget slot=UPPER template=RESULT_INFO_BAR widgetId=result-info-bar" data-cel-widget="UPPER-RESULT_INFO_BAR-0"><h1 class="a-size-base s-desktop-toolbar a-text-normal"><div class="s-desktop-width-max sg-row-align-items-center s-wide-grid-style sg-row"><div class="sg-col-14-of-20 sg-col-18-of-24 sg-col s-breadcrumb sg-col-10-of-16 sg-col-6-of-12"><div class="sg-col-inner"><h2 class="a-size-base a-spacing-small a-spacing-top-small a-text-normal">`)
	if v.Total > 0 {
		w.raw(`<span>`)
		w.esc(v.RangeText)
		w.raw(`</span><span> </span><span class="a-color-state a-text-bold">"`)
		w.esc(v.Keyword)
		w.raw(`"</span>`)
	} else {
		w.raw(`<span>No results for </span><span class="a-color-state a-text-bold">`)
		w.esc(v.Keyword)
		w.raw(`</span>`)
	}
	w.raw(`</h2></div></div><div class="sg-col-6-of-12 sg-col-6-of-16 sg-col-6-of-20 sg-col-6-of-24 sg-col"><div class="sg-col-inner"><form method="get" action="/s" class="aok-inline-block a-spacing-none"><input type="hidden" name="k" value="`)
	w.esc(v.Keyword)
	w.raw(`"><span class="a-dropdown-container"><label for="s-result-sort-select" class="a-native-dropdown">Sort by:</label><select name="s" autocomplete="off" id="s-result-sort-select" tabindex="0" class="a-native-dropdown a-declarative"><option value="relevanceblender" selected>Featured</option><option value="price-asc-rank">Price: Low to High</option><option value="price-desc-rank">Price: High to Low</option><option value="review-rank">Avg. Customer Review</option><option value="date-desc-rank">Newest Arrivals</option><option value="exact-aware-popularity-rank">Best Sellers</option></select></span></form></div></div></div></h1></div></span>
<div class="s-desktop-width-max s-desktop-content s-opposite-dir s-wide-grid-style sg-row"><div class="sg-col-20-of-24 s-matching-dir sg-col-16-of-20 sg-col sg-col-8-of-12 sg-col-12-of-16"><div class="sg-col-inner">
<div id="s-skipLinkTargetForMainSearchResults" tabindex="-1"></div>
<span data-component-type="s-search-results" class="rush-component s-latency-cf-section" data-component-id="2"><div class="s-main-slot s-result-list s-search-results sg-row">
`)
	for i := range v.Items {
		it := &v.Items[i]
		switch {
		case it.Card == nil:
			writeCarousel(w, it)
		case v.Grid:
			writeGridCard(w, it.Card)
		default:
			writeListCard(w, it.Card)
		}
		w.raw("\n")
	}
	if v.Total == 0 {
		w.raw(`<div class="sg-col-20-of-24 s-result-item sg-col-0-of-12 sg-col-16-of-20 s-widget sg-col sg-col-12-of-16" data-asin="" data-index="0"><div class="sg-col-inner"><div class="a-section a-spacing-none s-no-results-result"><span class="a-size-medium a-color-base">No results for </span><span class="a-size-medium a-color-base a-text-bold">`)
		w.esc(v.Keyword)
		w.raw(`.</span><div class="a-row"><span class="a-size-base">Try checking your spelling or use more general terms</span></div></div></div></div>
`)
	}
	if v.Pages > 1 {
		writePagination(w, v)
	}
	w.raw(`</div></span>
</div></div></div>
</div>
`)
	writeFooter(w, &v.siteView)
	w.raw(`</div></body></html>
`)
}

func writeSponsoredLabel(w *htmlw, c *cardView) {
	w.raw(`<div class="a-row a-spacing-micro"><span class="a-declarative" data-action="a-popover" data-a-popover="{&quot;closeButtonLabel&quot;:&quot;Close&quot;,&quot;closeButton&quot;:&quot;true&quot;,&quot;dataStrategy&quot;:&quot;preload&quot;,&quot;name&quot;:&quot;sp-info-popover-`)
	w.esc(c.ASIN)
	w.raw(`&quot;,&quot;position&quot;:&quot;triggerVertical&quot;,&quot;popoverLabel&quot;:&quot;View Sponsored information or leave ad feedback&quot;}"><a href="javascript:void(0)" role="button" style="text-decoration: none;" class="puis-label-popover puis-sponsored-label-text"><span class="puis-label-popover-default"><span aria-label="View Sponsored information or leave ad feedback" class="a-color-secondary">Sponsored</span></span><span class="puis-label-popover-hover"><span aria-hidden="true" class="a-color-base">Sponsored</span></span> <span class="aok-inline-block puis-sponsored-label-info-icon"></span></a></span><div class="a-popover-preload" id="a-popover-sp-info-popover-`)
	w.esc(c.ASIN)
	w.raw(`"><div class="puis"><span>You’re seeing this ad based on the product’s relevance to your search query.</span><div class="a-row"><a class="a-link-normal s-underline-text s-underline-link-text null s-link-style" href="#"><span>Leave ad feedback</span> </a></div></div></div></div>`)
}

// writeCardOpen writes the s-search-result container of a card down to its s-card-container.
func writeCardOpen(w *htmlw, c *cardView, colClasses, containerClasses string) {
	w.raw(`<div role="listitem" data-asin="`)
	w.esc(c.ASIN)
	w.raw(`" data-index="`)
	w.int(c.Index)
	w.raw(`" data-uuid="`)
	w.esc(c.UUID)
	w.raw(`" id="`)
	w.esc(c.UUID)
	w.raw(`" data-component-type="s-search-result" class="`)
	w.raw(colClasses)
	w.raw(`" data-component-id="`)
	w.int(c.ComponentID)
	w.raw(`" data-cel-widget="search_result_`)
	w.int(c.Index)
	w.raw(`"><div class="sg-col-inner"><div cel_widget_id="MAIN-SEARCH_RESULTS-`)
	w.int(c.Index)
	w.raw(`" class="s-widget-container s-spacing-small s-widget-container-height-small celwidget slot=MAIN template=SEARCH_RESULTS widgetId=search-results_`)
	w.int(c.Position)
	w.raw(`" data-csa-c-type="item" data-csa-c-item-id="amzn1.asin.1.`)
	w.esc(c.ASIN)
	w.raw(`" data-csa-c-pos="`)
	w.int(c.Position)
	w.raw(`" data-cel-widget="MAIN-SEARCH_RESULTS-`)
	w.int(c.Index)
	w.raw(`">`)
	if c.Sponsored {
		w.raw(`<div data-component-type="s-impression-logger" class="rush-component"><div data-component-type="s-impression-counter" class="rush-component s-featured-result-item ">`)
	}
	w.raw(`<span class="a-declarative" data-action="puis-card-container-declarative" data-csa-c-item-id="amzn1.asin.`)
	w.esc(c.ASIN)
	w.raw(`" data-csa-c-posx="`)
	w.int(c.Position)
	w.raw(`" data-csa-c-type="item" data-csa-c-owner="puis"><div class="`)
	w.raw(containerClasses)
	w.raw(`" data-cy="asin-faceout-container">`)
}

func writeCardClose(w *htmlw, c *cardView) {
	w.raw(`</span>`)
	if c.Sponsored {
		w.raw(`</div></div>`)
	}
	w.raw(`</div></div></div>`)
}

func writeImage(w *htmlw, c *cardView, wrapperClass string) {
	w.raw(`<span data-component-type="s-product-image" class="rush-component"><a aria-hidden="true" class="a-link-normal s-no-outline" tabindex="-1" href="`)
	w.raw(c.HrefHTML)
	w.raw(`"><div class="`)
	w.raw(wrapperClass)
	w.raw(`"><img class="s-image" src="`)
	w.raw(c.ImageHTML)
	w.raw(`" srcset="`)
	w.raw(c.ImageHTML)
	w.raw(` 1x, `)
	w.raw(c.Image2xHTML)
	w.raw(` 2x" alt="`)
	w.raw(c.AltHTML)
	w.raw(`" aria-hidden="true" data-image-index="`)
	w.int(c.Position)
	w.raw(`" data-image-load="" data-image-latency="s-product-image" data-image-source-density="1"></div></a></span>`)
}

func writeBought(w *htmlw, c *cardView) {
	if c.Bought == "" {
		return
	}
	w.raw(`<div class="a-row a-size-base"><span class="a-size-base a-color-secondary">`)
	w.esc(string(c.Bought))
	w.raw(` bought in past month</span></div>`)
}

func writeDealBadge(w *htmlw, c *cardView) {
	if !c.Deal {
		return
	}
	w.raw(`<div class="a-row"><a class="a-link-normal" href="/deals"><span id="DEAL_`)
	w.esc(c.ASIN)
	w.raw(`" class="a-badge" data-a-badge-type="deal"><span id="DEAL_`)
	w.esc(c.ASIN)
	w.raw(`-label" class="a-badge-label" data-a-badge-color="sx-red-mvt"><span class="a-badge-label-inner a-text-ellipsis"><span class="a-badge-text" data-a-badge-color="sx-cloud">Limited time deal</span></span></span></span></a></div>`)
}

func writeListPrice(w *htmlw, c *cardView) {
	w.raw(`<span class="a-price a-text-price" data-a-size="b" data-a-strike="true" data-a-color="secondary"><span class="a-offscreen">`)
	w.esc(c.List.Text)
	w.raw(`</span><span aria-hidden="true">`)
	w.esc(c.List.Text)
	w.raw(`</span></span>`)
}

func writeAddToCart(w *htmlw, c *cardView) {
	w.raw(`<div class="a-section a-spacing-none a-spacing-top-mini"><div class="a-row"><div class="a-section puis-cta-capsule puis-cta-capsule-container-displacement"><div class="puis-atcb-container puis-cta-row-displacement" data-cy="add-to-cart"><div class="a-section puis-atcb-add-container"><div data-asin="`)
	w.esc(c.ASIN)
	w.raw(`" class="a-section atc-faceout-container"><form method="post" action="/cart/add-to-cart?ref=sr_atc_rt_add_d_`)
	w.int(c.Position)
	w.raw(`&amp;discoveredAsins.0=`)
	w.esc(c.ASIN)
	w.raw(`" class="a-spacing-none"><input type="hidden" name="items[0.base][asin]" value="`)
	w.esc(c.ASIN)
	w.raw(`"><input type="hidden" name="items[0.base][quantity]" value="1"><span class="a-button a-button-primary a-button-icon puis-atcb-button"><span class="a-button-inner"><i class="a-icon a-icon-cart"></i><input name="submit.addToCart" aria-label="Add to cart" class="a-button-input" type="submit"><span class="a-button-text" aria-hidden="true">Add to cart</span></span></span></form></div></div></div></div></div></div>`)
}

// writeListCard writes a result card of the list layout.
func writeListCard(w *htmlw, c *cardView) {
	cls := `sg-col-20-of-24 s-result-item s-asin sg-col-0-of-12 sg-col-16-of-20 sg-col s-widget-spacing-small sg-col-12-of-16`
	if c.Sponsored {
		cls = `sg-col-20-of-24 s-result-item s-asin sg-col-0-of-12 sg-col-16-of-20 AdHolder sg-col s-widget-spacing-small sg-col-12-of-16`
	}
	writeCardOpen(w, c, cls, `puis-card-container puis-overflow-hidden s-card-container aok-relative desktop-list-view puis-include-content-margin puis s-latency-cf-section puis-card-border`)
	w.raw(`<div class="a-section"><div class="puisg-row">
<div class="puisg-col puisg-col-4-of-4 puisg-col-4-of-8 puisg-col-4-of-12 puisg-col-4-of-16 puisg-col-4-of-20 puisg-col-4-of-24 puis-list-col-left"><div class="puisg-col-inner"><div class="a-section a-spacing-none aok-relative puis-status-badge-container s-list-status-badge-container"></div><div class="s-product-image-container aok-relative s-text-center s-image-overlay-grey puis-image-overlay-grey s-padding-left-small s-padding-right-small puis-flex-expand-height" data-cy="image-container"><div class="aok-relative">`)
	writeImage(w, c, "a-section aok-relative s-image-fixed-height")
	w.raw(`</div></div></div></div>
<div class="puisg-col puisg-col-0-of-4 puisg-col-0-of-8 puisg-col-4-of-12 puisg-col-8-of-16 puisg-col-12-of-20 puisg-col-12-of-24 puis-list-col-right"><div class="puisg-col-inner"><div class="a-section a-spacing-small a-spacing-top-small">
<div data-cy="title-recipe" class="a-section a-spacing-none puis-padding-right-small s-title-instructions-style">`)
	if c.Sponsored {
		writeSponsoredLabel(w, c)
	}
	w.raw(`<span data-component-type="s-client-side-analytics" class="rush-component"><div style="display: block" class="s-csa-instrumentation-wrapper alf-search-csa-instrumentation-wrapper" data-csa-c-type="alf-af-component" data-csa-c-content-id="alf-asin-title" data-csa-c-slot-id="alf-title-block" data-csa-c-layout="LIST" data-csa-c-asin="`)
	w.esc(c.ASIN)
	w.raw(`"><a class="a-link-normal s-line-clamp-2 puis-line-clamp-3-for-col-4-and-8 s-link-style a-text-normal" href="`)
	w.raw(c.HrefHTML)
	w.raw(`"><h2 aria-label="`)
	w.raw(c.AltHTML)
	w.raw(`" class="a-size-medium a-spacing-none a-color-base a-text-normal"><span>`)
	w.raw(c.TitleHTML)
	w.raw(`</span></h2></a> </div></span></div>
<div data-cy="reviews-block" class="a-section a-spacing-none a-spacing-top-micro">`)
	if c.HasRating {
		w.raw(`<div class="a-row a-size-small"><span aria-hidden="true" class="a-size-small a-color-base">`)
		w.esc(c.Rating)
		w.raw(`</span><span class="a-declarative" data-action="a-popover" data-a-popover="{&quot;url&quot;:&quot;/review/widgets/average-customer-review/popover/ref=acr_search__popover?ie=UTF8&amp;asin=`)
		w.esc(c.ASIN)
		w.raw(`&quot;,&quot;position&quot;:&quot;triggerBottom&quot;}"><a aria-label="`)
		w.esc(c.Rating)
		w.raw(` out of 5 stars, rating details" href="javascript:void(0)" role="button" class="a-popover-trigger a-declarative mvt-review-star-mini-popover"><i data-cy="reviews-ratings-slot" aria-hidden="true" class="a-icon a-icon-star-mini a-star-mini-`)
		w.esc(c.Stars)
		w.raw(` mvt-review-star-mini mvt-review-star-with-margin"><span class="a-icon-alt">`)
		w.esc(c.Rating)
		w.raw(` out of 5 stars</span></i><i class="a-icon a-icon-popover"></i></a></span> <span data-component-type="s-client-side-analytics" class="rush-component"><div style="display: inline-block" class="s-csa-instrumentation-wrapper alf-search-csa-instrumentation-wrapper" data-csa-c-type="alf-af-component" data-csa-c-content-id="alf-customer-ratings-count-component" data-csa-c-slot-id="alf-reviews" data-csa-c-layout="LIST" data-csa-c-asin="`)
		w.esc(c.ASIN)
		w.raw(`"><a aria-label="`)
		w.esc(c.ReviewsFull)
		w.raw(` ratings" class="a-link-normal s-underline-text s-underline-link-text null s-link-style" href="`)
		w.raw(c.HrefHTML)
		w.raw(`#customerReviews"><span aria-hidden="true" class="a-size-mini puis-normal-weight-text s-underline-text">(`)
		w.esc(c.ReviewsShort)
		w.raw(`)</span> </a> </div></span></div>`)
	}
	writeBought(w, c)
	w.raw(`</div>
<div class="puisg-row"><div class="puisg-col puisg-col-4-of-4 puisg-col-4-of-8 puisg-col-4-of-12 puisg-col-4-of-16 puisg-col-4-of-20 puisg-col-4-of-24"><div class="puisg-col-inner">
<div data-cy="price-recipe" class="a-section a-spacing-none a-spacing-top-micro puis-price-instructions-style">`)
	writeDealBadge(w, c)
	if c.HasPrice {
		w.raw(`<div class="a-row a-size-base a-color-base"><div class="a-row"><span id="price-link" class="aok-offscreen">Price, product page</span><a aria-describedby="price-link" class="a-link-normal s-no-hover s-underline-text s-underline-link-text s-link-style a-text-normal" href="`)
		w.raw(c.HrefHTML)
		w.raw(`"><span class="a-price" data-a-size="xl" data-a-color="base">`)
		w.price(&c.Price)
		w.raw(`</span>`)
		if c.HasList {
			w.raw(` <span class="a-offscreen">`)
			w.esc(c.ListLabel)
			w.raw(` `)
			w.esc(c.List.Text)
			w.raw(`</span><div aria-hidden="`)
			w.esc(c.ListLabel)
			w.raw(` `)
			w.esc(c.List.Text)
			w.raw(`" class="a-section aok-inline-block"><span class="a-size-base a-color-secondary">`)
			w.esc(c.ListLabel)
			w.raw(` </span>`)
			writeListPrice(w, c)
			w.raw(`</div>`)
		}
		w.raw(`</a></div><div class="a-row"></div></div>`)
	} else {
		w.raw(`<div class="a-row a-size-base a-color-secondary"><span class="a-size-base a-color-price">Currently unavailable.</span></div>`)
	}
	w.raw(`</div>
`)
	if c.HasPrice {
		w.raw(`<div data-cy="delivery-recipe" class="a-section a-spacing-none a-spacing-top-micro"><div class="a-row a-size-base a-color-secondary s-align-children-center"><div data-cy="delivery-block" class="a-section a-spacing-none a-padding-none udm-delivery-block"><div class="a-row a-color-base udm-badge-block"><div class="a-column a-span12">`)
		if c.Prime {
			w.raw(`<i class="a-icon a-icon-prime a-icon-medium" role="img" aria-label="Amazon Prime"></i>`)
		}
		w.raw(`</div></div><div class="a-row a-color-base udm-primary-delivery-message"><div class="a-column a-span12">`)
		if c.Prime {
			w.raw(`<a data-client-id="UdmDeliveryBlockMedium" data-ingress-id="pdm_prime_upsell" class="prime-signup-ingress"><span class="prime-brand-color">Join Prime</span></a> to get FREE delivery <span class="a-text-bold">`)
			w.esc(c.FastDate)
			w.raw(`</span>`)
		} else {
			w.esc(c.ShippingFee)
			w.raw(` delivery <span class="a-text-bold">`)
			w.esc(c.SlowDate)
			w.raw(`</span>`)
		}
		w.raw(`</div></div>`)
		if c.Prime {
			w.raw(`<div class="a-row a-color-base udm-secondary-delivery-message"><div class="a-column a-span12">Or Non-members get FREE delivery <span class="a-text-bold">`)
			w.esc(c.SlowDate)
			w.raw(`</span> on `)
			w.esc(c.FreeOver)
			w.raw(` of items shipped by Amazon</div></div>`)
		}
		w.raw(`</div></div></div>`)
		writeAddToCart(w, c)
		if c.Offers > 0 {
			w.raw(`<div data-cy="secondary-offer-recipe" class="a-section a-spacing-none a-spacing-top-mini"><div class="a-row a-size-base a-color-secondary"><span class="a-size-base a-color-secondary">More Buying Choices</span><br><span class="a-color-base">`)
			w.esc(c.OfferFrom)
			w.raw(`</span><span class="a-letter-space"></span><a class="a-link-normal s-link-style s-underline-text s-underline-link-text" href="/gp/offer-listing/`)
			w.esc(c.ASIN)
			w.raw(`/ref=sr_1_`)
			w.int(c.Position)
			w.raw(`_olp?condition=new">(`)
			w.int(c.Offers)
			w.raw(` new offers)</a></div></div>`)
		}
	}
	w.raw(`
</div></div></div>
</div></div></div>
</div></div></div>`)
	writeCardClose(w, c)
}

// writeGridCard writes a result card of the grid layout: the same s-search-result card in
// sg-col-4-of-* columns, smaller, with the title in h2 > a > span and star-small icons.
func writeGridCard(w *htmlw, c *cardView) {
	cls := `sg-col-4-of-24 sg-col-4-of-12 s-result-item s-asin sg-col-4-of-16 sg-col s-widget-spacing-small sg-col-4-of-20`
	if c.Sponsored {
		cls = `sg-col-4-of-24 sg-col-4-of-12 s-result-item s-asin sg-col-4-of-16 AdHolder sg-col s-widget-spacing-small sg-col-4-of-20`
	}
	writeCardOpen(w, c, cls, `puis-card-container s-card-container s-overflow-hidden aok-relative puis-expand-height puis-include-content-margin puis s-latency-cf-section puis-card-border`)
	w.raw(`<div class="a-section a-spacing-base">
<div class="s-product-image-container aok-relative s-text-center s-image-overlay-grey puis-image-overlay-grey s-padding-left-small s-padding-right-small puis-spacing-small s-height-equalized puis" data-cy="image-container">`)
	writeImage(w, c, "a-section aok-relative s-image-square-aspect")
	w.raw(`</div>
<div class="a-section a-spacing-small puis-padding-left-small puis-padding-right-small">`)
	if c.Sponsored {
		writeSponsoredLabel(w, c)
	}
	w.raw(`
<div data-cy="title-recipe" class="a-section a-spacing-none a-spacing-top-small s-title-instructions-style"><h2 aria-label="`)
	w.raw(c.AltHTML)
	w.raw(`" class="a-size-mini a-spacing-none a-color-base s-line-clamp-4"><a class="a-link-normal s-underline-text s-underline-link-text s-link-style a-text-normal" href="`)
	w.raw(c.HrefHTML)
	w.raw(`"><span class="a-size-base-plus a-color-base a-text-normal">`)
	w.raw(c.TitleHTML)
	w.raw(`</span></a></h2></div>
<div data-cy="reviews-block" class="a-section a-spacing-none a-spacing-top-micro">`)
	if c.HasRating {
		w.raw(`<div class="a-row a-size-small"><span aria-label="`)
		w.esc(c.Rating)
		w.raw(` out of 5 stars"><span class="a-declarative" data-action="a-popover"><a href="javascript:void(0)" role="button" class="a-popover-trigger a-declarative"><i class="a-icon a-icon-star-small a-star-small-`)
		w.esc(c.Stars)
		w.raw(` aok-align-bottom"><span class="a-icon-alt">`)
		w.esc(c.Rating)
		w.raw(` out of 5 stars</span></i><i class="a-icon a-icon-popover"></i></a></span></span><span aria-label="`)
		w.esc(c.ReviewsFull)
		w.raw(` ratings"><a aria-label="`)
		w.esc(c.ReviewsFull)
		w.raw(` ratings" class="a-link-normal s-underline-text s-underline-link-text s-link-style" href="`)
		w.raw(c.HrefHTML)
		w.raw(`#customerReviews"><span class="a-size-base s-underline-text">`)
		w.esc(c.ReviewsFull)
		w.raw(`</span></a></span></div>`)
	}
	writeBought(w, c)
	w.raw(`</div>
<div data-cy="price-recipe" class="a-section a-spacing-none a-spacing-top-small s-price-instructions-style">`)
	writeDealBadge(w, c)
	if c.HasPrice {
		w.raw(`<div class="a-row a-size-base a-color-base"><a class="a-link-normal s-no-hover s-underline-text s-underline-link-text s-link-style a-text-normal" href="`)
		w.raw(c.HrefHTML)
		w.raw(`"><span class="a-price" data-a-size="xl" data-a-color="base">`)
		w.price(&c.Price)
		w.raw(`</span>`)
		if c.HasList {
			w.raw(` <div class="a-section aok-inline-block"><span class="a-size-base a-color-secondary">`)
			w.esc(c.ListLabel)
			w.raw(` </span>`)
			writeListPrice(w, c)
			w.raw(`</div>`)
		}
		w.raw(`</a></div>`)
	} else {
		w.raw(`<div class="a-row a-size-base a-color-secondary"><span class="a-size-base a-color-price">Currently unavailable.</span></div>`)
	}
	w.raw(`</div>
`)
	if c.HasPrice {
		w.raw(`<div data-cy="delivery-recipe" class="a-section a-spacing-none a-spacing-top-micro"><div class="a-row a-size-base a-color-secondary s-align-children-center">`)
		if c.Prime {
			w.raw(`<span class="aok-relative s-icon-text-medium s-prime"><i class="a-icon a-icon-prime a-icon-medium" role="img" aria-label="Amazon Prime"></i></span><span class="a-color-base">FREE delivery <span class="a-color-base a-text-bold">`)
			w.esc(c.FastDate)
		} else {
			w.raw(`<span class="a-color-base">`)
			w.esc(c.ShippingFee)
			w.raw(` delivery <span class="a-color-base a-text-bold">`)
			w.esc(c.SlowDate)
		}
		w.raw(`</span></span></div></div>`)
		writeAddToCart(w, c)
	}
	w.raw(`
</div></div></div>`)
	writeCardClose(w, c)
}

// writeCarousel writes a non-result widget of sponsored products between the cards, as Amazon
// does: its container has an empty data-asin and no s-search-result component type.
func writeCarousel(w *htmlw, it *itemView) {
	w.raw(`<div class="sg-col-20-of-24 s-result-item sg-col-0-of-12 sg-col-16-of-20 s-widget sg-col sg-col-12-of-16" data-asin="" data-index="`)
	w.int(it.Index)
	w.raw(`" data-component-type="" data-cel-widget="search_result_`)
	w.int(it.Index)
	w.raw(`"><div class="sg-col-inner"><div cel_widget_id="MAIN-SHOPPING_ADVISER-`)
	w.int(it.Index)
	w.raw(`" class="s-widget-container s-spacing-medium s-widget-container-height-medium celwidget slot=MAIN template=SHOPPING_ADVISER widgetId=loom-desktop-inline-slot_sptw"><h2 class="a-size-medium-plus a-color-base">Products related to this search</h2><span data-component-type="s-searchgrid-carousel" class="rush-component"><div role="region" class="a-begin a-carousel-container a-carousel-display-searchgrid"><div class="a-row a-carousel-controls a-carousel-row"><div class="a-carousel-viewport"><ol class="a-carousel" role="list">`)
	for i, c := range it.Carousel {
		w.raw(`<li aria-label="`)
		w.int(i + 1)
		w.raw(` of `)
		w.int(len(it.Carousel))
		w.raw(`" class="a-carousel-card"><div class="a-section sbv-product"><a class="a-link-normal" href="`)
		w.raw(c.HrefHTML)
		w.raw(`"><img class="s-image" src="`)
		w.raw(c.ImageHTML)
		w.raw(`" alt="`)
		w.raw(c.AltHTML)
		w.raw(`"><h2 aria-label="`)
		w.raw(c.AltHTML)
		w.raw(`" class="a-size-base-plus a-spacing-none a-color-base a-text-normal"><span>`)
		w.raw(c.TitleHTML)
		w.raw(`</span></h2></a>`)
		if c.HasPrice {
			w.raw(`<span class="a-price" data-a-size="l" data-a-color="base">`)
			w.price(&c.Price)
			w.raw(`</span>`)
		}
		w.raw(`<div data-asin="`)
		w.esc(c.ASIN)
		w.raw(`" class="a-section atc-faceout-container"></div></div></li>`)
	}
	w.raw(`</ol></div></div></div></span></div></div></div>`)
}

func writePagination(w *htmlw, v *searchView) {
	w.raw(`<div data-asin="" data-index="`)
	w.int(v.PaginationIndex)
	w.raw(`" class="a-section a-spacing-none s-result-item s-flex-full-width s-widget s-widget-spacing-large" data-cel-widget="search_result_`)
	w.int(v.PaginationIndex)
	w.raw(`"><div cel_widget_id="MAIN-PAGINATION-`)
	w.int(v.PaginationIndex)
	w.raw(`" class="s-widget-container s-spacing-medium s-widget-container-height-medium celwidget slot=MAIN template=PAGINATION widgetId=pagination-button"><div aria-label="pagination" class="a-section a-text-center s-pagination-container" role="navigation"><span class="s-pagination-strip"><ul class="a-unordered-list a-horizontal s-unordered-list-accessibility">`)
	if v.PrevURL != "" {
		w.raw(`<li class="s-list-item-margin-right-adjustment"><span class="a-list-item"><a href="`)
		w.esc(v.PrevURL)
		w.raw(`" role="button" tabindex="0" aria-label="Go to previous page, page `)
		w.int(v.PrevPage)
		w.raw(`" class="s-pagination-item s-pagination-previous s-pagination-button s-pagination-button-accessibility s-pagination-separator">Previous</a></span></li>`)
	} else {
		w.raw(`<li class="s-list-item-margin-right-adjustment"><span class="a-list-item"><span class="s-pagination-item s-pagination-previous s-pagination-disabled " role="button" tabindex="0" aria-disabled="true">Previous</span></span></li>`)
	}
	for _, l := range v.PageLinks {
		switch {
		case l.Ellipsis:
			w.raw(`<span class="s-pagination-item s-pagination-ellipsis" role="button" tabindex="0" aria-disabled="true">...</span>`)
		case l.Current:
			w.raw(`<li class="s-list-item-margin-right-adjustment"><span class="a-list-item"><span class="s-pagination-item s-pagination-selected" role="button" tabindex="0" aria-current="page" aria-label="Page `)
			w.int(l.N)
			w.raw(`">`)
			w.int(l.N)
			w.raw(`</span></span></li>`)
		default:
			w.raw(`<li class="s-list-item-margin-right-adjustment"><span class="a-list-item"><a href="`)
			w.esc(l.URL)
			w.raw(`" role="button" tabindex="0" aria-label="Go to page `)
			w.int(l.N)
			w.raw(`" class="s-pagination-item s-pagination-button s-pagination-button-accessibility">`)
			w.int(l.N)
			w.raw(`</a></span></li>`)
		}
	}
	if v.NextURL != "" {
		w.raw(`<li class="s-list-item-margin-right-adjustment"><span class="a-list-item"><a href="`)
		w.esc(v.NextURL)
		w.raw(`" role="button" tabindex="0" aria-label="Go to next page, page `)
		w.int(v.NextPage)
		w.raw(`" class="s-pagination-item s-pagination-next s-pagination-button s-pagination-button-accessibility s-pagination-separator">Next</a></span></li>`)
	} else {
		w.raw(`<li class="s-list-item-margin-right-adjustment"><span class="a-list-item"><span class="s-pagination-item s-pagination-next s-pagination-disabled " role="button" tabindex="0" aria-disabled="true">Next</span></span></li>`)
	}
	w.raw(`</ul></span></div></div></div>
`)
}

// writeHome writes the home page: links to every keyword's results and to the truth.
func writeHome(w *htmlw, v *siteView, keywords []string) {
	writeHead(w, v)
	w.raw(`<title>`)
	w.esc(v.SiteName)
	w.raw(`. Spend less. Smile more.</title>
</head>
`)
	writeBodyOpen(w, v)
	w.raw(`<div id="pageContent" class="a-section"><h1>Market Insights Pro sandbox marketplace</h1><p>A simulated `)
	w.esc(v.SiteName)
	w.raw(` for the demo and the tests. Searches:</p><ul id="sandbox-keywords">`)
	for _, k := range keywords {
		q := url.QueryEscape(k)
		w.raw(`<li><a href="/s?k=`)
		w.esc(q)
		w.raw(`">`)
		w.esc(k)
		w.raw(`</a> (<a href="/s?k=`)
		w.esc(q)
		w.raw(`&amp;layout=grid">grid</a>, <a href="/_truth/keyword?k=`)
		w.esc(q)
		w.raw(`">truth</a>)</li>`)
	}
	w.raw(`</ul><p>Ground truth: <a href="/_truth">/_truth</a>; faults: <a href="/_faults">/_faults</a>; clock: <a href="/_clock">/_clock</a>.</p></div>
`)
	writeFooter(w, v)
	w.raw(`</div></body></html>
`)
}
