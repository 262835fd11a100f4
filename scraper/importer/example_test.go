package importer_test

import (
	"fmt"
	"strings"
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/importer"
)

func ExampleRead() {
	file := "ASIN,Title,Buy Box: Current,Reviews: Rating,Last Update\n" +
		"B07XYZ1234,Acme Bottle,$ 24.99,4.7,2026-02-10 08:30\n" +
		"B07XYZ9999,No time,$ 1.00,9.9,\n"
	st, err := importer.Read(strings.NewReader(file), importer.Auto,
		importer.Options{Marketplace: "amazon.com", DefaultTime: time.Date(2026, 2, 11, 0, 0, 0, 0, time.UTC)},
		func(ev *marketv1.ProductObserved) error {
			a := ev.GetAttributes()
			fmt.Println(ev.GetAsin(), a.GetTitle(), a.GetPrice().GetAmountMinor(), a.GetPrice().GetCurrency(), a.GetRating(),
				ev.GetEnvelope().GetEventTime().AsTime().Format(time.RFC3339), ev.GetSource())
			return nil
		})
	if err != nil {
		fmt.Println("import failed:", err)
		return
	}
	fmt.Printf("%d rows, %d imported\n", st.Rows, st.Imported)
	for _, bad := range st.Bad {
		fmt.Println("skipped:", bad)
	}
	// Output:
	// B07XYZ1234 Acme Bottle 2499 USD 4.7 2026-02-10T08:30:00Z OBSERVATION_SOURCE_IMPORT
	// 2 rows, 1 imported
	// skipped: line 3, column "Reviews: Rating": invalid value: rating "9.9" is not a number from 0 to 5
}
