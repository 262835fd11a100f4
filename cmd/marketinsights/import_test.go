package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

func TestImportSkipsBadRowsAndWritesTheRest(t *testing.T) {
	args := brokerArgs(t)
	asin := "B0IMP" + strings.ToUpper(marketv1.NewEventID()[:5])
	csv := "asin,title,price,rating,timestamp\n" +
		asin + ",Imported charger,$19.99,4.5,2026-11-20T10:00:00Z\n" +
		",no asin,$1.00,4.0,2026-11-20T10:00:00Z\n" +
		asin + ",Imported charger,$18.99,not-a-rating,2026-11-21T10:00:00Z\n" +
		asin + ",Imported charger,$17.99,4.4,2026-11-22T10:00:00Z\n"
	path := filepath.Join(t.TempDir(), "snapshots.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", append(args, "import", path)...)
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	if !strings.Contains(out, "4 rows, 2 imported") || !strings.Contains(out, "2 bad") {
		t.Fatalf("summary: %s", out)
	}
	if !strings.Contains(errOut, "line 3") || !strings.Contains(errOut, "line 4") {
		t.Fatalf("bad rows not reported with their lines: %s", errOut)
	}
	var got []string
	for _, r := range tailLines(t, args, topics.ProductObservations) {
		if r.Key == asin {
			got = append(got, string(r.Value))
		}
	}
	if len(got) != 2 || !strings.Contains(got[0], `"amount_minor":"1999"`) || !strings.Contains(got[1], `"amount_minor":"1799"`) {
		t.Fatalf("imported records: %v", got)
	}
	// Importing the same file again writes the same event ids (the processors dedupe on them).
	code, _, _ = runCLI(t, "", append(args, "import", path)...)
	if code != 0 {
		t.Fatal("second import failed")
	}
	ids := map[string]int{}
	for _, r := range tailLines(t, args, topics.ProductObservations) {
		if r.Key == asin {
			ids[r.Headers[topics.HeaderEventID]]++
		}
	}
	if len(ids) != 2 {
		t.Fatalf("re-import produced new event ids: %v", ids)
	}
}
