package anomalies_test

import (
	"fmt"

	"github.com/marketinsightspro/marketinsights/processors/anomalies"
)

func ExampleFormatMoney() {
	fmt.Println(anomalies.FormatMoney(1999, "USD"), anomalies.FormatMoney(123456, "EUR"), anomalies.FormatMoney(1500, "JPY"))
	// Output: $19.99 €1,234.56 ¥1,500
}
