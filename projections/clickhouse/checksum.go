package clickhouse

import (
	"context"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Content is a table's logical content in short: its row count after deduplication (FINAL) and
// an order-independent hash of every row without the ingested_at column.
type Content struct {
	Rows uint64
	Hash uint64
}

// Checksum returns the content of table in the connection's database, so a read model rebuilt
// by replay can be compared with the live one.
func Checksum(ctx context.Context, conn driver.Conn, table string) (Content, error) {
	rows, err := conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = ? ORDER BY name", table)
	if err != nil {
		return Content{}, fmt.Errorf("columns of %s: %w", table, err)
	}
	var parts []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return Content{}, fmt.Errorf("columns of %s: %w", table, err)
		}
		if name == IngestedColumn {
			continue
		}
		col := quoteIdent(name)
		if strings.HasPrefix(typ, "Nullable(") {
			parts = append(parts, "isNull("+col+")", "assumeNotNull("+col+")")
		} else {
			parts = append(parts, col)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Content{}, fmt.Errorf("columns of %s: %w", table, err)
	}
	if len(parts) == 0 {
		return Content{}, fmt.Errorf("table %s has no columns (does it exist?)", table)
	}
	var c Content
	q := "SELECT count(), sum(cityHash64(" + strings.Join(parts, ", ") + ")) FROM " + quoteIdent(table) + " FINAL"
	if err := conn.QueryRow(ctx, q).Scan(&c.Rows, &c.Hash); err != nil {
		return Content{}, fmt.Errorf("checksum of %s: %w", table, err)
	}
	return c, nil
}
