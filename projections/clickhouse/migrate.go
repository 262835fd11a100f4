package clickhouse

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// MigrationsTable records the migrations applied to a database.
const MigrationsTable = "schema_migrations"

// Migration is one versioned SQL file of migrations/: NNNN_name.sql, statements separated by
// a semicolon at the end of a line, full-line "--" comments allowed.
type Migration struct {
	// Version is the file's number.
	Version int
	// Name is the file name without number and extension.
	Name string
	// SQL is the file's text.
	SQL string
	// Checksum is the SHA-256 of SQL, hex.
	Checksum string
}

// ErrMigrationChanged says an applied migration's text differs from the embedded one.
var ErrMigrationChanged = errors.New("migration changed after it was applied")

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	return readMigrations(migrationFS, "migrations")
}

func readMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %s: name must be NNNN_name.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(b)
		out = append(out, Migration{Version: v, Name: m[2], SQL: string(b), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Statements splits a migration's text into statements without comments.
func Statements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(trimmed, ";") {
			if s := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"); strings.TrimSpace(s) != "" {
				out = append(out, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

// Applied is a migration recorded in the migrations table.
type Applied struct {
	Version   int
	Name      string
	Checksum  string
	AppliedAt time.Time
}

// MigrateResult says what Migrate did.
type MigrateResult struct {
	// Applied are the migrations run now.
	Applied []Migration
	// Current are the migrations that were already applied.
	Current []Migration
}

// Migrate applies to the connection's database every embedded migration not yet recorded in
// its migrations table, in order, and records each. It refuses (ErrMigrationChanged) when a
// recorded migration's checksum differs from the embedded text. Statements are idempotent
// (IF NOT EXISTS), so a run interrupted between a statement and its record is safe to repeat.
func Migrate(ctx context.Context, conn driver.Conn) (MigrateResult, error) {
	migs, err := Migrations()
	if err != nil {
		return MigrateResult{}, err
	}
	return migrate(ctx, conn, migs)
}

func migrate(ctx context.Context, conn driver.Conn, migs []Migration) (MigrateResult, error) {
	var res MigrateResult
	if err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+MigrationsTable+` (
    version UInt32, name String, checksum String, applied_at DateTime
) ENGINE = ReplacingMergeTree() ORDER BY version`); err != nil {
		return res, fmt.Errorf("create %s: %w", MigrationsTable, err)
	}
	applied, err := AppliedMigrations(ctx, conn)
	if err != nil {
		return res, err
	}
	done := map[int]Applied{}
	for _, a := range applied {
		done[a.Version] = a
	}
	for _, m := range migs {
		if a, ok := done[m.Version]; ok {
			if a.Checksum != m.Checksum {
				return res, fmt.Errorf("migration %04d_%s (applied %s, checksum %.12s) now has checksum %.12s: %w; write a new migration instead of editing an applied one",
					m.Version, m.Name, a.AppliedAt.UTC().Format(time.RFC3339), a.Checksum, m.Checksum, ErrMigrationChanged)
			}
			res.Current = append(res.Current, m)
			continue
		}
		for i, st := range Statements(m.SQL) {
			if err := conn.Exec(ctx, st); err != nil {
				return res, fmt.Errorf("apply migration %04d_%s, statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		b, err := conn.PrepareBatch(ctx, "INSERT INTO "+MigrationsTable+" (version, name, checksum, applied_at)")
		if err != nil {
			return res, fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if err := b.Append(uint32(m.Version), m.Name, m.Checksum, time.Now().UTC()); err != nil {
			return res, fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if err := b.Send(); err != nil {
			return res, fmt.Errorf("record migration %04d_%s: %w", m.Version, m.Name, err)
		}
		res.Applied = append(res.Applied, m)
	}
	return res, nil
}

// AppliedMigrations reads the migrations table (empty when it does not exist).
func AppliedMigrations(ctx context.Context, conn driver.Conn) ([]Applied, error) {
	var exists uint8
	if err := conn.QueryRow(ctx, "EXISTS TABLE "+MigrationsTable).Scan(&exists); err != nil {
		return nil, fmt.Errorf("check for %s: %w", MigrationsTable, err)
	}
	if exists == 0 {
		return nil, nil
	}
	rows, err := conn.Query(ctx, "SELECT version, any(name), any(checksum), min(applied_at) FROM "+MigrationsTable+" GROUP BY version ORDER BY version")
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", MigrationsTable, err)
	}
	defer rows.Close()
	var out []Applied
	for rows.Next() {
		var a Applied
		var v uint32
		if err := rows.Scan(&v, &a.Name, &a.Checksum, &a.AppliedAt); err != nil {
			return nil, fmt.Errorf("read %s: %w", MigrationsTable, err)
		}
		a.Version = int(v)
		out = append(out, a)
	}
	return out, rows.Err()
}
