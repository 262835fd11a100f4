package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/api"
	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/internal/spool"
	chproj "github.com/marketinsightspro/marketinsights/projections/clickhouse"
	rproj "github.com/marketinsightspro/marketinsights/projections/redis"
	"github.com/marketinsightspro/marketinsights/topics"
	"github.com/marketinsightspro/marketinsights/web"
)

type serveCmd struct {
	NoClickHouse bool `name:"no-clickhouse" help:"Serve without ClickHouse: history endpoints answer 503, nothing falls back to it."`
}

func (c *serveCmd) Run(e *env) error {
	s, err := startServer(e, e.cfg.Kafka, e.cfg.API.Key, !c.NoClickHouse, newRegistry())
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Market Insights Pro API and report page: %s (API: %s/api/v1/openapi.json)\n", s.url, s.url)
	<-e.ctx.Done()
	return s.close()
}

// runningServer is the API and report page serving until close.
type runningServer struct {
	url   string
	close func() error
}

// startServer connects to Redis, ClickHouse (when history) and Kafka, and serves the API and the
// report page on the configured address until close.
func startServer(e *env, kcfg config.Kafka, key string, history bool, reg *prometheus.Registry) (*runningServer, error) {
	cfg := e.cfg.API
	var closers []func()
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	rdb := goredis.NewClient(&goredis.Options{Addr: e.cfg.Redis.Addr, DB: e.cfg.Redis.DB, Password: e.cfg.Redis.Password, DisableIdentity: true})
	closers = append(closers, func() { _ = rdb.Close() })
	pctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		cleanup()
		return nil, fmt.Errorf("Redis at %s does not answer: %w; start it with `deploy/local/services up redis`", e.cfg.Redis.Addr, err)
	}
	opts := api.Options{
		Store: api.NewStore(rproj.NewKeyspace(rdb, e.cfg.Redis.Prefix)), APIKey: key,
		RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, RequestTimeout: cfg.RequestTimeout, MaxBodyBytes: cfg.BodyLimit,
		CORSOrigins: cfg.CORSOrigins, CacheSize: cfg.CacheSize, CacheTTL: cfg.CacheTTL, HistoryTTL: cfg.HistoryTTL,
		WarmKeywords: cfg.WarmKeywords, Registry: reg, Logger: e.log,
	}
	if history {
		conn, err := chproj.Open(e.ctx, e.cfg.ClickHouse, "")
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("%w (or serve with --no-clickhouse)", err)
		}
		closers = append(closers, func() { _ = conn.Close() })
		opts.History = api.NewHistory(conn)
	}
	producer, err := kafkaclient.New(kcfg, e.log)
	if err != nil {
		cleanup()
		return nil, err
	}
	closers = append(closers, producer.Close)
	opts.Kafka = producer
	if cfg.SpoolBytes > 0 {
		dir := cfg.SpoolDir
		if dir == "" {
			dir = filepath.Join(e.cfg.DataDir, "api-spool")
		}
		sp, err := spool.Open(producer, spool.Options{Dir: dir, MaxBytes: cfg.SpoolBytes, Logger: e.log})
		if err != nil {
			cleanup()
			return nil, fmt.Errorf("open the user actions' spool (--api-spool-dir, or --api-spool-bytes 0 for none): %w", err)
		}
		closers = append(closers, func() {
			if err := sp.Close(); err != nil {
				e.log.Warn("close the user actions' spool", "err", err)
			}
		})
		opts.Spool = sp
		if st := sp.Stats(); st.Bytes > 0 {
			e.log.Info("user actions waiting in the spool from an earlier run", "dir", dir, "bytes", st.Bytes)
		}
	}
	// The tracker follows the analyses of the last hour; older ones come from ClickHouse.
	follower, err := kafkaclient.New(kcfg, e.log, kgo.ConsumeTopics(topics.AnalysisEvents),
		kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(time.Now().Add(-time.Hour).UnixMilli())))
	if err != nil {
		cleanup()
		return nil, err
	}
	closers = append(closers, follower.Close)
	opts.Tracker = api.NewTracker(follower, 10000, e.log)
	page, err := web.NewHandler()
	if err != nil {
		cleanup()
		return nil, err
	}
	opts.Page = page
	srv, err := api.New(opts)
	if err != nil {
		cleanup()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("listen on %s (set --api-addr): %w", cfg.Addr, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10}
	ctx, stop := context.WithCancel(context.WithoutCancel(e.ctx))
	runDone := make(chan error, 1)
	go func() { runDone <- srv.Run(ctx) }()
	serveDone := make(chan error, 1)
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			serveDone <- fmt.Errorf("serve the API on %s: %w", cfg.Addr, err)
			return
		}
		serveDone <- nil
	}()
	url := "http://" + ln.Addr().String()
	e.log.Info("API and report page", "url", url)
	return &runningServer{url: url, close: func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stop() // closes the WebSocket clients, which Shutdown does not wait for
		err := errors.Join(hs.Shutdown(sctx), <-serveDone, <-runDone)
		cleanup()
		return err
	}}, nil
}

// demoAPIKey returns the demo's API key, kept in <data-dir>/api-key so the printed link stays valid.
func demoAPIKey(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "api-key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 16)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("generate an API key: %w", err)
	}
	key := hex.EncodeToString(buf)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", dataDir, err)
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the API key: %w", err)
	}
	return key, nil
}
