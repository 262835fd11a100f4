package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kong"
)

type testCLI struct {
	Config
	Run struct{} `cmd:""`
}

func parse(t *testing.T, args []string) (*Config, error) {
	t.Helper()
	var c testCLI
	p, err := kong.New(&c, append(KongOptions(), kong.Exit(func(int) { t.Fatalf("exit called") }))...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Parse(args)
	return &c.Config, err
}

func writeFile(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mip.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaults(t *testing.T) {
	c, err := parse(t, []string{"run"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Kafka.Embedded() || c.Kafka.BootstrapBrokers()[0] != "127.0.0.1:19092" || c.ClickHouse.Addr != "127.0.0.1:19000" ||
		c.Redis.Addr != "127.0.0.1:16379" || c.Kafka.DialTimeout != 10*time.Second || c.DataDir != ".data" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestPrecedenceFlagOverEnvOverFileOverDefault(t *testing.T) {
	file := writeFile(t, "kafka:\n  brokers: [file:1, file:2]\n  client_id: from-file\nredis:\n  prefix: \"file:\"\nlog:\n  level: debug\ndata_dir: /from/file\n")
	t.Setenv("MIP_KAFKA_CLIENT_ID", "from-env")
	t.Setenv("MIP_REDIS_PREFIX", "env:")
	c, err := parse(t, []string{"--config", file, "--redis-prefix", "flag:", "run"})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"brokers from file", strings.Join(c.Kafka.Brokers, ","), "file:1,file:2"},
		{"client id: env over file", c.Kafka.ClientID, "from-env"},
		{"prefix: flag over env and file", c.Redis.Prefix, "flag:"},
		{"log level from file", c.Log.Level, "debug"},
		{"top-level key", c.DataDir, "/from/file"},
		{"default kept", c.ClickHouse.Database, "market"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %q, want %q", ch.name, ch.got, ch.want)
		}
	}
}

func TestFileErrors(t *testing.T) {
	cases := []struct{ name, file, want string }{
		{"unknown key", "kafka:\n  brokerz: [a:1]\n", "unknown key(s) kafka.brokerz"},
		{"bad YAML", "kafka: [\n", "parse YAML"},
		{"bad enum", "log:\n  level: loud\n", `--log-level must be one of "debug","info","warn","error" but got "loud"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, []string{"--config", writeFile(t, tc.file), "run"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestValidateNamesSettingAndWhatItAccepts(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--kafka-brokers", "nohost", "run"}, []string{"--kafka-brokers", "MIP_KAFKA_BROKERS", "kafka.brokers", `"nohost"`, "host:port"}},
		{[]string{"--clickhouse-database", "drop table", "run"}, []string{"--clickhouse-database", "MIP_CLICKHOUSE_DATABASE", "letters, digits and underscores"}},
		{[]string{"--redis-db", "42", "run"}, []string{"--redis-db", "0-15"}},
		{[]string{"--kafka-replication", "0", "run"}, []string{"--kafka-replication", "-1 (broker default)"}},
		{[]string{"--kafka-dial-timeout=-1s", "run"}, []string{"--kafka-dial-timeout", "positive duration"}},
		{[]string{"--scrape-weights", "6:3:0", "run"}, []string{"--scrape-weights", "MIP_SCRAPE_WEIGHTS", "scrape.weights", "high and low positive"}},
		{[]string{"--scrape-base-url", "file:///etc", "run"}, []string{"--scrape-base-url", "absolute http(s) URL"}},
		{[]string{"--scrape-tabs", "0", "run"}, []string{"--scrape-tabs", "1-32"}},
		{[]string{"--scrape-max-backoff", "1s", "--scrape-backoff", "2s", "run"}, []string{"--scrape-max-backoff", "at least --scrape-backoff"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parse(t, tc.args)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestNamesOfSettings(t *testing.T) {
	for flag, want := range map[string][2]string{
		"kafka-embedded-addr": {"MIP_KAFKA_EMBEDDED_ADDR", "kafka.embedded_addr"},
		"data-dir":            {"MIP_DATA_DIR", "data_dir"},
		"log-level":           {"MIP_LOG_LEVEL", "log.level"},
		"scrape-allow-hosts":  {"MIP_SCRAPE_ALLOW_HOSTS", "scrape.allow_hosts"},
	} {
		if EnvName(flag) != want[0] || FileKey(flag) != want[1] {
			t.Errorf("%s: env %s file %s, want %v", flag, EnvName(flag), FileKey(flag), want)
		}
	}
}
