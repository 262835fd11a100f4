package parse

import (
	"bytes"
	"encoding/json"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/topics"
)

// Page is a parsed page: a *SearchPage or a *ProductPage.
type Page interface {
	render(b *bytes.Buffer)
}

// Render prints what a parser read as JSON lines: for a search page a summary line (kind "search",
// marketplace, keyword, page, total, blocked, no_results, the number of listings, warnings) then one
// line per listing in page order; for a product page one line (kind "product"). Protobuf values use
// the proto field names, as `marketinsights tail` prints them. A nil page renders as nothing.
func Render(p Page) []byte {
	var b bytes.Buffer
	if p != nil {
		p.render(&b)
	}
	return b.Bytes()
}

// searchSummary is the first line Render writes for a search page.
type searchSummary struct {
	Kind         string   `json:"kind"`
	Marketplace  string   `json:"marketplace,omitempty"`
	Keyword      string   `json:"keyword,omitempty"`
	Page         int32    `json:"page,omitempty"`
	TotalResults *int64   `json:"total_results,omitempty"`
	Blocked      bool     `json:"blocked"`
	NoResults    bool     `json:"no_results"`
	Listings     int      `json:"listings"`
	Warnings     []string `json:"warnings,omitempty"`
}

func (p *SearchPage) render(b *bytes.Buffer) {
	if p == nil {
		return
	}
	writeJSONLine(b, searchSummary{
		Kind: "search", Marketplace: p.Marketplace, Keyword: p.Keyword, Page: p.Page,
		TotalResults: p.TotalResults, Blocked: p.Blocked, NoResults: p.NoResults,
		Listings: len(p.Listings), Warnings: p.Warnings,
	})
	for _, l := range p.Listings {
		writeProtoLine(b, l)
	}
}

// productLine is the line Render writes for a product page.
type productLine struct {
	Kind            string          `json:"kind"`
	ASIN            string          `json:"asin,omitempty"`
	Marketplace     string          `json:"marketplace,omitempty"`
	Blocked         bool            `json:"blocked"`
	Attributes      json.RawMessage `json:"attributes,omitempty"`
	RatingHistogram map[string]int  `json:"rating_histogram,omitempty"`
	Warnings        []string        `json:"warnings,omitempty"`
}

func (p *ProductPage) render(b *bytes.Buffer) {
	if p == nil {
		return
	}
	line := productLine{Kind: "product", ASIN: p.ASIN, Marketplace: p.Marketplace, Blocked: p.Blocked, Warnings: p.Warnings}
	if p.Attributes != nil {
		if raw, err := topics.MarshalJSON(p.Attributes); err == nil {
			line.Attributes = raw
		} else {
			line.Warnings = append(line.Warnings, "render attributes: "+err.Error())
		}
	}
	if h := p.RatingHistogram; h != nil {
		line.RatingHistogram = make(map[string]int, 5)
		for stars := 1; stars <= 5; stars++ {
			line.RatingHistogram[strconv.Itoa(stars)] = h.Percent(stars)
		}
	}
	writeJSONLine(b, line)
}

// writeJSONLine appends v as one line of JSON; a value that cannot be encoded becomes an error line.
func writeJSONLine(b *bytes.Buffer, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		raw, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	b.Write(raw)
	b.WriteByte('\n')
}

// writeProtoLine appends a protobuf message as one line of JSON.
func writeProtoLine(b *bytes.Buffer, m proto.Message) {
	raw, err := topics.MarshalJSON(m)
	if err != nil {
		writeJSONLine(b, map[string]string{"error": err.Error()})
		return
	}
	b.Write(raw)
	b.WriteByte('\n')
}
