package parse

import (
	"errors"
	"fmt"
	"testing"
)

func TestParsePrice(t *testing.T) {
	cases := []struct {
		text, marketplace string
		amount            int64
		currency          string
	}{
		// The formats the issue names.
		{"$1,299.99", "amazon.com", 129999, "USD"},
		{"1.299,99 €", "amazon.de", 129999, "EUR"},
		{"₹2,863", "amazon.in", 286300, "INR"},
		{"VND 339,065", "amazon.com", 339065, "VND"},
		{"R$ 1.234,56", "amazon.com.br", 123456, "BRL"},
		{"￥1,280", "amazon.co.jp", 1280, "JPY"},
		{"¥1,280", "amazon.co.jp", 1280, "JPY"},
		{"£12.99", "amazon.co.uk", 1299, "GBP"},
		{"CDN$ 12.99", "amazon.ca", 1299, "CAD"},
		{"12,99 €", "amazon.es", 1299, "EUR"},
		// Without a marketplace the text alone decides.
		{"$25.18", "", 2518, "USD"},
		{"1.299,99 €", "", 129999, "EUR"},
		{"VND 339,065", "", 339065, "VND"},
		{"339.065 ₫", "", 339065, "VND"},
		{"R$1.234,56", "", 123456, "BRL"},
		{"¥1,280", "", 1280, "JPY"},
		{"1,280円", "", 1280, "JPY"},
		{"CDN$ 12.99", "", 1299, "CAD"},
		{"EUR 12,99", "", 1299, "EUR"},
		{"12,99 EUR", "", 1299, "EUR"},
		// Spaces of every kind, full-width and Arabic-Indic digits.
		{"1.299,99\u00a0€", "amazon.de", 129999, "EUR"},
		{"1\u202f234,56\u00a0€", "amazon.fr", 123456, "EUR"},
		{"￥１，２８０", "amazon.co.jp", 1280, "JPY"},
		{"\u200e₹ 1,499\u200e", "amazon.in", 149900, "INR"},
		{"٩٩٫٥٠ ر.س", "amazon.sa", 9950, "SAR"},
		// Which dollar, which yen, which krona: the marketplace says.
		{"$12.99", "amazon.ca", 1299, "CAD"},
		{"$12.99", "amazon.com.mx", 1299, "MXN"},
		{"$12.99", "amazon.com.au", 1299, "AUD"},
		{"$12.99", "amazon.de", 1299, "USD"},
		{"US$12.99", "amazon.ca", 1299, "USD"},
		{"S$12.90", "amazon.sg", 1290, "SGD"},
		{"A$ 49.95", "", 4995, "AUD"},
		{"MX$1,299.00", "", 129900, "MXN"},
		{"￥1,280", "amazon.cn", 128000, "CNY"},
		{"1 234,56 kr", "amazon.se", 123456, "SEK"},
		// No sign: the marketplace's currency.
		{"12.99", "amazon.com", 1299, "USD"},
		{"12,99", "amazon.de", 1299, "EUR"},
		{"1.299,00", "https://www.amazon.de/s?k=x", 129900, "EUR"},
		// Other marketplaces and signs.
		{"AED 1,234.50", "amazon.ae", 123450, "AED"},
		{"SAR 99.00", "", 9900, "SAR"},
		{"1 234,56 zł", "amazon.pl", 123456, "PLN"},
		{"1.234,56 TL", "amazon.com.tr", 123456, "TRY"},
		{"₺1.234,56", "", 123456, "TRY"},
		{"CHF 1'299.50", "", 129950, "CHF"},
		{"CHF 1’299.50", "", 129950, "CHF"},
		{"Rs. 1,499", "", 149900, "INR"},
		{"₹1,23,456.00", "amazon.in", 12345600, "INR"},
		{"₹ 1,23,456", "amazon.in", 12345600, "INR"},
		{"₹ 2,863.50", "amazon.in", 286350, "INR"},
		{"E£ 1,250.00", "amazon.eg", 125000, "EGP"},
		{"₩12,000", "", 12000, "KRW"},
		// A single separator before three digits: thousands, unless the currency has three decimals
		// and the marketplace writes decimals with that separator.
		{"1,299", "amazon.com", 129900, "USD"},
		{"1.299", "amazon.com", 129900, "USD"},
		{"1.299 €", "amazon.de", 129900, "EUR"},
		{"1,299 €", "amazon.de", 129900, "EUR"},
		{"KWD 12.345", "", 12345, "KWD"},
		{"12,345 KWD", "amazon.de", 12345, "KWD"},
		{"12,345 KWD", "amazon.com", 12345000, "KWD"},
		// ... but not when thousands grouping is impossible.
		{"$0.500", "amazon.com", 50, "USD"},
		{"$1234.567", "amazon.com", 123457, "USD"},
		// Fewer or more decimals than the currency has.
		{"12.5 €", "amazon.de", 1250, "EUR"},
		{"1.29", "amazon.de", 129, "EUR"},
		{"$12.345,67", "amazon.com", 1234567, "USD"},
		{"$1,234.567", "amazon.com", 123457, "USD"},
		{"¥1,280.00", "amazon.co.jp", 1280, "JPY"},
		{"¥1,280.50", "amazon.co.jp", 1281, "JPY"},
		// The first amount of a longer text; a minus sign is not a negative price.
		{"$35.99 with 22 percent savings", "amazon.com", 3599, "USD"},
		{"List Price: $45.99", "amazon.com", 4599, "USD"},
		{"$12.99 - $15.99", "amazon.com", 1299, "USD"},
		{"-$5.00", "amazon.com", 500, "USD"},
		{"$0.00", "amazon.com", 0, "USD"},
		{"$1,000,000.00", "amazon.com", 100000000, "USD"},
		{"$999999999999999.99", "amazon.com", 99999999999999999, "USD"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s@%s", c.text, c.marketplace), func(t *testing.T) {
			m, err := ParsePrice(c.text, c.marketplace)
			if err != nil {
				t.Fatalf("ParsePrice(%q, %q): %v", c.text, c.marketplace, err)
			}
			if m.GetAmountMinor() != c.amount || m.GetCurrency() != c.currency {
				t.Errorf("ParsePrice(%q, %q) = %d %s, want %d %s", c.text, c.marketplace, m.GetAmountMinor(), m.GetCurrency(), c.amount, c.currency)
			}
		})
	}
}

func TestParsePriceErrors(t *testing.T) {
	cases := []struct {
		text, marketplace string
		want              error
	}{
		{"", "amazon.com", ErrNoPrice},
		{"FREE", "amazon.com", ErrNoPrice},
		{"Currently unavailable.", "amazon.com", ErrNoPrice},
		{"$", "amazon.com", ErrNoPrice},
		{"12.99", "", ErrNoCurrency},
		{"12.99", "example.org", ErrNoCurrency},
		{"$1,2,3", "amazon.com", ErrMalformedNumber},
		{"$1.234,567.89", "amazon.com", ErrMalformedNumber},
		{"1.234.56 €", "amazon.de", ErrMalformedNumber},
		{"€ 1,23,4", "amazon.de", ErrMalformedNumber},
		{"$1234567890123456789", "amazon.com", ErrMalformedNumber},
		{"$1'234,56'78", "amazon.com", ErrMalformedNumber},
	}
	for _, c := range cases {
		m, err := ParsePrice(c.text, c.marketplace)
		if !errors.Is(err, c.want) {
			t.Errorf("ParsePrice(%q, %q) = %v, %v; want error %v", c.text, c.marketplace, m, err, c.want)
		}
		if m != nil {
			t.Errorf("ParsePrice(%q, %q) returned %v with its error", c.text, c.marketplace, m)
		}
	}
}

func TestParseCount(t *testing.T) {
	cases := []struct {
		text string
		want int64
		ok   bool
	}{
		{"84,753 ratings", 84753, true},
		{"1.234 Bewertungen", 1234, true},
		{"1,12,345 ratings", 112345, true},
		{"12 345", 12345, true},
		{"(84.7K)", 84700, true},
		{"1.5K", 1500, true},
		{"1K+", 1000, true},
		{"(2,3 mil)", 2300, true},
		{"1万", 10000, true},
		{"226", 226, true},
		{"2.345 Sternebewertungen", 2345, true},
		{"1,234個の評価", 1234, true},
		{"1,2,3", 0, false},
		{"4.5", 0, false},
		{"no digits", 0, false},
		{"", 0, false},
		{"99999999999999999999", 0, false},
	}
	for _, c := range cases {
		got, ok := parseCount(c.text)
		if got != c.want || ok != c.ok {
			t.Errorf("parseCount(%q) = %d, %v; want %d, %v", c.text, got, ok, c.want, c.ok)
		}
	}
}

func TestParseRating(t *testing.T) {
	cases := []struct {
		text string
		want float64
		ok   bool
	}{
		{"4.5 out of 5 stars", 4.5, true},
		{"4.2 out of 5 stars, rating details", 4.2, true},
		{"4,6 von 5 Sternen", 4.6, true},
		{"4,5 de 5 estrellas", 4.5, true},
		{"4,6 de 5 estrelas", 4.6, true},
		{"4,3 sur 5 étoiles", 4.3, true},
		{"4,4 su 5 stelle", 4.4, true},
		{"5つ星のうち4.3", 4.3, true},
		{"5 out of 5 stars", 5, true},
		{"4.2 out of 5", 4.2, true},
		{"9.5 out of 5 stars", 0, false},
		{"0.5 out of 5 stars", 0, false},
		{"Not yet rated", 0, false},
		{"Prime", 0, false},
	}
	for _, c := range cases {
		got, ok := parseRating(c.text)
		if got != c.want || ok != c.ok {
			t.Errorf("parseRating(%q) = %v, %v; want %v, %v", c.text, got, ok, c.want, c.ok)
		}
	}
}

func TestParseBought(t *testing.T) {
	cases := []struct {
		text string
		want int64
		ok   bool
	}{
		{"1K+ bought in past month", 1000, true},
		{"10K+ bought in past month", 10000, true},
		{"200+ bought in past month", 200, true},
		{"50+ bought in past month", 50, true},
		{"50+ bought", 50, true},
		{"2K+ bought", 2000, true},
		{"100+ Mal im letzten Monat gekauft", 100, true},
		{"Mehr als 1.000 Mal im letzten Monat gekauft", 1000, true},
		{"Más de 1 mil comprados el mes pasado", 1000, true},
		{"200+ comprados el mes pasado", 200, true},
		{"Mais de 1 mil compras no mês passado", 1000, true},
		{"過去1か月で1000点以上購入されました", 1000, true},
		{"New on Amazon in past month", 0, false},
		{"Frequently bought together", 0, false},
		{"bought in past month", 0, false},
		{"", 0, false},
	}
	for _, c := range cases {
		got, ok := parseBought(c.text)
		if got != c.want || ok != c.ok {
			t.Errorf("parseBought(%q) = %d, %v; want %d, %v", c.text, got, ok, c.want, c.ok)
		}
	}
}

func TestParseRanks(t *testing.T) {
	cases := []struct {
		lines []string
		want  string
	}{
		{[]string{"#1,234 in Electronics (See Top 100 in Electronics)", "#5 in Portable Power Banks"}, "1234:Electronics 5:Portable Power Banks"},
		{[]string{"#5,211 in Cell Phones & Accessories (See Top 100 in Cell Phones & Accessories) #309 in Cell Phone Portable Power Banks"}, "5211:Cell Phones & Accessories 309:Cell Phone Portable Power Banks"},
		{[]string{"Nr. 1.234 in Elektronik & Foto (Siehe Top 100 in Elektronik & Foto)", "Nr. 5 in Powerstationen"}, "1234:Elektronik & Foto 5:Powerstationen"},
		{[]string{"nº1.234 en Electrónica (Ver el Top 100 en Electrónica)"}, "1234:Electrónica"},
		{[]string{"Nº 1.234 em Eletrônicos (Conheça o Top 100 em Eletrônicos)"}, "1234:Eletrônicos"},
		{[]string{"- 1,234位家電＆カメラ (の売れ筋ランキングを見る家電＆カメラ) - 56位モバイルバッテリー"}, "1234:家電＆カメラ 56:モバイルバッテリー"},
		{[]string{"#1 in Cell Phones & Accessories > Accessories > Portable Power Banks"}, "1:Portable Power Banks"},
		{[]string{"Customer Reviews: 4.2 out of 5 stars"}, ""},
		{[]string{"#0 in Nothing"}, ""},
	}
	for _, c := range cases {
		got := ""
		for i, r := range parseRanks(c.lines) {
			if i > 0 {
				got += " "
			}
			got += fmt.Sprintf("%d:%s", r.GetRank(), r.GetCategory())
		}
		if got != c.want {
			t.Errorf("parseRanks(%q) = %q, want %q", c.lines, got, c.want)
		}
	}
}

func TestParseAvailability(t *testing.T) {
	cases := map[string]string{
		"In Stock": "AVAILABILITY_IN_STOCK",
		"In stock. Usually ships within 2 to 3 days":                         "AVAILABILITY_IN_STOCK",
		"Only 3 left in stock - order soon.":                                 "AVAILABILITY_LOW_STOCK",
		"Nur noch 3 auf Lager (mehr ist unterwegs).":                         "AVAILABILITY_LOW_STOCK",
		"Solo quedan 2 en stock.":                                            "AVAILABILITY_LOW_STOCK",
		"残り2点 ご注文はお早めに":                                                      "AVAILABILITY_LOW_STOCK",
		"Currently unavailable.":                                             "AVAILABILITY_OUT_OF_STOCK",
		"Temporarily out of stock. We are working hard to be back in stock.": "AVAILABILITY_OUT_OF_STOCK",
		"Derzeit nicht verfügbar.":                                           "AVAILABILITY_OUT_OF_STOCK",
		"No disponible.":                                                     "AVAILABILITY_OUT_OF_STOCK",
		"Auf Lager":                                                          "AVAILABILITY_IN_STOCK",
		"Em estoque":                                                         "AVAILABILITY_IN_STOCK",
		"在庫あり。":                                                              "AVAILABILITY_IN_STOCK",
		"This item will be released on September 1, 2026. Pre-order now.":    "AVAILABILITY_PREORDER",
		"この商品は2026/9/1に発売予定です。予約受付中。":                                        "AVAILABILITY_PREORDER",
		"":                  "AVAILABILITY_UNSPECIFIED",
		"Ships from Amazon": "AVAILABILITY_UNSPECIFIED",
	}
	for text, want := range cases {
		if got := parseAvailability(text).String(); got != want {
			t.Errorf("parseAvailability(%q) = %s, want %s", text, got, want)
		}
	}
}

func TestParseSellerCount(t *testing.T) {
	cases := []struct {
		text string
		want int32
		ok   bool
	}{
		{"New (5) from $24.99", 5, true},
		{"Other Sellers on Amazon New (12) from $19.99 & FREE Shipping", 12, true},
		{"3 New from $21.99", 3, true},
		{"Neu (3) ab 1.249,00 €", 3, true},
		{"Nuevo (2) desde 12,99 €", 2, true},
		{"Novo (4) a partir de R$ 89,90", 4, true},
		{"新品の出品：7", 7, true},
		{"See All Buying Options", 0, false},
		{"New (0) from", 0, false},
	}
	for _, c := range cases {
		got, ok := parseSellerCount(c.text)
		if got != c.want || ok != c.ok {
			t.Errorf("parseSellerCount(%q) = %d, %v; want %d, %v", c.text, got, ok, c.want, c.ok)
		}
	}
}

func TestParseResultCount(t *testing.T) {
	cases := []struct {
		text          string
		total         int64
		ok            bool
		first, lastNo int64
	}{
		{"1-48 of over 2,000 results for", 2000, true, 1, 48},
		{"1-16 of over 90,000 results for \"portable charger\"", 90000, true, 1, 16},
		{"17–32 of 700 results for \"20000mah 3 pack\"", 700, true, 17, 32},
		{"49-96 von mehr als 10.000 Ergebnissen oder Vorschlägen für „powerbank 20000mah“", 10000, true, 49, 96},
		{"1-48 de más de 2.000 resultados para", 2000, true, 1, 48},
		{"\"モバイルバッテリー 10000mAh\"の検索結果 1-48/10,000以上", 10000, true, 1, 48},
		{"48 results for \"usb c\"", 48, true, 0, 0},
		{"1-12 of results", 0, false, 1, 12},
		{"Results", 0, false, 0, 0},
	}
	for _, c := range cases {
		total, ok, first, last := parseResultCount(c.text)
		if total != c.total || ok != c.ok || first != c.first || last != c.lastNo {
			t.Errorf("parseResultCount(%q) = %d, %v, %d, %d; want %d, %v, %d, %d", c.text, total, ok, first, last, c.total, c.ok, c.first, c.lastNo)
		}
	}
}

func TestNormaliseMarketplace(t *testing.T) {
	cases := map[string]string{
		"amazon.de":                          "amazon.de",
		"www.amazon.co.jp":                   "amazon.co.jp",
		"https://www.amazon.com.br/s?k=x":    "amazon.com.br",
		"Amazon.IN":                          "amazon.in",
		"http://www.amazon.com:443/dp/B0000": "amazon.com",
		"":                                   "",
	}
	for in, want := range cases {
		if got := normaliseMarketplace(in); got != want {
			t.Errorf("normaliseMarketplace(%q) = %q, want %q", in, got, want)
		}
	}
}
