package keywords

import (
	"crypto/sha1"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Namespaces of the name-based (version 5) UUIDs the processor derives its event ids from.
var (
	nsWindows = uuid.MustParse("6f1f5c1e-3b0e-4f7a-9a55-0c1d6b2f8e01")
	nsLate    = uuid.MustParse("6f1f5c1e-3b0e-4f7a-9a55-0c1d6b2f8e02")
	nsAnomaly = uuid.MustParse("6f1f5c1e-3b0e-4f7a-9a55-0c1d6b2f8e03")
)

// nameUUID returns the version 5 UUID of the parts joined by NUL in namespace ns; buf is scratch.
func nameUUID(ns uuid.UUID, buf []byte, parts ...string) string {
	buf = buf[:0]
	for i, p := range parts {
		if i > 0 {
			buf = append(buf, 0)
		}
		buf = append(buf, p...)
	}
	return sha1UUID(ns, buf)
}

// sha1UUID is uuid.NewSHA1(ns, name).String() without its allocations but the string's.
func sha1UUID(ns uuid.UUID, name []byte) string {
	var stack [256]byte
	b := append(append(stack[:0], ns[:]...), name...)
	sum := sha1.Sum(b)
	var u uuid.UUID
	copy(u[:], sum[:16])
	u[6] = (u[6] & 0x0f) | 0x50 // version 5
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant
	return u.String()
}

// windowEventID is the event id of an update: a UUID of (keyword, kind, size, start, version).
func (r *run) windowEventID(s Series, start, version int64) string {
	b := r.sc.idBuf[:0]
	b = append(b, r.st.GetKeyword()...)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(s.Kind), 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, ms(s.Size), 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, ms(s.Step), 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, start, 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, version, 10)
	r.sc.idBuf = b
	return sha1UUID(nsWindows, b)
}

// topChanges reports the products of a closing window's top list that were not in the top list
// of the window just before it (when that window had listings).
func (r *run) topChanges(sr *marketv1.WindowSeries, start, end, step int64) {
	lc := sr.GetLastClosed()
	if lc == nil || lc.GetStartUnixMs() != start-step {
		return
	}
	x := &r.sc.stats
	for i, t := range x.top {
		tr := r.st.Products[t.m.tr]
		asin := tr.GetAsin()
		if slices.Contains(lc.GetTopAsins(), asin) {
			continue
		}
		a := labelOf(tr, tr.Points[t.m.pt])
		rank := i + 1
		r.out.Anomalies = append(r.out.Anomalies, &marketv1.AnomalyDetected{
			Envelope: &marketv1.Envelope{
				EventId:       nameUUID(nsAnomaly, r.sc.idBuf[:0], "event", r.st.GetKeyword(), asin, strconv.FormatInt(start, 10)),
				EventTime:     tsOf(end),
				Producer:      r.cfg.Producer,
				SchemaVersion: marketv1.SchemaVersion,
			},
			AnomalyId:   nameUUID(nsAnomaly, r.sc.idBuf[:0], "new-top", r.st.GetKeyword(), asin, strconv.FormatInt(start, 10)),
			Asin:        asin,
			Keyword:     r.st.GetKeyword(),
			Marketplace: r.st.GetMarketplace(),
			Kind:        marketv1.AnomalyKind_ANOMALY_KIND_NEW_TOP10_COMPETITOR,
			Score:       float64(r.cfg.TopN + 1 - rank),
			Severity:    severityOfRank(rank),
			Observed:    t.est.Units,
			Baseline: &marketv1.Baseline{
				Method: "previous_top",
				Center: lc.GetTopLastUnits(),
				Points: int32(len(lc.GetTopAsins())),
				Since:  tsOf(lc.GetStartUnixMs()),
			},
			Explanation: fmt.Sprintf("%s entered the top %d for '%s' at #%d with ~%s sales/month.",
				productLabel(asin, a.GetTitle()), r.cfg.TopN, r.st.GetKeyword(), rank, roughCount(t.est.Units)),
			Title: a.GetTitle(),
		})
	}
}

// severityOfRank grades a new top competitor by the rank it reached: #1-3 critical, #4-6
// warning, below info.
func severityOfRank(rank int) marketv1.Severity {
	switch {
	case rank <= 3:
		return marketv1.Severity_SEVERITY_CRITICAL
	case rank <= 6:
		return marketv1.Severity_SEVERITY_WARNING
	default:
		return marketv1.Severity_SEVERITY_INFO
	}
}

// productLabel names a product in a sentence: its title (shortened to 60 characters) and ASIN,
// or the ASIN alone.
func productLabel(asin, title string) string {
	title = strings.TrimSpace(title)
	if title == "" {
		return asin
	}
	if r := []rune(title); len(r) > 60 {
		title = strings.TrimSpace(string(r[:59])) + "…"
	}
	return fmt.Sprintf("%s (%s)", title, asin)
}

// roughCount renders an estimate with two significant digits and thousands separators:
// 1,234.5 is "1,200", 73.2 is "73", 0.4 is "0".
func roughCount(v float64) string {
	if !(v > 0) || math.IsInf(v, 0) {
		return "0"
	}
	n := int64(math.Round(v))
	if n >= 100 {
		p := int64(math.Pow10(int(math.Floor(math.Log10(float64(n)))) - 1))
		n = (n + p/2) / p * p
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
