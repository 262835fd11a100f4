package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/projections"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Sink projects one topic into one table with native batch inserts.
type Sink struct {
	conn   driver.Conn
	table  Table
	topic  topics.Topic
	insert string
	now    func() time.Time

	mu   sync.Mutex // serializes writes, which share cols
	cols Columns
}

var _ projections.Sink[[]any] = (*Sink)(nil)

// NewSink returns the sink of table over conn, whose default database holds the table.
func NewSink(conn driver.Conn, table Table) *Sink {
	return &Sink{
		conn:   conn,
		table:  table,
		topic:  topics.MustLookup(table.Topic),
		insert: "INSERT INTO " + quoteIdent(table.Name) + " (" + strings.Join(table.Columns, ", ") + ")",
		now:    time.Now,
	}
}

// Name is "clickhouse/<table>".
func (s *Sink) Name() string { return "clickhouse/" + s.table.Name }

// Rows decodes a record of the table's topic into its rows.
func (s *Sink) Rows(r *kgo.Record) ([][]any, error) {
	ev, err := topics.DecodeRecord(s.topic, r)
	if err != nil {
		return nil, err
	}
	rows, err := s.table.Rows(ev, s.now().UTC().Truncate(time.Second))
	if err != nil {
		return nil, fmt.Errorf("rows of %s for %s: %w", s.topic.Name, s.table.Name, err)
	}
	return rows, nil
}

// Write inserts rows in one native batch, appended column by column (see Columns). Rows the
// server or the driver refuse as data are reported as permanent; anything else (connection
// lost, server down) is transient.
func (s *Sink) Write(ctx context.Context, rows [][]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.conn.PrepareBatch(ctx, s.insert)
	if err != nil {
		return classify(fmt.Errorf("prepare insert into %s: %w", s.table.Name, err))
	}
	defer b.Abort()
	if err := s.cols.Append(b, rows); err != nil {
		return projections.Permanent(fmt.Errorf("append %d rows to %s: %w", len(rows), s.table.Name, err))
	}
	if err := b.Send(); err != nil {
		return classify(fmt.Errorf("insert batch of %d rows into %s: %w", len(rows), s.table.Name, err))
	}
	return nil
}

// dataErrorCodes are ClickHouse error codes caused by the inserted values themselves.
var dataErrorCodes = map[int32]bool{
	6:   true, // CANNOT_PARSE_TEXT
	27:  true, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
	53:  true, // TYPE_MISMATCH
	69:  true, // ARGUMENT_OUT_OF_BOUND
	70:  true, // CANNOT_CONVERT_TYPE
	131: true, // TOO_LARGE_STRING_SIZE
	349: true, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
}

// classify marks errors caused by the rows as permanent.
func classify(err error) error {
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && dataErrorCodes[ex.Code] {
		return projections.Permanent(err)
	}
	return err
}
