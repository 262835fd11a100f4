package sandbox

import "strconv"

func writeRatingStars(w *htmlw, v *productView, iconClass string) {
	w.raw(`<i class="a-icon `)
	w.raw(iconClass)
	w.esc(v.Stars)
	w.raw(`"><span class="a-icon-alt">`)
	w.esc(v.Rating)
	w.raw(` out of 5 stars</span></i>`)
}

// writeProduct writes a product page.
func writeProduct(w *htmlw, v *productView) {
	writeHead(w, &v.siteView)
	w.raw(`<link rel="canonical" href="`)
	w.esc(v.Canonical)
	w.raw(`"><meta name="title" content="`)
	w.esc(v.SiteName)
	w.raw(`: `)
	w.esc(v.Title)
	w.raw(` : `)
	w.esc(v.Category)
	w.raw(`"><title>`)
	w.esc(v.SiteName)
	w.raw(`: `)
	w.esc(v.Title)
	w.raw(` : `)
	w.esc(v.Category)
	w.raw(`</title>
</head>
`)
	writeBodyOpen(w, &v.siteView)
	w.raw(`<div id="dp" class="`)
	w.esc(v.CategorySlug)
	w.raw(` en_US"><div id="dp-container" class="a-container" role="main">
<div id="showing-breadcrumbs_div" class="a-section a-spacing-none"><div class="a-section a-spacing-none a-padding-medium"><div id="wayfinding-breadcrumbs_feature_div" class="a-subheader a-breadcrumb feature" data-feature-name="wayfinding-breadcrumbs" data-cel-widget="wayfinding-breadcrumbs_feature_div"><ul class="a-unordered-list a-horizontal a-size-small">`)
	for i, b := range v.Breadcrumbs {
		if i > 0 {
			w.raw(`<li aria-hidden="true" class="a-breadcrumb-divider" role="presentation"><span class="a-list-item a-color-tertiary">›</span></li>`)
		}
		w.raw(`<li><span class="a-list-item"><a `)
		if b.Last {
			w.raw(`aria-current="page" `)
		}
		w.raw(`class="a-link-normal a-color-tertiary" href="`)
		w.esc(b.Href)
		w.raw(`">`)
		w.esc(b.Name)
		w.raw(`</a></span></li>`)
	}
	w.raw(`</ul></div></div></div>
<div id="ppd">
<div id="leftCol" class="a-column a-span3"><div id="imageBlock_feature_div" class="celwidget" data-feature-name="imageBlock"><div id="imageBlock" class="a-section imageBlockRearch"><div id="main-image-container" class="a-section a-spacing-none"><ul class="a-unordered-list a-nostyle a-horizontal list maintain-height"><li class="image item itemNo0 maintain-height selected"><span class="a-list-item"><span class="a-declarative" data-action="main-image-click"><div id="imgTagWrapperId" class="imgTagWrapper"><img alt="`)
	w.esc(v.Title)
	w.raw(`" src="`)
	w.esc(v.Image)
	w.raw(`" data-old-hires="`)
	w.esc(v.ImageHires)
	w.raw(`" data-a-image-name="landingImage" class="a-dynamic-image a-stretch-horizontal" id="landingImage" style="max-width:466px;max-height:466px;"></div></span></span></li></ul></div></div></div></div>
<div id="centerCol" class="centerColAlign">
<div id="title_feature_div" class="celwidget" data-feature-name="title"><div id="titleSection" class="a-section a-spacing-none"><h1 id="title" class="a-size-large a-spacing-none"><span id="productTitle" class="a-size-large product-title-word-break">        `)
	w.esc(v.Title)
	w.raw(`       </span></h1><div id="expandTitleToggle" class="a-section a-spacing-none expand aok-hidden"></div></div></div>
<div id="bylineInfo_feature_div" class="celwidget" data-feature-name="bylineInfo" data-csa-c-asin="`)
	w.esc(v.ASIN)
	w.raw(`"><div class="a-section a-spacing-none"><a id="bylineInfo" class="a-link-normal" href="/stores/`)
	w.esc(v.Brand)
	w.raw(`/page/`)
	w.esc(v.StoreID)
	w.raw(`?lp_asin=`)
	w.esc(v.ASIN)
	w.raw(`&amp;ref_=ast_bln">Visit the `)
	w.esc(v.Brand)
	w.raw(` Store</a></div></div>
<div id="averageCustomerReviews_feature_div" class="celwidget" data-feature-name="averageCustomerReviews" data-csa-c-asin="`)
	w.esc(v.ASIN)
	w.raw(`">`)
	if v.HasRating {
		w.raw(`<div id="averageCustomerReviews" data-asin="`)
		w.esc(v.ASIN)
		w.raw(`" data-ref="dpx_acr_pop_"><span class="a-declarative" data-action="acrStarsLink-click-metrics"><span id="acrPopover" class="reviewCountTextLinkedHistogram noUnderline" title="`)
		w.esc(v.Rating)
		w.raw(` out of 5 stars"><span class="a-declarative" data-action="a-popover"><a href="javascript:void(0)" role="button" class="a-popover-trigger a-declarative mvt-cm-cr-review-stars-mini-popover"><span aria-hidden="true" class="a-size-small a-color-base"> `)
		w.esc(v.Rating)
		w.raw(` </span>`)
		writeRatingStars(w, v, "a-icon-star-mini mvt-cm-cr-review-stars-mini a-star-mini-")
		w.raw(`<i class="a-icon a-icon-popover"></i></a></span></span></span> <span class="a-letter-space"></span><span class="a-declarative" data-action="acrLink-click-metrics"><a id="acrCustomerReviewLink" class="a-link-normal" href="#averageCustomerReviewsAnchor"><span id="acrCustomerReviewText" aria-label="`)
		w.esc(v.ReviewsFull)
		w.raw(` Reviews" class="a-size-small">(`)
		w.esc(v.ReviewsFull)
		w.raw(`)</span></a></span></div>`)
	}
	w.raw(`</div>
<div id="socialProofingAsinFaceout_feature_div" class="celwidget" data-feature-name="socialProofingAsinFaceout">`)
	if v.Bought != "" {
		w.raw(`<div class="a-section a-spacing-micro social-proofing-faceout"><div class="a-section social-proofing-faceout-title social-proofing-faceout-title-alignment-left"><span id="social-proofing-faceout-title-tk_bought" class="a-size-small social-proofing-faceout-title-text"><span class="a-text-bold">`)
		w.esc(string(v.Bought))
		w.raw(` bought</span><span> in past month</span></span></div></div>`)
	}
	w.raw(`</div>
<hr class="a-spacing-small a-spacing-top-small a-divider-normal">
<div id="dealBadge_feature_div" class="celwidget" data-feature-name="dealBadge">`)
	if v.Deal {
		w.raw(`<span class="a-badge" data-a-badge-type="deal"><span class="a-badge-label" data-a-badge-color="sx-red-mvt"><span class="a-badge-label-inner a-text-ellipsis"><span class="a-badge-text" data-a-badge-color="sx-cloud">Limited time deal</span></span></span></span>`)
	}
	w.raw(`</div>
<div id="apex_desktop" class="celwidget" data-feature-name="apex_desktop" data-csa-c-asin="`)
	w.esc(v.ASIN)
	w.raw(`"><div class="offersConsistencyEnabled"><div id="corePriceDisplay_desktop_feature_div" class="celwidget" data-feature-name="corePriceDisplay_desktop">`)
	if v.HasPrice {
		w.raw(`<div class="a-section apex-core-price-identifier"><div class="a-section a-spacing-none aok-align-center aok-relative"><span id="apex-pricetopay-accessibility-label" class="aok-offscreen">`)
		w.esc(v.Price.Text)
		if v.Savings > 0 {
			w.raw(` with `)
			w.int(v.Savings)
			w.raw(` percent savings`)
		}
		w.raw(`</span>`)
		if v.Savings > 0 {
			w.raw(`<span class="apex-savings-container "><span aria-hidden="true" class="a-size-large a-color-price savingPriceOverride aok-align-center reinventPriceSavingsPercentageMargin savingsPercentage">-`)
			w.int(v.Savings)
			w.raw(`%</span></span>`)
		}
		w.raw(`<span class="a-price aok-align-center reinventPricePriceToPayMargin priceToPay apex-pricetopay-value" data-a-size="xl" data-a-color="base">`)
		w.price(&v.Price)
		w.raw(`</span></div>`)
		if v.HasList {
			w.raw(`<div class="a-section a-spacing-small aok-align-center"><span><span class="apex-basisprice-feature"><span class="aok-relative"><span class="a-size-small aok-offscreen apex-basisprice-offscreen-label">`)
			w.esc(v.ListLabel)
			w.raw(` `)
			w.esc(v.List.Text)
			w.raw(`</span><span aria-hidden="true" class="a-size-small a-color-secondary aok-align-center basisPrice"><span class="apex-basisprice-label">`)
			w.esc(v.ListLabel)
			w.raw(`</span> <span class="a-price a-text-price apex-basisprice-value" data-a-size="s" data-a-strike="true" data-a-color="secondary"><span class="a-offscreen">`)
			w.esc(v.List.Text)
			w.raw(`</span><span aria-hidden="true">`)
			w.esc(v.List.Text)
			w.raw(`</span></span></span></span></span></span></div>`)
		}
		w.raw(`</div>`)
	}
	w.raw(`</div></div></div>
<div id="featurebullets_feature_div" class="celwidget" data-feature-name="featurebullets"><div id="feature-bullets" class="a-section a-spacing-medium a-spacing-top-small"><h3 class="a-text-bold a-size-base-plus">About this item</h3><ul class="a-unordered-list a-vertical a-spacing-mini">`)
	for _, b := range v.Bullets {
		w.raw(`<li class="a-spacing-mini"><span class="a-list-item">`)
		w.esc(b)
		w.raw(`</span></li>`)
	}
	w.raw(`</ul></div></div>
</div>
<div id="rightCol" class="rightCol"><div id="buybox" class="a-box-group"><div class="a-box a-last"><div class="a-box-inner">
<div id="apex_offerDisplay_desktop" class="celwidget" data-csa-c-asin="`)
	w.esc(v.ASIN)
	w.raw(`"><div id="corePrice_feature_div" class="celwidget" data-feature-name="corePrice">`)
	if v.HasPrice {
		w.raw(`<div class="a-row"><div class="a-column a-span12 a-text-left"><div class="a-spacing-top-mini apex-core-price-identifier"><span class="a-price a-text-normal aok-align-center reinventPriceAccordionT2 apex-pricetopay-value" data-a-size="l" data-a-color="base">`)
		w.price(&v.Price)
		w.raw(`</span></div></div></div>`)
	}
	w.raw(`</div></div>
<div id="deliveryBlock_feature_div" class="celwidget" data-feature-name="deliveryBlock">`)
	if v.HasPrice {
		w.raw(`<div id="mir-layout-DELIVERY_BLOCK" class="a-section a-spacing-base">`)
		if v.Prime {
			w.raw(`<div class="a-row"><i class="a-icon a-icon-prime a-icon-medium" role="img" aria-label="Amazon Prime"></i></div><div id="mir-layout-DELIVERY_BLOCK-slot-PRIMARY_DELIVERY_MESSAGE_LARGE">FREE delivery <span class="a-text-bold">`)
			w.esc(v.FastDate)
		} else {
			w.raw(`<div id="mir-layout-DELIVERY_BLOCK-slot-PRIMARY_DELIVERY_MESSAGE_LARGE">`)
			w.esc(v.ShippingFee)
			w.raw(` delivery <span class="a-text-bold">`)
			w.esc(v.SlowDate)
		}
		w.raw(`</span></div></div>`)
	}
	w.raw(`</div>
<div id="availabilityInsideBuyBox_feature_div" class="celwidget" data-feature-name="availabilityInsideBuyBox"><div class="a-section a-spacing-none"><div id="availability" class="a-section a-spacing-base a-spacing-top-micro }"><span class="a-size-medium `)
	w.raw(v.AvailabilityClass)
	w.raw(` primary-availability-message">`)
	w.esc(v.Availability)
	w.raw(`</span>`)
	if !v.HasPrice {
		w.raw(`<br><span class="a-size-base a-color-secondary">We don't know when or if this item will be back in stock.</span>`)
	}
	w.raw(`<br></div></div></div>
`)
	if v.HasPrice {
		w.raw(`<form method="post" id="addToCart" action="/cart/add-to-cart/ref=dp_start-bbf_1_glance" class="a-content" autocomplete="off"><input type="hidden" id="session-id" name="session-id" value="`)
		w.esc(v.SessionID)
		w.raw(`"><input type="hidden" id="ASIN" name="ASIN" value="`)
		w.esc(v.ASIN)
		w.raw(`"><input type="hidden" id="isMerchantExclusive" name="isMerchantExclusive" value="0"><input type="hidden" id="merchantID" name="merchantID" value="`)
		w.esc(v.MerchantID)
		w.raw(`"><span id="submit.add-to-cart" class="a-button a-spacing-small a-button-primary a-button-icon"><span class="a-button-inner"><i class="a-icon a-icon-cart"></i><input id="add-to-cart-button" name="submit.add-to-cart" title="Add to Shopping Cart" class="a-button-input" type="submit" value="Add to Cart"><span id="submit.add-to-cart-announce" class="a-button-text" aria-hidden="true">Add to Cart</span></span></span></form>
<div id="fulfillerInfoFeature_feature_div" class="celwidget"><div class="offer-display-feature-label celwidget a-size-small" role="heading"><span class="a-size-small a-color-tertiary">Ships from</span></div><div class="offer-display-feature-text a-size-small"><span class="a-size-small offer-display-feature-text-message">`)
		w.esc(v.ShipsFrom)
		w.raw(`</span></div></div>
<div id="merchantInfoFeature_feature_div" class="celwidget"><div class="offer-display-feature-label celwidget a-size-small" role="heading"><span class="a-size-small a-color-tertiary">Sold by</span></div><div class="offer-display-feature-text a-size-small"><a href="/gp/help/seller/at-a-glance.html/ref=dp_merchant_link?ie=UTF8&amp;seller=`)
		w.esc(v.MerchantID)
		w.raw(`" id="sellerProfileTriggerId" class="a-size-small a-link-normal offer-display-feature-text-message">`)
		w.esc(v.SoldBy)
		w.raw(`</a></div></div>
`)
	} else {
		w.raw(`<input type="hidden" id="ASIN" name="ASIN" value="`)
		w.esc(v.ASIN)
		w.raw(`">
`)
	}
	w.raw(`<div id="olp_feature_div" class="celwidget" data-feature-name="olp">`)
	if v.Offers > 0 {
		w.raw(`<div class="a-section a-spacing-small a-spacing-top-small"><span><a class="a-link-normal" href="/gp/offer-listing/`)
		w.esc(v.ASIN)
		w.raw(`/ref=dp_olp_NEW_mbc?ie=UTF8&amp;condition=NEW"><span>New (`)
		w.int(v.Offers)
		w.raw(`) from</span><span class="a-price" data-a-size="s" data-a-color="base">`)
		w.price(&v.OfferFrom)
		w.raw(`</span></a></span></div>`)
	}
	w.raw(`</div>
</div></div></div></div>
</div>
`)
	if v.DetailBullets {
		writeDetailBullets(w, v)
	} else {
		writeDetailTables(w, v)
	}
	writeReviews(w, v)
	w.raw(`</div></div>
`)
	writeFooter(w, &v.siteView)
	w.raw(`</div></body></html>
`)
}

func writeBSRLinks(w *htmlw, v *productView, top, sub string) {
	w.raw(top)
	w.esc(v.BSR)
	w.raw(` in `)
	w.esc(v.Category)
	w.raw(` (<a href="/gp/bestsellers/`)
	w.esc(v.CategorySlug)
	w.raw(`/ref=pd_zg_ts_`)
	w.esc(v.CategorySlug)
	w.raw(`">See Top 100 in `)
	w.esc(v.Category)
	w.raw(`</a>)`)
	w.raw(sub)
	w.esc(v.SubBSR)
	w.raw(` in <a href="/gp/bestsellers/`)
	w.esc(v.CategorySlug)
	w.raw(`/`)
	w.raw(strconv.FormatInt(v.SubNode, 10))
	w.raw(`/ref=pd_zg_hrsr_`)
	w.esc(v.CategorySlug)
	w.raw(`">`)
	w.esc(v.Sub)
	w.raw(`</a>`)
}

// writeDetailBullets writes the product details as #detailBulletsWrapper_feature_div bullets.
func writeDetailBullets(w *htmlw, v *productView) {
	bullet := func(name, value string) {
		w.raw(`<li><span class="a-list-item"><span class="a-text-bold">`)
		w.raw(name)
		w.raw(` &rlm; : &lrm;</span><span>`)
		w.esc(value)
		w.raw(`</span></span></li>`)
	}
	w.raw(`<div id="detailBulletsWrapper_feature_div" class="celwidget" data-feature-name="detailBullets"><div id="detailBullets_feature_div"><ul class="a-unordered-list a-nostyle a-vertical a-spacing-none detail-bullet-list">`)
	bullet("Product Dimensions", v.Dimensions)
	bullet("Item model number", v.Model)
	bullet("Date First Available", v.FirstAvailable)
	bullet("Manufacturer", v.Brand)
	bullet("ASIN", v.ASIN)
	w.raw(`</ul></div>
`)
	if v.BSR != "" {
		w.raw(`<ul class="a-unordered-list a-nostyle a-vertical a-spacing-none detail-bullet-list"><li><span class="a-list-item"><span class="a-text-bold">Best Sellers Rank:</span> `)
		writeBSRLinks(w, v, `#`, `<ul class="a-unordered-list a-nostyle a-vertical zg_hrsr"><li><span class="a-list-item">#`)
		w.raw(`</span></li></ul></span></li></ul>
`)
	}
	if v.HasRating {
		w.raw(`<ul class="a-unordered-list a-nostyle a-vertical a-spacing-none detail-bullet-list"><li><span class="a-list-item"><span class="a-text-bold">Customer Reviews:</span> <div id="detailBullets_averageCustomerReviews" class="a-spacing-none" data-asin="`)
		w.esc(v.ASIN)
		w.raw(`"><span class="a-declarative"><span class="reviewCountTextLinkedHistogram noUnderline" title="`)
		w.esc(v.Rating)
		w.raw(` out of 5 stars">`)
		writeRatingStars(w, v, "a-icon-star a-star-")
		w.raw(`</span></span> <span class="a-letter-space"></span><a class="a-link-normal" href="#customerReviews"><span class="a-size-base">`)
		w.esc(v.ReviewsFull)
		w.raw(` ratings</span></a></div></span></li></ul>`)
	}
	w.raw(`</div>
`)
}

// writeDetailTables writes the product details as #prodDetails tables, the Best Sellers Rank in
// #productDetails_detailBullets_sections1.
func writeDetailTables(w *htmlw, v *productView) {
	row := func(name, value string) {
		w.raw(`<tr><th class="a-color-secondary a-size-base prodDetSectionEntry"> `)
		w.raw(name)
		w.raw(` </th><td class="a-size-base prodDetAttrValue"> `)
		w.esc(value)
		w.raw(` </td></tr>`)
	}
	w.raw(`<div id="prodDetails" class="a-section"><h2>Product information</h2><div class="a-row a-spacing-top-base"><div class="a-column a-span6"><div id="productDetails_techSpec_section_1_div" class="a-section"><h1 class="a-size-medium a-spacing-small secHeader">Technical Details</h1><table id="productDetails_techSpec_section_1" class="a-keyvalue prodDetTable" role="presentation"><tbody>`)
	row("Brand", v.Brand)
	row("Model Number", v.Model)
	row("Product Dimensions", v.Dimensions)
	w.raw(`</tbody></table></div></div>
<div class="a-column a-span6 a-span-last"><div id="productDetails_db_sections" class="a-section"><h1 class="a-size-medium a-spacing-small secHeader">Additional Information</h1><table id="productDetails_detailBullets_sections1" class="a-keyvalue prodDetTable" role="presentation"><tbody>`)
	row("ASIN", v.ASIN)
	if v.HasRating {
		w.raw(`<tr><th class="a-color-secondary a-size-base prodDetSectionEntry"> Customer Reviews </th><td><div id="averageCustomerReviews" data-asin="`)
		w.esc(v.ASIN)
		w.raw(`" data-ref="dpx_acr_pop_"><span class="a-declarative"><span class="reviewCountTextLinkedHistogram noUnderline" title="`)
		w.esc(v.Rating)
		w.raw(` out of 5 stars"><a href="javascript:void(0)" role="button" class="a-popover-trigger a-declarative"><span aria-hidden="true" class="a-size-small a-color-base"> `)
		w.esc(v.Rating)
		w.raw(` </span>`)
		writeRatingStars(w, v, "a-icon-star-mini a-star-mini-")
		w.raw(`</a></span></span> <span class="a-letter-space"></span><a class="a-link-normal" href="#averageCustomerReviewsAnchor"><span aria-label="`)
		w.esc(v.ReviewsFull)
		w.raw(` Reviews" class="a-size-small">(`)
		w.esc(v.ReviewsFull)
		w.raw(`)</span></a></div><br> `)
		w.esc(v.Rating)
		w.raw(` out of 5 stars </td></tr>`)
	}
	if v.BSR != "" {
		w.raw(`<tr><th class="a-color-secondary a-size-base prodDetSectionEntry"> Best Sellers Rank </th><td><span><ul class="a-unordered-list a-nostyle a-vertical"><li><span class="a-list-item"><span>`)
		writeBSRLinks(w, v, `#`, `</span></span></li><li><span class="a-list-item"><span>#`)
		w.raw(`</span></span></li></ul></span></td></tr>`)
	}
	row("Date First Available", v.FirstAvailable)
	w.raw(`</tbody></table></div></div></div></div>
`)
}

// writeReviews writes the customer reviews summary with #histogramTable.
func writeReviews(w *htmlw, v *productView) {
	w.raw(`<div id="reviewsMedley" class="a-fixed-left-grid a-spacing-top-large"><div id="customer-reviews_feature_div" class="celwidget"><a id="averageCustomerReviewsAnchor" class="a-link-normal"></a><a id="customerReviews" class="a-link-normal"></a><h2>Customer reviews</h2>`)
	if !v.HasRating {
		w.raw(`<div class="a-row"><span class="a-size-base">No customer reviews</span></div></div></div>
`)
		return
	}
	w.raw(`<div class="a-fixed-left-grid AverageCustomerReviews a-spacing-small"><div class="a-fixed-left-grid-inner" style="padding-left:105px"><div class="a-fixed-left-grid-col a-col-left" style="width:105px;margin-left:-105px;float:left"><i data-hook="average-star-rating" class="a-icon a-icon-star-medium a-star-medium-`)
	w.esc(v.Stars)
	w.raw(`"><span class="a-icon-alt">`)
	w.esc(v.Rating)
	w.raw(` out of 5 stars</span></i></div><div class="a-fixed-left-grid-col aok-align-center a-col-right" style="padding-left:0%;float:left"><div class="a-row"><span aria-hidden="true" class="a-size-base a-nowrap"><span data-hook="rating-out-of-text" aria-hidden="true" class="a-size-medium a-color-base">`)
	w.esc(v.Rating)
	w.raw(` out of 5</span></span></div></div></div></div><div class="a-row a-spacing-medium averageStarRatingNumerical"><span data-hook="total-review-count" class="a-size-base a-color-secondary">`)
	w.esc(v.ReviewsFull)
	w.raw(` global ratings</span></div>
<ul id="histogramTable" class="a-unordered-list a-nostyle a-vertical _cr-ratings-histogram_style_histogram__-J2UR">`)
	for _, h := range v.Histogram {
		w.raw(`<li class="a-align-center a-spacing-none"><span class="a-list-item"><div data-csa-c-type="widget" data-csa-c-content-id="customerReviews-histogram-`)
		w.raw(h.Word)
		w.raw(`Star"><a aria-label="`)
		w.int(h.Pct)
		w.raw(` percent of reviews have `)
		w.int(h.Stars)
		w.raw(` stars" class="a-size-base a-link-normal _cr-ratings-histogram_style_histogram-row-container__Vh7Di" href="/portal/customer-reviews/`)
		w.esc(v.ASIN)
		w.raw(`/ref=acr_dp_hist_`)
		w.int(h.Stars)
		w.raw(`?ie=UTF8&amp;filterByStar=`)
		w.raw(h.Word)
		w.raw(`_star&amp;reviewerType=all_reviews#reviews-filter-bar"><div aria-hidden="true" class="a-section a-spacing-none a-text-left aok-nowrap"><span class="_cr-ratings-histogram_style_histogram-column-space__RKUAd" aria-hidden="true">5 star</span><span class="_cr-ratings-histogram_style_histogram-column-space__RKUAd" aria-hidden="true">4 star</span><span class="_cr-ratings-histogram_style_histogram-column-space__RKUAd" aria-hidden="true">3 star</span><span class="_cr-ratings-histogram_style_histogram-column-space__RKUAd" aria-hidden="true">2 star</span><span class="_cr-ratings-histogram_style_histogram-column-space__RKUAd" aria-hidden="true">1 star</span>`)
		w.int(h.Stars)
		w.raw(` star</div><div class="a-section a-spacing-none"><div aria-hidden="true" class="a-meter" role="progressbar" aria-valuenow="`)
		w.int(h.Pct)
		w.raw(`"><div class="a-meter-bar a-meter-unfilled" style="width:`)
		w.int(h.Pct)
		w.raw(`%"></div></div></div><div aria-hidden="true" class="a-section a-spacing-none a-text-right aok-nowrap">`)
		for _, o := range v.Histogram {
			w.raw(`<span class="_cr-ratings-histogram_style_histogram-column-space__RKUAd" aria-hidden="true">`)
			w.int(o.Pct)
			w.raw(`%</span>`)
		}
		w.int(h.Pct)
		w.raw(`%</div></a></div></span></li>`)
	}
	w.raw(`</ul></div></div>
`)
}
