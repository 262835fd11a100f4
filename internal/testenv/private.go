package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/marketinsightspro/marketinsights/internal/broker"
	"github.com/marketinsightspro/marketinsights/internal/config"
)

// PrivateClickHouse is a ClickHouse server of one test (Debian's clickhouse-server, data in the
// test's temporary directory), for tests that stop and restart the server, which the shared one
// must not be.
type PrivateClickHouse struct {
	// Addr is the native-protocol address, the same across restarts.
	Addr string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	t    testing.TB
}

// StartPrivateClickHouse starts a private server on free loopback ports and stops it when the
// test ends. A missing clickhouse-server fails the test with the command that installs it.
func StartPrivateClickHouse(t testing.TB) *PrivateClickHouse {
	t.Helper()
	if _, err := exec.LookPath("clickhouse-server"); err != nil {
		t.Fatalf("testenv: clickhouse-server not found (%v); install it with `deploy/local/services up clickhouse`", err)
	}
	dir := t.TempDir()
	tcp, http := freePort(t), freePort(t)
	for _, d := range []string{"data", "tmp", "user_files", "format_schemas", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := fmt.Sprintf(`<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>%[1]s/log/server.log</log><errorlog>%[1]s/log/server.err.log</errorlog><size>10M</size><count>1</count></logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>%[2]d</tcp_port>
    <http_port>%[3]d</http_port>
    <max_connections>256</max_connections>
    <mark_cache_size>67108864</mark_cache_size>
    <path>%[1]s/data/</path>
    <tmp_path>%[1]s/tmp/</tmp_path>
    <user_files_path>%[1]s/user_files/</user_files_path>
    <format_schema_path>%[1]s/format_schemas/</format_schema_path>
    <users_config>%[1]s/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
</yandex>
`, dir, tcp, http)
	users := `<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
    <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`
	if err := os.WriteFile(filepath.Join(dir, "config.xml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(users), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &PrivateClickHouse{Addr: "127.0.0.1:" + strconv.Itoa(tcp), dir: dir, t: t}
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// Start starts the server (again) and waits until it answers a ping (60 s at most).
func (p *PrivateClickHouse) Start() {
	p.t.Helper()
	cmd := exec.Command("clickhouse-server", "--config-file="+filepath.Join(p.dir, "config.xml"))
	cmd.Dir = p.dir
	log, err := os.OpenFile(filepath.Join(p.dir, "log", "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		log.Close()
		p.t.Fatalf("testenv: start private clickhouse-server: %v", err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(p.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := connectClickHouse(p.Addr, "default")
		if err == nil {
			conn.Close()
			return
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(filepath.Join(p.dir, "log", "server.err.log"))
			p.t.Fatalf("testenv: private clickhouse-server exited: %s", lastLines(string(b), 20))
		default:
		}
		if time.Now().After(deadline) {
			p.Stop()
			p.t.Fatalf("testenv: private clickhouse-server at %s not ready in 60 s: %v", p.Addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 20 s) and waits for it to exit.
func (p *PrivateClickHouse) Stop() {
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func lastLines(s string, n int) string {
	lines := 0
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			lines++
			if lines > n {
				return s[i+1:]
			}
		}
	}
	return s
}

// PrivateRedis is a redis-server of one test (Debian's redis-server, its append-only file in
// the test's temporary directory, synced on every write), for tests that stop and restart
// Redis, which the shared one must not be.
type PrivateRedis struct {
	// Addr is the server's address, the same across restarts.
	Addr string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
	t    testing.TB
}

// StartPrivateRedis starts a private server on a free loopback port and stops it when the test
// ends. A missing redis-server fails the test with the command that installs it.
func StartPrivateRedis(t testing.TB) *PrivateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("testenv: redis-server not found (%v); install it with `deploy/local/services up redis`", err)
	}
	p := &PrivateRedis{Addr: "127.0.0.1:" + strconv.Itoa(freePort(t)), dir: t.TempDir(), t: t}
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// Start starts the server (again, with the data it had) and waits until it answers a ping.
func (p *PrivateRedis) Start() {
	p.t.Helper()
	_, port, _ := net.SplitHostPort(p.Addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
		"--appendfsync", "always", "--dir", p.dir, "--daemonize", "no", "--protected-mode", "no",
		"--logfile", filepath.Join(p.dir, "redis.log"))
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("testenv: start private redis-server on %s: %v", p.Addr, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		cl, err := connectRedis(p.Addr)
		if err == nil {
			cl.Close()
			return
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(filepath.Join(p.dir, "redis.log"))
			p.t.Fatalf("testenv: private redis-server exited: %s", lastLines(string(b), 20))
		default:
		}
		if time.Now().After(deadline) {
			p.Stop()
			p.t.Fatalf("testenv: private redis-server at %s not ready in 30 s: %v", p.Addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server and waits for it to exit (what was acknowledged is in its append-only
// file).
func (p *PrivateRedis) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// Env connects a client to the server and gives the test a key prefix, as Redis does for the
// shared server; the client is closed when the test ends (the keys stay with the server).
func (p *PrivateRedis) Env(t testing.TB) *RedisEnv {
	t.Helper()
	cl, err := connectRedis(p.Addr)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { cl.Close() })
	return &RedisEnv{Client: cl, Prefix: "test:" + shortTestName(t, '-') + ":" + randHex(4) + ":"}
}

// PrivateKafka is an embedded broker of one test, with its data in the test's temporary
// directory, for tests that stop and restart Kafka, which the binary's shared broker (Kafka)
// must not be.
type PrivateKafka struct {
	// Addr is the broker's address, the same across restarts.
	Addr string
	opts broker.Options
	b    *broker.Broker
	t    testing.TB
}

// StartPrivateKafka starts a private embedded broker on a free loopback port and stops it when
// the test ends.
func StartPrivateKafka(t testing.TB) *PrivateKafka {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	p := &PrivateKafka{Addr: addr, opts: broker.Options{Addr: addr, DataDir: t.TempDir()}, t: t}
	p.Start()
	t.Cleanup(p.Stop)
	return p
}

// Start starts the broker (again, with the topics, records and offsets it had).
func (p *PrivateKafka) Start() {
	p.t.Helper()
	b, err := broker.Start(p.opts)
	if err != nil {
		p.t.Fatalf("testenv: start a private embedded broker on %s: %v", p.Addr, err)
	}
	p.b = b
}

// Stop stops the broker, flushing its data directory.
func (p *PrivateKafka) Stop() {
	if p.b != nil {
		p.b.Close()
		p.b = nil
	}
}

// Config is the configuration of clients of the broker.
func (p *PrivateKafka) Config() config.Kafka { return testKafkaConfig([]string{p.Addr}) }
