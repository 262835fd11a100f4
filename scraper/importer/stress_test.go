package importer

import (
	"strings"
	"testing"
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

func TestLargeInputsAreFast(t *testing.T) {
	inputs := map[string]string{
		"many asin columns": strings.Repeat("asin,", 200000) + "\n" + strings.Repeat("B000000001,", 200000) + "\n",
		"long JSON line":    `{"asin":"B000000001","title":"` + strings.Repeat("x", 8<<20) + `"}` + "\n",
		"many JSON keys":    "{" + strings.Repeat(`"k":1,`, 100000) + `"asin":"B000000001"}`,
		"leading blanks":    strings.Repeat(" \n", 100000) + "asin\nB000000001\n",
		"long price":        "asin,price\nB000000001," + strings.Repeat("1", 100000) + "\n",
		"many bad rows":     "asin\n" + strings.Repeat("x\n", 200000),
	}
	for name, in := range inputs {
		start := time.Now()
		_, _ = Read(strings.NewReader(in), Auto, Options{DefaultTime: t0}, func(*marketv1.ProductObserved) error { return nil })
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: %v", name, d)
		}
	}
}
