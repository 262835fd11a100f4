package dashboards

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// TestJSONFilesAreCurrent keeps the committed JSON equal to what the Go definitions render.
func TestJSONFilesAreCurrent(t *testing.T) {
	uids := map[string]bool{}
	for _, d := range All() {
		want, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(d.File)
		if err != nil {
			t.Fatalf("%v (run go generate ./dashboards/)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go generate ./dashboards/", d.File)
		}
		if uids[d.UID] {
			t.Errorf("uid %s used twice", d.UID)
		}
		uids[d.UID] = true
		var doc struct {
			UID    string `json:"uid"`
			Panels []struct {
				ID      int `json:"id"`
				GridPos struct{ X, Y, W, H int }
				Targets []map[string]any `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(got, &doc); err != nil {
			t.Fatalf("%s: %v", d.File, err)
		}
		if doc.UID != d.UID || len(doc.Panels) != len(d.Panels) {
			t.Errorf("%s: uid %q with %d panels, want %q with %d", d.File, doc.UID, len(doc.Panels), d.UID, len(d.Panels))
		}
		for _, p := range doc.Panels {
			if len(p.Targets) == 0 || p.GridPos.W == 0 || p.GridPos.X+p.GridPos.W > 24 {
				t.Errorf("%s: panel %d has %d targets at %+v", d.File, p.ID, len(p.Targets), p.GridPos)
			}
			for _, tg := range p.Targets {
				if tg["rawSql"] == "" && tg["expr"] == "" {
					t.Errorf("%s: panel %d has an empty query", d.File, p.ID)
				}
			}
		}
	}
}
