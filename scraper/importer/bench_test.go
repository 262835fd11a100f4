package importer

import (
	"fmt"
	"strings"
	"testing"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// keepaFile builds a Keepa-style export of n rows.
func keepaFile(n int) string {
	var b strings.Builder
	b.WriteString("Locale,Image,Title,Sales Rank: Current,Sales Rank: 90 days avg.,Bought in past month,Reviews: Rating,Reviews: Review Count,Buy Box 🚚: Current,Amazon: Current,New: Current,List Price: Current,New Offer Count: Current,\"Count of retrieved live offers: New, FBA\",Categories: Root,Categories: Sub,ASIN,Brand,Last Update,Tracking since\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "com,71Abc%d.jpg,\"Acme Bottle %d, \"\"Insulated\"\"\",\"%d\",\"13,000\",2000,4.7,\"8,912\",$ %d.99,$ 25.49,$ 22.00,$ 34.99,14,3,Sports & Outdoors,Water Bottles,B%09d,Acme,2026-02-10 08:30,2019-05-01 00:00\n",
			i, i, 1000+i, 10+i%50, i)
	}
	return b.String()
}

// jsonlFile builds a flat JSON lines file of n rows.
func jsonlFile(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"asin":"B%09d","title":"Acme Bottle %d","price":%d.99,"rating":4.5,"review_count":%d,"sales_rank":%d,"rank_category":"Sports","timestamp":"2026-02-10T08:30:00Z"}`+"\n", i, i, 10+i%50, i, 1000+i)
	}
	return b.String()
}

func benchmarkRead(b *testing.B, input string, rows int) {
	b.ReportAllocs()
	b.SetBytes(int64(len(input)))
	imported := 0
	for b.Loop() {
		st, err := Read(strings.NewReader(input), Auto, Options{}, func(*marketv1.ProductObserved) error { return nil })
		if err != nil || st.Imported != rows {
			b.Fatalf("Read: %v, %+v", err, st.Bad)
		}
		imported += st.Imported
	}
	b.ReportMetric(float64(imported)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkReadKeepaCSV measures a 20-column Keepa export, 1000 rows per op.
func BenchmarkReadKeepaCSV(b *testing.B) { benchmarkRead(b, keepaFile(1000), 1000) }

// BenchmarkReadJSONL measures flat JSON lines, 1000 rows per op.
func BenchmarkReadJSONL(b *testing.B) { benchmarkRead(b, jsonlFile(1000), 1000) }
