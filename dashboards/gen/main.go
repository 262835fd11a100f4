// Command gen writes the dashboards' JSON files into the current directory (go generate runs it
// in dashboards/).
package main

import (
	"fmt"
	"os"

	"github.com/marketinsightspro/marketinsights/dashboards"
)

func main() {
	for _, d := range dashboards.All() {
		b, err := d.JSON()
		if err == nil {
			err = os.WriteFile(d.File, b, 0o644)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "gen: %s: %v\n", d.File, err)
			os.Exit(1)
		}
	}
}
