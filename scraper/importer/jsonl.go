package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// maxLine bounds one JSON line; a longer line is a bad row.
const maxLine = 4 << 20

// readJSONL reads one object per line: flat (the CSV column names as keys) or a protojson
// ProductObserved (recognised by an "envelope" or "attributes" key).
func readJSONL(br *bufio.Reader, opts Options, emit func(*marketv1.ProductObserved) error) (Stats, error) {
	var st Stats
	ignored := map[string]bool{}
	seen := false
	for line := 1; ; line++ {
		b, tooLong, err := readLine(br)
		if err != nil && !errors.Is(err, io.EOF) {
			return st, fmt.Errorf("import jsonl: line %d: read: %w", line, err)
		}
		eof := err != nil
		b = bytes.TrimSpace(b)
		if len(b) > 0 || tooLong {
			seen = true
			st.Rows++
			ev, t, rerr := jsonRow(b, tooLong, opts, &st, ignored)
			if rerr != nil {
				rerr.Line = line
				st.Bad = append(st.Bad, *rerr)
			} else {
				if err := emit(finish(ev, t, opts)); err != nil {
					return st, fmt.Errorf("import jsonl: line %d: emit: %w", line, err)
				}
				st.Imported++
			}
		}
		if eof {
			break
		}
	}
	if !seen {
		return st, fmt.Errorf("import jsonl: %w", ErrEmpty)
	}
	return st, nil
}

// readLine returns the next line without its newline; a line over maxLine is consumed and
// reported as too long. The error is io.EOF after the last line.
func readLine(br *bufio.Reader) ([]byte, bool, error) {
	var buf []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf)+len(frag) <= maxLine {
			buf = append(buf, frag...)
		} else {
			buf = buf[:0]
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if errors.Is(err, io.EOF) {
				return nil, true, io.EOF
			}
			return nil, true, err
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return buf, false, err
	}
}

// jsonRow converts one JSON line.
func jsonRow(b []byte, tooLong bool, opts Options, st *Stats, ignored map[string]bool) (*marketv1.ProductObserved, time.Time, *RowError) {
	if tooLong {
		return nil, time.Time{}, &RowError{Err: fmt.Errorf("%w: line longer than %d bytes", ErrInvalidValue, maxLine)}
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		if err == nil {
			err = errors.New("not an object")
		}
		return nil, time.Time{}, &RowError{Err: fmt.Errorf("%w: %v", ErrInvalidValue, err)}
	}
	if dec.More() {
		return nil, time.Time{}, &RowError{Err: fmt.Errorf("%w: more than one JSON value on the line", ErrInvalidValue)}
	}
	if _, ok := obj["envelope"]; ok {
		return protoRow(b, opts)
	}
	if _, ok := obj["attributes"]; ok {
		return protoRow(b, opts)
	}
	names := make([]string, 0, len(obj))
	cells := make([]string, 0, len(obj))
	for k, raw := range obj {
		v, err := scalar(raw)
		if err != nil {
			return nil, time.Time{}, &RowError{Column: k, Err: err}
		}
		names = append(names, k)
		cells = append(cells, v)
	}
	m := newMapping(names)
	for _, k := range m.ignored {
		if !ignored[k] {
			ignored[k] = true
			st.IgnoredColumns = append(st.IgnoredColumns, k)
		}
	}
	return m.row(cells, opts)
}

// scalar turns a JSON string, number, bool or null into cell text ("" for null).
func scalar(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("%w: %v", ErrInvalidValue, err)
		}
		if s == "" {
			return "", nil
		}
		return s, nil
	case '{', '[':
		return "", fmt.Errorf("%w: want a string, number or boolean, got %s", ErrInvalidValue, clip(string(raw)))
	}
	return string(raw), nil
}

// protoRow reads a ProductObserved in protojson; its envelope's event time is kept, everything
// else in the envelope is replaced.
func protoRow(b []byte, opts Options) (*marketv1.ProductObserved, time.Time, *RowError) {
	ev := &marketv1.ProductObserved{}
	if err := protojson.Unmarshal(b, ev); err != nil {
		return nil, time.Time{}, &RowError{Err: fmt.Errorf("%w: protojson ProductObserved: %v", ErrInvalidValue, err)}
	}
	if strings.TrimSpace(ev.GetAsin()) == "" {
		return nil, time.Time{}, &RowError{Column: "asin", Err: ErrMissingASIN}
	}
	asin, err := normaliseASIN(ev.GetAsin())
	if err != nil {
		return nil, time.Time{}, &RowError{Column: "asin", Err: err}
	}
	ev.Asin = asin
	if ev.Marketplace == "" {
		ev.Marketplace = opts.Marketplace
	} else {
		ev.Marketplace = normaliseMarketplace(ev.Marketplace)
	}
	t := opts.DefaultTime
	if et := ev.GetEnvelope().GetEventTime(); et != nil {
		if err := et.CheckValid(); err != nil {
			return nil, time.Time{}, &RowError{Column: "envelope.event_time", Err: fmt.Errorf("%w: %v", ErrInvalidValue, err)}
		}
		t = et.AsTime()
	}
	if t.IsZero() {
		return nil, time.Time{}, &RowError{Column: "envelope.event_time", Err: ErrMissingTime}
	}
	return ev, t.UTC(), nil
}

// clip shortens text quoted in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
