// Package testenv is the shared test environment of the integration tests: Kafka, ClickHouse and
// Redis, each isolated per test so that tests may run in parallel and share one service.
//
//   - [Kafka] is an embedded kfake broker started once per test binary, or, when
//     MIP_TEST_KAFKA_BROKERS is set (comma-separated host:port, e.g. 127.0.0.1:29092 for the
//     Apache Kafka of `deploy/local/services up kafka`; `make test-kafka` sets it), that real
//     cluster. Tests isolate themselves with per-test topic names ([KafkaEnv.TopicName],
//     [KafkaEnv.Catalog]).
//   - [ClickHouse] connects over the native protocol to MIP_TEST_CLICKHOUSE_ADDR, else
//     MIP_CLICKHOUSE_ADDR, else 127.0.0.1:19000, and gives each test its own database.
//   - [Redis] connects to MIP_TEST_REDIS_ADDR, else MIP_REDIS_ADDR, else 127.0.0.1:16379, and
//     gives each test its own key prefix.
//
// Everything a test creates (database, keys, topics) is removed when the test ends, unless
// MIP_TEST_KEEP=1, which keeps it and logs its name for inspection.
//
// A service that is not running is a test failure whose message names the address and the
// command that starts it (`deploy/local/services up clickhouse`, ... or `make services`); the
// environment never skips a test.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// keep reports whether MIP_TEST_KEEP=1 asks to keep what the tests create.
func keep() bool { return os.Getenv("MIP_TEST_KEEP") == "1" }

// envAddr returns the first non-empty environment variable of names, else def.
func envAddr(def string, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(os.Getenv(n)); v != "" {
			return v
		}
	}
	return def
}

// randHex returns n random bytes as lowercase hex.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// sanitize lowercases name and keeps at most max characters of [a-z0-9], replacing each run of
// other characters with sep and trimming sep from both ends.
func sanitize(name string, sep byte, max int) string {
	var b strings.Builder
	pendingSep := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if pendingSep && b.Len() > 0 {
				b.WriteByte(sep)
			}
			pendingSep = false
			b.WriteRune(r)
			continue
		}
		pendingSep = true
	}
	s := b.String()
	if len(s) > max {
		s = strings.TrimRight(s[:max], string(sep))
	}
	if s == "" {
		s = "t"
	}
	return s
}

// shortTestName is the sanitized test name used in database names, key prefixes and topics.
func shortTestName(t testing.TB, sep byte) string { return sanitize(t.Name(), sep, 40) }
