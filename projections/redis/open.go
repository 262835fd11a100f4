package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/marketinsightspro/marketinsights/internal/config"
)

// Open connects to the configured Redis and pings it.
func Open(ctx context.Context, cfg config.Redis) (*goredis.Client, error) {
	rdb := goredis.NewClient(&goredis.Options{Addr: cfg.Addr, DB: cfg.DB, Password: cfg.Password, DialTimeout: 5 * time.Second})
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("Redis at %s does not answer: %w; start it with `deploy/local/services up redis`", cfg.Addr, err)
	}
	return rdb, nil
}
