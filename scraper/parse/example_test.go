package parse_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/marketinsightspro/marketinsights/scraper/parse"
)

func ExampleParsePrice() {
	for _, c := range []struct{ text, marketplace string }{
		{"$1,299.99", "amazon.com"},
		{"1.299,99 €", "amazon.de"},
		{"₹2,863", "amazon.in"},
		{"VND 339,065", ""},
		{"￥1,280", "amazon.co.jp"},
		{"$12.99", "amazon.ca"},
	} {
		m, err := parse.ParsePrice(c.text, c.marketplace)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(m.GetAmountMinor(), m.GetCurrency())
	}
	// Output:
	// 129999 USD
	// 129999 EUR
	// 286300 INR
	// 339065 VND
	// 1280 JPY
	// 1299 CAD
}

func ExampleSearch() {
	page := `<html lang="de-de"><body>
<div data-component-type="s-search-result" data-asin="B09VPHVT2Z" class="s-result-item AdHolder">
  <h2 class="a-text-normal"><span>Anker Powerbank 20000mAh</span></h2>
  <i class="a-icon a-icon-star-small"><span class="a-icon-alt">4,6 von 5 Sternen</span></i>
  <span class="a-price"><span class="a-offscreen">39,99 €</span></span>
</div></body></html>`
	p, err := parse.Search(strings.NewReader(page), parse.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(parse.Render(p))
	// Output:
	// {"kind":"search","marketplace":"amazon.de","blocked":false,"no_results":false,"listings":1}
	// {"asin":"B09VPHVT2Z","position":1,"sponsored":true,"attributes":{"title":"Anker Powerbank 20000mAh","price":{"amount_minor":"3999","currency":"EUR"},"rating":4.6}}
}
