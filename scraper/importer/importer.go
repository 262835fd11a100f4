// Package importer reads datasets of product snapshots (CSV, Keepa-style exports, JSON lines) into
// ProductObserved events with deterministic event ids, so the pipeline runs on data nobody scraped.
//
// Read is pure: it calls emit once per good row and reports bad rows in Stats without stopping.
// Emitter adapts emit to a Kafka producer. The column mapping and the id rule are in docs/import.md.
package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/parse"
)

// Format is the encoding of an import file.
type Format int

const (
	// Auto picks JSONL when the first non-blank byte (after a byte-order mark) is '{', else CSV.
	Auto Format = iota
	// CSV is comma-, semicolon- or tab-separated values with a header row.
	CSV
	// JSONL is one JSON object per line.
	JSONL
)

// String returns the format's name as the command line spells it.
func (f Format) String() string {
	switch f {
	case Auto:
		return "auto"
	case CSV:
		return "csv"
	case JSONL:
		return "jsonl"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat reads a format name: "auto" (or ""), "csv", "tsv", "jsonl", "ndjson" or "json".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return Auto, nil
	case "csv", "tsv":
		return CSV, nil
	case "jsonl", "ndjson", "json":
		return JSONL, nil
	}
	return Auto, fmt.Errorf("parse format %q: want auto, csv or jsonl", s)
}

// DefaultMarketplace is the marketplace of rows that name none when Options.Marketplace is empty.
const DefaultMarketplace = "amazon.com"

// DefaultProducer is the envelope producer when Options.Producer is empty.
const DefaultProducer = "import"

// Options say what a file does not: marketplace, currency, time and who is importing.
type Options struct {
	// Marketplace of rows without a marketplace column; DefaultMarketplace when empty.
	Marketplace string
	// Currency (ISO 4217) of prices written without a sign and of rows without a currency column;
	// the marketplace's currency when empty.
	Currency string
	// DefaultTime is the event time of rows without a timestamp; when zero such rows are bad.
	DefaultTime time.Time
	// Location of timestamps written without a zone; UTC when nil.
	Location *time.Location
	// Producer written into every envelope; DefaultProducer when empty.
	Producer string
	// CorrelationID written into every envelope, e.g. an id of this import run; it does not affect
	// event ids.
	CorrelationID string
}

// withDefaults fills the empty options.
func (o Options) withDefaults() Options {
	if o.Marketplace == "" {
		o.Marketplace = DefaultMarketplace
	}
	o.Marketplace = normaliseMarketplace(o.Marketplace)
	o.Currency = strings.ToUpper(strings.TrimSpace(o.Currency))
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Producer == "" {
		o.Producer = DefaultProducer
	}
	return o
}

// Stats count what Read did.
type Stats struct {
	// Rows is the number of data rows read (header and blank rows excluded), good or bad.
	Rows int
	// Imported is the number of rows passed to emit without error.
	Imported int
	// Bad lists the skipped rows, in file order.
	Bad []RowError
	// IgnoredColumns are the columns (CSV headers, JSON keys) that map to no field, in file order.
	IgnoredColumns []string
}

// RowError is why one row was skipped.
type RowError struct {
	// Line is the 1-based line of the file the row starts on.
	Line int
	// Column is the column (as the file names it) whose value was wrong; empty for a whole-row error.
	Column string
	// Err is what was wrong.
	Err error
}

// Error describes the bad row.
func (e RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d, column %q: %v", e.Line, e.Column, e.Err)
}

// Unwrap returns the cause.
func (e RowError) Unwrap() error { return e.Err }

var (
	// ErrEmpty means the input holds no header and no rows.
	ErrEmpty = errors.New("input is empty")
	// ErrNoASINColumn means a CSV header has no column that maps to asin.
	ErrNoASINColumn = errors.New("no asin column in header")
	// ErrMissingASIN means a row has no ASIN.
	ErrMissingASIN = errors.New("missing asin")
	// ErrInvalidASIN means an ASIN is not ten letters or digits.
	ErrInvalidASIN = errors.New("asin is not 10 letters or digits")
	// ErrMissingTime means a row has no timestamp and Options.DefaultTime is zero.
	ErrMissingTime = errors.New("missing timestamp and no default time")
	// ErrInvalidValue means a cell cannot be read as its column's type.
	ErrInvalidValue = errors.New("invalid value")
)

// Read reads product snapshots in the given format from r and calls emit with one ProductObserved
// per good row, in file order. A bad row is recorded in Stats.Bad and skipped. Read stops at the
// first error from emit or from r (returning the stats so far); a header without an asin column and
// an empty input are errors too. Every event has source OBSERVATION_SOURCE_IMPORT and an envelope
// whose event id is derived from the row's content (EventID), so importing a file twice yields the
// same ids. emit owns the event it is given.
func Read(r io.Reader, format Format, opts Options, emit func(*marketv1.ProductObserved) error) (Stats, error) {
	opts = opts.withDefaults()
	br := bufio.NewReaderSize(r, 64<<10)
	if err := skipBOM(br); err != nil {
		return Stats{}, fmt.Errorf("import: read: %w", err)
	}
	if format == Auto {
		b, err := firstNonBlank(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return Stats{}, fmt.Errorf("import: %w", ErrEmpty)
			}
			return Stats{}, fmt.Errorf("import: read: %w", err)
		}
		format = CSV
		if b == '{' {
			format = JSONL
		}
	}
	switch format {
	case CSV:
		return readCSV(br, opts, emit)
	case JSONL:
		return readJSONL(br, opts, emit)
	}
	return Stats{}, fmt.Errorf("import: unknown format %v", format)
}

// skipBOM drops a UTF-8 byte-order mark at the start of br.
func skipBOM(br *bufio.Reader) error {
	b, err := br.Peek(3)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if bytes.HasPrefix(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	return nil
}

// firstNonBlank returns the first byte that is not white space without consuming anything; after
// a buffer's worth of white space it gives up and returns ' '.
func firstNonBlank(br *bufio.Reader) (byte, error) {
	b, err := br.Peek(br.Size())
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			return c, nil
		}
	}
	if len(b) == br.Size() {
		return ' ', nil
	}
	return 0, err
}

// finish stamps a row's event with its source and an envelope carrying the deterministic id.
func finish(ev *marketv1.ProductObserved, t time.Time, opts Options) *marketv1.ProductObserved {
	ev.Source = marketv1.ObservationSource_OBSERVATION_SOURCE_IMPORT
	ev.Envelope = marketv1.NewEnvelope(opts.Producer, opts.CorrelationID, t)
	ev.Envelope.EventId = EventID(ev, t)
	return ev
}

// currencyOf returns the currency of a marketplace, or "" when it is unknown.
func currencyOf(marketplace string) string {
	m, err := parse.ParsePrice("1", marketplace)
	if err != nil {
		return ""
	}
	return m.GetCurrency()
}

// normaliseMarketplace turns "https://www.Amazon.DE/" into "amazon.de".
func normaliseMarketplace(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimPrefix(s, "www.")
	if s != "" && !strings.HasPrefix(s, "amazon.") {
		// Keepa's Locale column holds only the top-level part: "com", "de", "co.uk".
		s = "amazon." + strings.TrimPrefix(s, ".")
	}
	return s
}
