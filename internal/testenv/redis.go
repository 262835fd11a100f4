package testenv

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisEnv is a Redis key space of one test: every key the test writes starts with Prefix.
type RedisEnv struct {
	// Client is connected to the test Redis; it is closed when the test ends.
	Client *redis.Client
	// Prefix is test:<test name>:<random>:, unique to the test.
	Prefix string
}

const redisTimeout = 5 * time.Second

// Redis connects to the Redis at MIP_TEST_REDIS_ADDR, else MIP_REDIS_ADDR, else 127.0.0.1:16379
// and gives the test its own key prefix. When the test ends every key with the prefix is deleted
// (MIP_TEST_KEEP=1 keeps them and logs the prefix) and the client is closed. A server that does not
// answer a ping within 5 s fails the test with the command that starts it.
func Redis(t testing.TB) *RedisEnv {
	t.Helper()
	addr := envAddr("127.0.0.1:16379", "MIP_TEST_REDIS_ADDR", "MIP_REDIS_ADDR")
	cl, err := connectRedis(addr)
	if err != nil {
		t.Fatalf("%v", err)
	}
	env := &RedisEnv{Client: cl, Prefix: "test:" + shortTestName(t, '-') + ":" + randHex(4) + ":"}
	t.Cleanup(func() {
		defer cl.Close()
		if keep() {
			t.Logf("testenv: MIP_TEST_KEEP=1: keeping Redis keys %s* at %s", env.Prefix, addr)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deletePrefix(ctx, cl, env.Prefix); err != nil {
			t.Errorf("testenv: Redis at %s: delete keys %s*: %v", addr, env.Prefix, err)
		}
	})
	return env
}

// connectRedis returns a pinged client for addr; its error names the address and the command that
// starts the local server.
func connectRedis(addr string) (*redis.Client, error) {
	unreachable := func(err error) error {
		return fmt.Errorf("Redis is not reachable at %s: %v; start it with `deploy/local/services up redis` (or `make services`)", addr, err)
	}
	// A plain dial first: go-redis retries a refused connection several times and logs each
	// attempt to stderr, which would bury the message below.
	c, err := net.DialTimeout("tcp", addr, redisTimeout)
	if err != nil {
		return nil, unreachable(err)
	}
	c.Close()
	cl := redis.NewClient(&redis.Options{
		Addr:        addr,
		DialTimeout: redisTimeout,
		// Redis 7.0 has no CLIENT SETINFO: skip the identity handshake rather than send it in vain.
		DisableIdentity: true,
	})
	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	if err := cl.Ping(ctx).Err(); err != nil {
		cl.Close()
		return nil, unreachable(err)
	}
	return cl, nil
}

// deletePrefix unlinks every key that starts with prefix (SCAN + UNLINK).
func deletePrefix(ctx context.Context, cl *redis.Client, prefix string) error {
	pattern := globEscape(prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := cl.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := cl.Unlink(ctx, keys...).Err(); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// globEscape escapes the glob characters of Redis's MATCH pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\^`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Key returns Prefix followed by parts joined with ":".
func (r *RedisEnv) Key(parts ...string) string {
	return r.Prefix + strings.Join(parts, ":")
}
