package clickhouse

import (
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Columns turns rows into one typed slice per column and appends each to a batch in one call
// (batch.Column(i).Append(slice)): the driver then copies a whole column at once instead of
// inspecting every value of every row (reflection for each Nullable one). Its slices are reused
// from batch to batch, so a Columns serves one writer at a time.
type Columns struct {
	cols []column
}

// column is one column's values of a batch.
type column interface {
	// add appends v and reports whether it had the column's type.
	add(v any) bool
	// appendTo appends the values to a batch column.
	appendTo(c driver.BatchColumn) error
	// reset empties the column, keeping its memory.
	reset()
}

// typed holds the values of a column whose rows all carry a T.
type typed[T any] struct{ vals []T }

func (c *typed[T]) add(v any) bool {
	t, ok := v.(T)
	if ok {
		c.vals = append(c.vals, t)
	}
	return ok
}

func (c *typed[T]) appendTo(b driver.BatchColumn) error { return b.Append(c.vals) }

func (c *typed[T]) reset() {
	clear(c.vals) // drop references to the batch's strings and pointers
	c.vals = c.vals[:0]
}

// untyped holds the values of a column whose rows carry different Go types (or nil); they are
// appended one by one, as batch.Append would.
type untyped struct{ vals []any }

func (c *untyped) add(v any) bool { c.vals = append(c.vals, v); return true }

func (c *untyped) appendTo(b driver.BatchColumn) error {
	for _, v := range c.vals {
		if err := b.AppendRow(v); err != nil {
			return err
		}
	}
	return nil
}

func (c *untyped) reset() {
	clear(c.vals)
	c.vals = c.vals[:0]
}

// newColumn returns an empty column for values like v.
func newColumn(v any) column {
	switch v.(type) {
	case string:
		return &typed[string]{}
	case *string:
		return &typed[*string]{}
	case time.Time:
		return &typed[time.Time]{}
	case int64:
		return &typed[int64]{}
	case *int64:
		return &typed[*int64]{}
	case int32:
		return &typed[int32]{}
	case *int32:
		return &typed[*int32]{}
	case uint64:
		return &typed[uint64]{}
	case uint32:
		return &typed[uint32]{}
	case uint8:
		return &typed[uint8]{}
	case *uint8:
		return &typed[*uint8]{}
	case float64:
		return &typed[float64]{}
	case *float64:
		return &typed[*float64]{}
	case []string:
		return &typed[[]string]{}
	case []float64:
		return &typed[[]float64]{}
	case []int32:
		return &typed[[]int32]{}
	case []int64:
		return &typed[[]int64]{}
	default:
		return &untyped{}
	}
}

// Append appends rows to batch column by column. An error means the driver refused a value: the
// rows are at fault, not the connection.
func (cs *Columns) Append(b driver.Batch, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	if len(cs.cols) != width {
		cs.cols = make([]column, width)
	}
	for j := range cs.cols {
		if cs.cols[j] == nil {
			cs.cols[j] = newColumn(rows[0][j])
		}
		cs.cols[j].reset()
	}
	defer func() {
		for _, c := range cs.cols {
			c.reset()
		}
	}()
	for i, row := range rows {
		if len(row) != width {
			return fmt.Errorf("row %d has %d values, want %d", i+1, len(row), width)
		}
		for j, v := range row {
			if !cs.cols[j].add(v) {
				cs.cols[j] = widen(cs.cols[j], rows[:i], j)
				cs.cols[j].add(v)
			}
		}
	}
	for j, c := range cs.cols {
		if err := c.appendTo(b.Column(j)); err != nil {
			return fmt.Errorf("append column %d: %w", j+1, err)
		}
	}
	return nil
}

// widen replaces a typed column by an untyped one holding the values of column j in rows.
func widen(c column, rows [][]any, j int) column {
	c.reset()
	u := &untyped{vals: make([]any, 0, len(rows)+1)}
	for _, row := range rows {
		u.vals = append(u.vals, row[j])
	}
	return u
}
