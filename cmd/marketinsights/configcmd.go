package main

import (
	"fmt"

	"github.com/goccy/go-yaml"
)

type configCmd struct{}

func (configCmd) Run(e *env) error {
	c := *e.cfg
	mask := func(s string) string {
		if s == "" {
			return ""
		}
		return "********"
	}
	doc := map[string]any{
		"data_dir": c.DataDir,
		"log":      map[string]any{"level": c.Log.Level, "format": c.Log.Format},
		"kafka": map[string]any{"brokers": c.Kafka.Brokers, "embedded_addr": c.Kafka.EmbeddedAddr,
			"replication": c.Kafka.Replication, "client_id": c.Kafka.ClientID, "dial_timeout": c.Kafka.DialTimeout.String()},
		"clickhouse": map[string]any{"addr": c.ClickHouse.Addr, "database": c.ClickHouse.Database,
			"username": c.ClickHouse.Username, "password": mask(c.ClickHouse.Password)},
		"redis": map[string]any{"addr": c.Redis.Addr, "db": c.Redis.DB, "password": mask(c.Redis.Password), "prefix": c.Redis.Prefix},
		"scrape": map[string]any{"fetcher": c.Scrape.Fetcher, "tabs": c.Scrape.Tabs, "page_timeout": c.Scrape.PageTimeout.String(),
			"user_agent": c.Scrape.UserAgent, "allow_hosts": c.Scrape.AllowHosts, "allow_private": c.Scrape.AllowPrivate,
			"robots": c.Scrape.Robots, "rate": c.Scrape.Rate, "base_url": c.Scrape.BaseURL, "group": c.Scrape.Group,
			"concurrency": c.Scrape.Concurrency, "weights": c.Scrape.Weights, "attempts": c.Scrape.Attempts,
			"backoff": c.Scrape.Backoff.String(), "max_backoff": c.Scrape.MaxBackoff.String(),
			"blocked_backoff": c.Scrape.BlockedBackoff.String(), "max_product_pages": c.Scrape.MaxProductPages},
		"api": map[string]any{"addr": c.API.Addr, "key": mask(c.API.Key), "rate_limit": c.API.RateLimit, "rate_burst": c.API.RateBurst,
			"request_timeout": c.API.RequestTimeout.String(), "body_limit": c.API.BodyLimit, "cache_size": c.API.CacheSize,
			"cache_ttl": c.API.CacheTTL.String(), "history_ttl": c.API.HistoryTTL.String(), "warm_keywords": c.API.WarmKeywords,
			"cors_origins": c.API.CORSOrigins, "spool_dir": c.API.SpoolDir, "spool_bytes": c.API.SpoolBytes},
	}
	b, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("render configuration: %w", err)
	}
	_, err = e.stdout.Write(b)
	return err
}
