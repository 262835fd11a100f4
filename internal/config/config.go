// Package config holds the one typed configuration of every role, read from flags, MIP_*
// environment variables and an optional YAML file (in that order of precedence), and validated
// at start.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kong"
)

// EnvPrefix is the prefix of every environment variable of the configuration.
const EnvPrefix = "MIP"

// Config is the configuration shared by every subcommand.
type Config struct {
	ConfigFile kong.ConfigFlag `name:"config" placeholder:"FILE" help:"YAML file of settings (sections and keys as printed by 'marketinsights config'); flags and MIP_* variables override it." env:"MIP_CONFIG"`
	DataDir    string          `name:"data-dir" default:".data" placeholder:"DIR" help:"Directory for local state: the embedded broker's log, goka's table storage." env:"MIP_DATA_DIR"`

	Log        Log        `embed:"" prefix:"log-" group:"Logging"`
	Kafka      Kafka      `embed:"" prefix:"kafka-" group:"Kafka"`
	ClickHouse ClickHouse `embed:"" prefix:"clickhouse-" group:"ClickHouse"`
	Redis      Redis      `embed:"" prefix:"redis-" group:"Redis"`
	Scrape     Scrape     `embed:"" prefix:"scrape-" group:"Scraper"`
	API        API        `embed:"" prefix:"api-" group:"API"`
}

// Log configures logging.
type Log struct {
	Level  string `default:"info" enum:"debug,info,warn,error" help:"Lowest level logged: ${enum}." env:"MIP_LOG_LEVEL"`
	Format string `default:"auto" enum:"auto,text,json" help:"Log format: ${enum}; auto is text on a terminal, JSON otherwise." env:"MIP_LOG_FORMAT"`
}

// Kafka configures the Kafka clients.
type Kafka struct {
	Brokers      []string      `placeholder:"HOST:PORT" help:"Kafka bootstrap brokers. Empty: the embedded broker at --kafka-embedded-addr (started by 'broker' or 'demo')." env:"MIP_KAFKA_BROKERS"`
	EmbeddedAddr string        `default:"127.0.0.1:19092" placeholder:"HOST:PORT" help:"Address of the embedded broker, used when --kafka-brokers is empty." env:"MIP_KAFKA_EMBEDDED_ADDR"`
	Replication  int16         `default:"-1" help:"Replication factor of created topics; -1 takes the broker's default." env:"MIP_KAFKA_REPLICATION"`
	ClientID     string        `name:"client-id" default:"marketinsights" help:"Client id sent to the brokers." env:"MIP_KAFKA_CLIENT_ID"`
	DialTimeout  time.Duration `default:"10s" help:"Timeout of a broker connection attempt." env:"MIP_KAFKA_DIAL_TIMEOUT"`

	// ClientHooks, when not nil, returns the franz-go hooks (kgo.Hook values) of each new client,
	// such as its Prometheus metrics. The program sets it; it is not a setting.
	ClientHooks func() []any `kong:"-" yaml:"-"`
}

// ClickHouse configures the ClickHouse connection (native protocol).
type ClickHouse struct {
	Addr     string `default:"127.0.0.1:19000" placeholder:"HOST:PORT" help:"ClickHouse native-protocol address." env:"MIP_CLICKHOUSE_ADDR"`
	Database string `default:"market" help:"Database of the read-model tables." env:"MIP_CLICKHOUSE_DATABASE"`
	Username string `default:"default" help:"ClickHouse user." env:"MIP_CLICKHOUSE_USERNAME"`
	Password string `help:"ClickHouse password." env:"MIP_CLICKHOUSE_PASSWORD"`
}

// Redis configures the Redis connection.
type Redis struct {
	Addr     string `default:"127.0.0.1:16379" placeholder:"HOST:PORT" help:"Redis address." env:"MIP_REDIS_ADDR"`
	DB       int    `default:"0" help:"Redis database number." env:"MIP_REDIS_DB"`
	Password string `help:"Redis password." env:"MIP_REDIS_PASSWORD"`
	Prefix   string `default:"mip:" help:"Prefix of every key the system writes." env:"MIP_REDIS_PREFIX"`
}

// Scrape configures the scrape workers (`scrape` and the demo): the fetcher, what it may fetch,
// how politely, and how jobs are scheduled and retried.
type Scrape struct {
	Fetcher         string        `default:"chrome" enum:"chrome,http" help:"Fetcher: ${enum} (headless Chromium, or plain HTTP for pages that need no JavaScript)." env:"MIP_SCRAPE_FETCHER"`
	Tabs            int           `default:"2" help:"Chromium tabs: pages fetched at once." env:"MIP_SCRAPE_TABS"`
	PageTimeout     time.Duration `default:"30s" help:"Bound of one page load." env:"MIP_SCRAPE_PAGE_TIMEOUT"`
	UserAgent       string        `name:"user-agent" help:"User agent of the fetcher (empty: a current desktop Chrome's)." env:"MIP_SCRAPE_USER_AGENT"`
	AllowHosts      []string      `placeholder:"HOST" help:"Hosts the scraper may fetch (www.amazon.com exactly, .amazon.de with subdomains); empty allows every public host." env:"MIP_SCRAPE_ALLOW_HOSTS"`
	AllowPrivate    bool          `default:"false" help:"Let the scraper fetch loopback, private and link-local addresses (the sandbox); refused by default against SSRF." env:"MIP_SCRAPE_ALLOW_PRIVATE"`
	Robots          bool          `default:"false" help:"Respect robots.txt of the marketplaces." env:"MIP_SCRAPE_ROBOTS"`
	Rate            float64       `default:"1" help:"Requests per second to one host." env:"MIP_SCRAPE_RATE"`
	BaseURL         string        `name:"base-url" placeholder:"URL" help:"Fetch every marketplace from this site, naming the marketplace in ?mp= (the sandbox's URL); empty fetches https://www.<marketplace>." env:"MIP_SCRAPE_BASE_URL"`
	Group           string        `default:"scrape-workers" help:"Consumer group of the workers." env:"MIP_SCRAPE_GROUP"`
	Concurrency     int           `default:"2" help:"Jobs one worker runs at once." env:"MIP_SCRAPE_CONCURRENCY"`
	Weights         string        `default:"6:3:1" placeholder:"H:N:L" help:"Shares of the high, normal and low priority queues when all have jobs (low is never starved)." env:"MIP_SCRAPE_WEIGHTS"`
	Attempts        int           `default:"3" help:"Attempts of a job before it is dead-lettered." env:"MIP_SCRAPE_ATTEMPTS"`
	Backoff         time.Duration `default:"5s" help:"Delay before a job's second attempt; doubles each time, with jitter." env:"MIP_SCRAPE_BACKOFF"`
	MaxBackoff      time.Duration `default:"5m" help:"Longest delay between attempts." env:"MIP_SCRAPE_MAX_BACKOFF"`
	BlockedBackoff  time.Duration `default:"0s" help:"Delay before retrying a job that met a robot check (0: not retried, it ends BLOCKED)." env:"MIP_SCRAPE_BLOCKED_BACKOFF"`
	MaxProductPages int           `default:"48" help:"Product pages of new or changed products one job fetches at most (0: none)." env:"MIP_SCRAPE_MAX_PRODUCT_PAGES"`
}

// API configures the HTTP API and report page ('serve', 'demo').
type API struct {
	Addr           string        `default:"127.0.0.1:8080" placeholder:"HOST:PORT" help:"Address the API and the report page listen on." env:"MIP_API_ADDR"`
	Key            string        `placeholder:"KEY" help:"API key of the admin and write endpoints (X-API-Key or Authorization: Bearer); empty turns them off." env:"MIP_API_KEY"`
	RateLimit      float64       `default:"50" help:"Requests per second each client may make to /api/ (0: no limit)." env:"MIP_API_RATE_LIMIT"`
	RateBurst      int           `default:"100" help:"Burst of requests a client may make above the rate." env:"MIP_API_RATE_BURST"`
	RequestTimeout time.Duration `default:"10s" help:"Longest time an API request may take." env:"MIP_API_REQUEST_TIMEOUT"`
	BodyLimit      int64         `default:"65536" help:"Largest request body in bytes." env:"MIP_API_BODY_LIMIT"`
	CacheSize      int           `default:"10000" help:"Most entries of each in-process cache." env:"MIP_API_CACHE_SIZE"`
	CacheTTL       time.Duration `name:"cache-ttl" default:"1m" help:"Lifetime of a cached Redis read (changes invalidate it sooner)." env:"MIP_API_CACHE_TTL"`
	HistoryTTL     time.Duration `name:"history-ttl" default:"30s" help:"Lifetime of a cached ClickHouse read." env:"MIP_API_HISTORY_TTL"`
	WarmKeywords   int           `default:"20" help:"How many of the most viewed keywords are loaded into the cache at start." env:"MIP_API_WARM_KEYWORDS"`
	CORSOrigins    []string      `name:"cors-origins" placeholder:"ORIGIN" help:"Origins allowed cross-origin requests, e.g. https://app.example.com (* for any); empty: none." env:"MIP_API_CORS_ORIGINS"`
	SpoolDir       string        `name:"spool-dir" placeholder:"DIR" help:"Directory where user actions wait for Kafka (empty: <data-dir>/api-spool); one process at a time." env:"MIP_API_SPOOL_DIR"`
	SpoolBytes     int64         `name:"spool-bytes" default:"268435456" help:"Most bytes of user actions kept on disk while Kafka is away; beyond, new ones are dropped, counted and logged (0: no spool, an action Kafka cannot take at once is dropped)." env:"MIP_API_SPOOL_BYTES"`
}

// BootstrapBrokers returns the bootstrap brokers, the embedded broker's address when none is set.
func (k Kafka) BootstrapBrokers() []string {
	if len(k.Brokers) == 0 {
		return []string{k.EmbeddedAddr}
	}
	return k.Brokers
}

// Embedded reports whether the configuration points at the embedded broker.
func (k Kafka) Embedded() bool { return len(k.Brokers) == 0 }

// SettingError names a setting by its flag, variable and file key, with what it accepts.
type SettingError struct {
	// Flag is the flag's name without dashes, e.g. "kafka-brokers".
	Flag string
	// Value is the rejected value.
	Value string
	// Accepts says what the setting accepts.
	Accepts string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("invalid setting --%s (%s, file key %s): %q: want %s",
		e.Flag, EnvName(e.Flag), FileKey(e.Flag), e.Value, e.Accepts)
}

// EnvName is the environment variable of a flag, e.g. MIP_KAFKA_BROKERS for kafka-brokers.
func EnvName(flag string) string {
	return EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// FileKey is the YAML key path of a flag, e.g. kafka.brokers for kafka-brokers.
func FileKey(flag string) string {
	section, key, ok := strings.Cut(flag, "-")
	if !ok || !sections[section] {
		return strings.ReplaceAll(flag, "-", "_")
	}
	return section + "." + strings.ReplaceAll(key, "-", "_")
}

// sections are the flag prefixes that are YAML sections.
var sections = map[string]bool{"log": true, "kafka": true, "clickhouse": true, "redis": true, "scrape": true, "api": true}

// Validate checks every setting, returning one SettingError per bad setting.
func (c *Config) Validate() error {
	var errs []error
	bad := func(flag, value, accepts string) {
		errs = append(errs, &SettingError{Flag: flag, Value: value, Accepts: accepts})
	}
	for _, b := range c.Kafka.Brokers {
		if !isHostPort(b) {
			bad("kafka-brokers", b, "host:port with a port of 1-65535")
		}
	}
	if !isHostPort(c.Kafka.EmbeddedAddr) && !strings.HasSuffix(c.Kafka.EmbeddedAddr, ":0") {
		bad("kafka-embedded-addr", c.Kafka.EmbeddedAddr, "host:port")
	}
	if c.Kafka.Replication == 0 || c.Kafka.Replication < -1 {
		bad("kafka-replication", strconv.Itoa(int(c.Kafka.Replication)), "-1 (broker default) or a positive number")
	}
	if c.Kafka.DialTimeout <= 0 {
		bad("kafka-dial-timeout", c.Kafka.DialTimeout.String(), "a positive duration such as 10s")
	}
	if c.Kafka.ClientID == "" {
		bad("kafka-client-id", "", "a non-empty client id")
	}
	if !isHostPort(c.ClickHouse.Addr) {
		bad("clickhouse-addr", c.ClickHouse.Addr, "host:port of ClickHouse's native protocol")
	}
	if !isIdentifier(c.ClickHouse.Database) {
		bad("clickhouse-database", c.ClickHouse.Database, "a database name of letters, digits and underscores, not starting with a digit")
	}
	if !isHostPort(c.Redis.Addr) {
		bad("redis-addr", c.Redis.Addr, "host:port")
	}
	if c.Redis.DB < 0 || c.Redis.DB > 15 {
		bad("redis-db", strconv.Itoa(c.Redis.DB), "a database number of 0-15")
	}
	if strings.ContainsAny(c.Redis.Prefix, " \t\n*?[]") {
		bad("redis-prefix", c.Redis.Prefix, "a prefix without spaces or glob characters")
	}
	if !isHostPort(c.API.Addr) && !strings.HasSuffix(c.API.Addr, ":0") {
		bad("api-addr", c.API.Addr, "host:port")
	}
	if c.API.RateLimit < 0 {
		bad("api-rate-limit", strconv.FormatFloat(c.API.RateLimit, 'g', -1, 64), "requests per second, 0 for no limit")
	}
	if c.API.RateBurst < 1 {
		bad("api-rate-burst", strconv.Itoa(c.API.RateBurst), "a positive number of requests")
	}
	if c.API.RequestTimeout <= 0 {
		bad("api-request-timeout", c.API.RequestTimeout.String(), "a positive duration such as 10s")
	}
	if c.API.BodyLimit < 1024 {
		bad("api-body-limit", strconv.FormatInt(c.API.BodyLimit, 10), "at least 1024 bytes")
	}
	if c.API.SpoolBytes != 0 && c.API.SpoolBytes < 65536 {
		bad("api-spool-bytes", strconv.FormatInt(c.API.SpoolBytes, 10), "0 (no spool) or at least 65536 bytes")
	}
	if c.API.CacheSize < 1 {
		bad("api-cache-size", strconv.Itoa(c.API.CacheSize), "a positive number of entries")
	}
	if c.API.CacheTTL <= 0 {
		bad("api-cache-ttl", c.API.CacheTTL.String(), "a positive duration such as 1m")
	}
	if c.API.HistoryTTL <= 0 {
		bad("api-history-ttl", c.API.HistoryTTL.String(), "a positive duration such as 30s")
	}
	if c.API.WarmKeywords < 0 {
		bad("api-warm-keywords", strconv.Itoa(c.API.WarmKeywords), "0 or more keywords")
	}
	for _, o := range c.API.CORSOrigins {
		if o != "*" && !(strings.HasPrefix(o, "http://") || strings.HasPrefix(o, "https://")) {
			bad("api-cors-origins", o, "an origin such as https://app.example.com, or *")
		}
	}
	if c.DataDir == "" {
		bad("data-dir", "", "a directory path")
	}
	sc := c.Scrape
	if sc.Tabs < 1 || sc.Tabs > 32 {
		bad("scrape-tabs", strconv.Itoa(sc.Tabs), "1-32 tabs")
	}
	if sc.PageTimeout <= 0 {
		bad("scrape-page-timeout", sc.PageTimeout.String(), "a positive duration such as 30s")
	}
	if sc.Rate <= 0 {
		bad("scrape-rate", strconv.FormatFloat(sc.Rate, 'g', -1, 64), "a positive number of requests per second")
	}
	if sc.BaseURL != "" {
		if u, err := url.Parse(sc.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("scrape-base-url", sc.BaseURL, "an absolute http(s) URL such as http://127.0.0.1:18080")
		}
	}
	if sc.Group == "" {
		bad("scrape-group", "", "a consumer group name")
	}
	if sc.Concurrency < 1 || sc.Concurrency > 64 {
		bad("scrape-concurrency", strconv.Itoa(sc.Concurrency), "1-64 jobs")
	}
	if !validWeights(sc.Weights) {
		bad("scrape-weights", sc.Weights, "high:normal:low such as 6:3:1, each 0-1000, high and low positive")
	}
	if sc.Attempts < 1 || sc.Attempts > 100 {
		bad("scrape-attempts", strconv.Itoa(sc.Attempts), "1-100 attempts")
	}
	if sc.Backoff <= 0 {
		bad("scrape-backoff", sc.Backoff.String(), "a positive duration")
	}
	if sc.MaxBackoff < sc.Backoff {
		bad("scrape-max-backoff", sc.MaxBackoff.String(), "a duration at least --scrape-backoff")
	}
	if sc.BlockedBackoff < 0 {
		bad("scrape-blocked-backoff", sc.BlockedBackoff.String(), "0 (no retry) or a positive duration")
	}
	if sc.MaxProductPages < 0 || sc.MaxProductPages > 1000 {
		bad("scrape-max-product-pages", strconv.Itoa(sc.MaxProductPages), "0-1000 pages")
	}
	return errors.Join(errs...)
}

// validWeights checks "h:n:l": three numbers of 0-1000, the first and last positive.
func validWeights(s string) bool {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 1000 || (n == 0 && i != 1) {
			return false
		}
	}
	return true
}

func isHostPort(s string) bool {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n > 0 && n <= 65535
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
