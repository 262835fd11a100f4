// Package clickhouse projects the topics into ClickHouse tables for history, SQL and Grafana:
// embedded versioned migrations, one sink per topic, and the swap of rebuilt tables after a
// replay. It runs on ClickHouse 18.16 (Debian's package) and on current releases.
package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/marketinsightspro/marketinsights/internal/config"
)

// Open connects to the configured ClickHouse with database as the default database (empty:
// cfg.Database) and pings it.
func Open(ctx context.Context, cfg config.ClickHouse, database string) (driver.Conn, error) {
	if database == "" {
		database = cfg.Database
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Protocol:        clickhouse.Native,
		Addr:            []string{cfg.Addr},
		Auth:            clickhouse.Auth{Database: database, Username: cfg.Username, Password: cfg.Password},
		DialTimeout:     5 * time.Second,
		ReadTimeout:     time.Minute,
		MaxOpenConns:    8,
		MaxIdleConns:    4,
		ConnMaxLifetime: time.Hour,
		ClientInfo: clickhouse.ClientInfo{
			Products: []struct{ Name, Version string }{{Name: "marketinsights", Version: "1"}},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("open ClickHouse at %s: %w", cfg.Addr, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := conn.Ping(pctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ClickHouse at %s (database %s) does not answer: %w; start it with `deploy/local/services up clickhouse`", cfg.Addr, database, err)
	}
	return conn, nil
}

// CreateDatabase creates database if it does not exist, through a connection to "default".
func CreateDatabase(ctx context.Context, cfg config.ClickHouse, database string) error {
	conn, err := Open(ctx, cfg, "default")
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(database)); err != nil {
		return fmt.Errorf("create database %s: %w", database, err)
	}
	return nil
}

// quoteIdent quotes a ClickHouse identifier with backquotes.
func quoteIdent(s string) string {
	out := []byte{'`'}
	for i := 0; i < len(s); i++ {
		if s[i] == '`' || s[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(append(out, '`'))
}

// OpenMigrated creates database if needed, applies the migrations to it and returns a connection
// whose default database it is.
func OpenMigrated(ctx context.Context, cfg config.ClickHouse, database string) (driver.Conn, error) {
	if database == "" {
		database = cfg.Database
	}
	if err := CreateDatabase(ctx, cfg, database); err != nil {
		return nil, err
	}
	conn, err := Open(ctx, cfg, database)
	if err != nil {
		return nil, err
	}
	if _, err := Migrate(ctx, conn); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migrate %s: %w", database, err)
	}
	return conn, nil
}

// DropDatabase drops database if it exists, through a connection to "default".
func DropDatabase(ctx context.Context, cfg config.ClickHouse, database string) error {
	conn, err := Open(ctx, cfg, "default")
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+quoteIdent(database)); err != nil {
		return fmt.Errorf("drop database %s: %w", database, err)
	}
	return nil
}
