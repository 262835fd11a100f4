package importer

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// readCSV reads a header and then one product per record.
func readCSV(br *bufio.Reader, opts Options, emit func(*marketv1.ProductObserved) error) (Stats, error) {
	var st Stats
	cr := csv.NewReader(br)
	cr.Comma = detectComma(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var m *mapping
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return st, fmt.Errorf("import csv: read: %w", err)
			}
			if m == nil {
				return st, fmt.Errorf("import csv: header: %w", err)
			}
			st.Rows++
			st.Bad = append(st.Bad, RowError{Line: pe.StartLine, Err: fmt.Errorf("%w: %v", ErrInvalidValue, pe.Err)})
			continue
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue
		}
		if m == nil {
			m = newMapping(rec)
			st.IgnoredColumns = m.ignored
			if len(m.cells[fASIN]) == 0 {
				return st, fmt.Errorf("import csv: line %d: %w (have %s)", line, ErrNoASINColumn, strings.Join(m.names, ", "))
			}
			continue
		}
		st.Rows++
		ev, t, rerr := m.row(rec, opts)
		if rerr != nil {
			rerr.Line = line
			st.Bad = append(st.Bad, *rerr)
			continue
		}
		if err := emit(finish(ev, t, opts)); err != nil {
			return st, fmt.Errorf("import csv: line %d: emit: %w", line, err)
		}
		st.Imported++
	}
	if m == nil {
		return st, fmt.Errorf("import csv: %w", ErrEmpty)
	}
	return st, nil
}

// blank reports whether every cell of a record is empty (trailing ",,,," rows of spreadsheets).
func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// detectComma picks the separator the header line uses most among ',', ';' and tab.
func detectComma(br *bufio.Reader) rune {
	b, _ := br.Peek(br.Size())
	// Skip leading blank lines, then look at the first line only.
	s := strings.TrimLeft(string(b), " \t\r\n")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	best, n := ',', strings.Count(s, ",")
	for _, c := range []rune{';', '\t'} {
		if k := strings.Count(s, string(c)); k > n {
			best, n = c, k
		}
	}
	return best
}
