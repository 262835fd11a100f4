package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// Keyspace is the key space of the Redis read models under one prefix: the generation pointers
// <prefix>current and <prefix>next, the generation counter <prefix>generation, the change channel
// <prefix>changes, and the generations <prefix>g<N>: that hold the read models themselves.
type Keyspace struct {
	rdb    goredis.UniversalClient
	prefix string
}

// ErrNotGeneration is returned for a generation that is not <prefix>g<N>: of the key space.
var ErrNotGeneration = errors.New("not a generation of this key space")

// ErrGenerationInUse is returned when deleting the current or the next generation.
var ErrGenerationInUse = errors.New("generation in use")

// NewKeyspace returns the key space under prefix (config.Redis.Prefix, e.g. "mip:").
func NewKeyspace(rdb goredis.UniversalClient, prefix string) *Keyspace {
	return &Keyspace{rdb: rdb, prefix: prefix}
}

// Prefix returns the key space's prefix.
func (k *Keyspace) Prefix() string { return k.prefix }

// Client returns the Redis client of the key space.
func (k *Keyspace) Client() goredis.UniversalClient { return k.rdb }

// Channel returns the channel every applied change is published on: <prefix>changes.
func (k *Keyspace) Channel() string { return k.prefix + "changes" }

func (k *Keyspace) currentKey() string { return k.prefix + "current" }
func (k *Keyspace) nextKey() string    { return k.prefix + "next" }
func (k *Keyspace) counterKey() string { return k.prefix + "generation" }

// generationOf returns the generation prefix of number n.
func (k *Keyspace) generationOf(n int64) string {
	return k.prefix + "g" + strconv.FormatInt(n, 10) + ":"
}

// CheckGeneration returns an error wrapping ErrNotGeneration unless gen is <prefix>g<N>:.
func (k *Keyspace) CheckGeneration(gen string) error {
	rest, ok := strings.CutPrefix(gen, k.prefix+"g")
	if ok {
		if num, ok := strings.CutSuffix(rest, ":"); ok {
			if n, err := strconv.ParseInt(num, 10, 64); err == nil && n > 0 && strconv.FormatInt(n, 10) == num {
				return nil
			}
		}
	}
	return fmt.Errorf("%q under prefix %q: %w", gen, k.prefix, ErrNotGeneration)
}

// NewGeneration reserves a new, empty generation (INCR of <prefix>generation) and returns its
// prefix. It is neither current nor next: nothing writes to it but a sink given it explicitly.
func (k *Keyspace) NewGeneration(ctx context.Context) (string, error) {
	n, err := k.rdb.Incr(ctx, k.counterKey()).Result()
	if err != nil {
		return "", fmt.Errorf("reserve a generation under %q: %w", k.prefix, err)
	}
	return k.generationOf(n), nil
}

// Current returns the active generation, creating the first one when there is none.
func (k *Keyspace) Current(ctx context.Context) (string, error) {
	gens, err := k.Targets(ctx)
	if err != nil {
		return "", err
	}
	return gens[0], nil
}

// Targets returns the generations live sinks write to: the current one, and the next one while
// a replay builds it (Begin). When there is no current generation yet, the first one is
// reserved and made current (SET NX, so concurrent sinks agree on one).
func (k *Keyspace) Targets(ctx context.Context) ([]string, error) {
	vals, err := k.rdb.MGet(ctx, k.currentKey(), k.nextKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("read generation pointers %s, %s: %w", k.currentKey(), k.nextKey(), err)
	}
	cur, _ := vals[0].(string)
	next, _ := vals[1].(string)
	if cur == "" {
		gen, err := k.NewGeneration(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := k.rdb.SetNX(ctx, k.currentKey(), gen, 0).Result(); err != nil {
			return nil, fmt.Errorf("set %s to %s: %w", k.currentKey(), gen, err)
		}
		if cur, err = k.rdb.Get(ctx, k.currentKey()).Result(); err != nil {
			return nil, fmt.Errorf("read %s: %w", k.currentKey(), err)
		}
	}
	gens := []string{cur}
	if next != "" && next != cur {
		gens = append(gens, next)
	}
	return gens, nil
}

// Begin reserves a new generation and makes it next: from their next batch on, live sinks write
// every change to it as well as to the current generation, so that a replay into it followed
// by Switch misses nothing that arrived while it ran. Call it before taking the replay's end
// offsets.
func (k *Keyspace) Begin(ctx context.Context) (string, error) {
	gen, err := k.NewGeneration(ctx)
	if err != nil {
		return "", err
	}
	if err := k.rdb.Set(ctx, k.nextKey(), gen, 0).Err(); err != nil {
		return "", fmt.Errorf("set %s to %s: %w", k.nextKey(), gen, err)
	}
	return gen, nil
}

// Abort forgets gen as the next generation (if it is) without switching to it; the caller
// deletes it with DeleteGeneration.
func (k *Keyspace) Abort(ctx context.Context, gen string) error {
	if err := abortScript.Run(ctx, k.rdb, []string{k.nextKey()}, gen).Err(); err != nil {
		return fmt.Errorf("abort generation %s: %w", gen, err)
	}
	return nil
}

// Switch makes gen the current generation in one step (a Lua script): it sets <prefix>current,
// clears <prefix>next if it named gen, publishes {"kind":"generation","generation":gen} on the
// change channel (readers drop what they cached) and returns the previous current generation
// ("" when there was none). Sinks take the switch into account at their next batch.
func (k *Keyspace) Switch(ctx context.Context, gen string) (string, error) {
	if err := k.CheckGeneration(gen); err != nil {
		return "", fmt.Errorf("switch to generation: %w", err)
	}
	msg := Change{Kind: KindGeneration, Generation: gen}
	old, err := switchScript.Run(ctx, k.rdb, []string{k.currentKey(), k.nextKey()}, gen, k.Channel(), msg.JSON()).Text()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return "", fmt.Errorf("switch %s to %s: %w", k.currentKey(), gen, err)
	}
	return old, nil
}

// DeleteGeneration removes every key of gen (SCAN and UNLINK in batches of 1000) and returns how
// many it removed. It refuses the current and the next generation.
func (k *Keyspace) DeleteGeneration(ctx context.Context, gen string) (int64, error) {
	if err := k.CheckGeneration(gen); err != nil {
		return 0, fmt.Errorf("delete generation: %w", err)
	}
	vals, err := k.rdb.MGet(ctx, k.currentKey(), k.nextKey()).Result()
	if err != nil {
		return 0, fmt.Errorf("delete generation %s: read pointers: %w", gen, err)
	}
	for _, v := range vals {
		if s, _ := v.(string); s == gen {
			return 0, fmt.Errorf("delete generation %s: %w", gen, ErrGenerationInUse)
		}
	}
	n, err := deletePrefix(ctx, k.rdb, gen)
	if err != nil {
		return n, fmt.Errorf("delete generation %s: %w", gen, err)
	}
	return n, nil
}

// Generations returns the generations that hold keys, in SCAN order, by scanning the key space.
// It is meant for operators cleaning up after an aborted replay, not for hot paths.
func (k *Keyspace) Generations(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	err := scanPrefix(ctx, k.rdb, k.prefix+"g", func(keys []string) error {
		for _, key := range keys {
			rest := key[len(k.prefix)+1:]
			num, _, ok := strings.Cut(rest, ":")
			if !ok {
				continue
			}
			gen := k.prefix + "g" + num + ":"
			if !seen[gen] && k.CheckGeneration(gen) == nil {
				seen[gen] = true
				out = append(out, gen)
			}
		}
		return nil
	})
	return out, err
}

// scanPrefix calls fn with every batch of keys starting with prefix (SCAN MATCH, COUNT 1000).
func scanPrefix(ctx context.Context, rdb goredis.UniversalClient, prefix string, fn func([]string) error) error {
	pattern := globEscape(prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return fmt.Errorf("scan %s: %w", pattern, err)
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// deletePrefix unlinks every key starting with prefix and returns how many it unlinked.
func deletePrefix(ctx context.Context, rdb goredis.UniversalClient, prefix string) (int64, error) {
	var n int64
	err := scanPrefix(ctx, rdb, prefix, func(keys []string) error {
		c, err := rdb.Unlink(ctx, keys...).Result()
		if err != nil {
			return fmt.Errorf("unlink %d keys: %w", len(keys), err)
		}
		n += c
		return nil
	})
	return n, err
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
