package web_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"regexp"
	"testing"
)

// cssInputs are the files make web builds static/app.css from (WEB_CSS_INPUTS in the Makefile),
// in the order their sha256 is taken.
var cssInputs = []string{"src/styles.css", "static/index.html", "static/app.js", "package-lock.json"}

var cssHeader = regexp.MustCompile(`^/\* Built by make web from web/src/styles\.css with Tailwind; inputs sha256 ([0-9a-f]{64}) \*/$`)

// The committed stylesheet must have been built from the committed sources: a change to the
// Tailwind input, to a class used by the page or its script, or to the locked Tailwind version
// needs `make web`.
func TestStylesheetIsCurrent(t *testing.T) {
	h := sha256.New()
	for _, p := range cssInputs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("read stylesheet input: %v", err)
		}
		h.Write(b)
	}
	want := hex.EncodeToString(h.Sum(nil))

	f, err := os.Open("static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		t.Fatalf("static/app.css is empty: run `make web`")
	}
	m := cssHeader.FindStringSubmatch(sc.Text())
	switch {
	case m == nil:
		t.Fatalf("static/app.css does not start with the build header (got %.120q): run `make web`", sc.Text())
	case m[1] != want:
		t.Errorf("static/app.css is stale: its inputs %v hash to %s, the file was built from %s: run `make web`", cssInputs, want, m[1])
	}
}
