package testenv

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// ClickHouseEnv is a ClickHouse database of one test.
type ClickHouseEnv struct {
	// Conn is a native-protocol connection whose default database is Database, so unqualified
	// table names land in the test's database.
	Conn driver.Conn
	// Database is the test's database, test_<test name>_<random>; it is dropped when the test ends.
	Database string
	// Addr is the server's native-protocol address.
	Addr string
}

const clickHouseTimeout = 5 * time.Second

// ClickHouse connects to the ClickHouse at MIP_TEST_CLICKHOUSE_ADDR, else MIP_CLICKHOUSE_ADDR,
// else 127.0.0.1:19000 (native protocol, user default, no password), creates a database for the
// test and drops it when the test ends (MIP_TEST_KEEP=1 keeps it and logs its name). A server that
// does not answer a ping within 5 s fails the test with the command that starts it.
func ClickHouse(t testing.TB) *ClickHouseEnv {
	t.Helper()
	addr := envAddr("127.0.0.1:19000", "MIP_TEST_CLICKHOUSE_ADDR", "MIP_CLICKHOUSE_ADDR")
	admin, err := connectClickHouse(addr, "default")
	if err != nil {
		t.Fatalf("%v", err)
	}
	db := "test_" + shortTestName(t, '_') + "_" + randHex(4)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		admin.Close()
		t.Fatalf("testenv: ClickHouse at %s: create database %s: %v", addr, db, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		if keep() {
			t.Logf("testenv: MIP_TEST_KEEP=1: keeping ClickHouse database %s at %s", db, addr)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Errorf("testenv: ClickHouse at %s: drop database %s: %v", addr, db, err)
		}
	})
	conn, err := connectClickHouse(addr, db)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { conn.Close() }) // runs before the drop above
	return &ClickHouseEnv{Conn: conn, Database: db, Addr: addr}
}

// connectClickHouse opens and pings a connection to addr with default database db. Its error
// names the address and the command that starts the local server.
//
// Notes on ClickHouse 18.16 (the Debian package, protocol revision 54412) with clickhouse-go v2.51,
// checked against the local server:
//   - The client falls back to the server's revision, where settings travel in the old binary
//     form (integers and booleans). The default options below send no settings of their own; the
//     max_execution_time that clickhouse-go adds to every query whose context has a deadline over
//     1 s is known to 18.16 and accepted, so contexts with timeouts are fine. Settings newer than
//     18.16 (async_insert, ...) fail every query with code 115 "Unknown setting": keep them out of
//     Options.Settings and clickhouse.WithSettings.
//   - Conn.Exec("INSERT ... VALUES ...") hangs until the context's deadline and inserts nothing
//     (18.16 asks the client for the data block); use PrepareBatch, INSERT ... SELECT, or
//     ClickHouseEnv.Exec, which sends placeholder-only VALUES as a batch.
//   - PrepareBatch must name the columns: for "INSERT INTO t" 18.16 describes no columns and
//     every Append fails with "expected 0 arguments".
//   - No DateTime64 (use DateTime or UInt64 milliseconds); LowCardinality needs
//     allow_experimental_low_cardinality_type = 1. LZ4 compression works but is left off.
func connectClickHouse(addr, db string) (driver.Conn, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{
		Protocol: clickhouse.Native,
		Addr:     []string{addr},
		Auth: clickhouse.Auth{
			Database: db,
			Username: "default",
		},
		DialTimeout:     clickHouseTimeout,
		ReadTimeout:     time.Minute,
		MaxOpenConns:    4,
		MaxIdleConns:    2,
		ConnMaxLifetime: time.Hour,
		ClientInfo: clickhouse.ClientInfo{
			Products: []struct{ Name, Version string }{{Name: "marketinsights-testenv", Version: "1"}},
		},
	})
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), clickHouseTimeout)
		defer cancel()
		if err = conn.Ping(ctx); err != nil {
			conn.Close()
		}
	}
	if err != nil {
		return nil, fmt.Errorf("ClickHouse is not reachable at %s: %v; start it with `deploy/local/services up clickhouse` (or `make services`)", addr, err)
	}
	return conn, nil
}

// Exec runs sql with args on Conn (30 s timeout) and fails the test on error.
//
// ClickHouse 18.16 answers an INSERT whose data is in the query text by asking the client for the
// data block, which clickhouse-go's Exec never sends: Conn.Exec("INSERT ... VALUES ...") hangs until
// the context's deadline and inserts nothing. Exec therefore sends an INSERT whose VALUES are
// only ? placeholders, e.g. "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)", as a batch of those rows
// (Conn.PrepareBatch), and fails at once on any other INSERT ... VALUES. INSERT ... SELECT works
// as it is.
func (c *ClickHouseEnv) Exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if m := insertValues.FindStringSubmatch(sql); m != nil {
		err = c.insertRows(ctx, sql, m[1] != "", m[2], args)
	} else {
		err = c.Conn.Exec(ctx, sql, args...)
	}
	if err != nil {
		t.Fatalf("ClickHouse at %s, database %s: %s: %v", c.Addr, c.Database, sql, err)
	}
}

var (
	insertValues = regexp.MustCompile(`(?is)^\s*INSERT\s+INTO\s+[^\s(]+\s*(\([^)]*\))?\s*VALUES\b(.*)$`)
	placeholders = regexp.MustCompile(`^\((\?,)*\?\)(,\((\?,)*\?\))*$`)
)

// insertRows sends an INSERT ... VALUES (?, ...), ... as a batch; columns says whether the INSERT
// names its columns and values is the text after VALUES.
func (c *ClickHouseEnv) insertRows(ctx context.Context, sql string, columns bool, values string, args []any) error {
	values = strings.Join(strings.Fields(values), "")
	if !columns || !placeholders.MatchString(values) {
		return errors.New("with ClickHouse 18.16 an INSERT ... VALUES must name its columns and have only ? placeholders as values (clickhouse-go's Exec would hang); use Conn.PrepareBatch or INSERT ... SELECT")
	}
	perRow := strings.Count(values[:strings.IndexByte(values, ')')], "?")
	if strings.Count(values, "?") != len(args) {
		return fmt.Errorf("%d placeholders, %d arguments", strings.Count(values, "?"), len(args))
	}
	batch, err := c.Conn.PrepareBatch(ctx, sql)
	if err != nil {
		return fmt.Errorf("prepare batch: %w", err)
	}
	for i := 0; i < len(args); i += perRow {
		if err := batch.Append(args[i : i+perRow]...); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("append row %d: %w", i/perRow+1, err)
		}
	}
	return batch.Send()
}
