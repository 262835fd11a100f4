package redis

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strconv"

	goredis "github.com/redis/go-redis/v9"
)

// Checksum returns a SHA-256 (hex) of the content of every key under prefix (a generation,
// e.g. "mip:g3:"), and the number of keys: key names relative to the prefix, types and values
// (hash fields sorted, sorted-set members with their scores in order), not TTLs. Two
// generations with the same content have the same checksum, so a replayed generation can be
// compared with the live one. Streams and other types are refused.
func Checksum(ctx context.Context, rdb goredis.UniversalClient, prefix string) (string, int, error) {
	var keys []string
	if err := scanPrefix(ctx, rdb, prefix, func(ks []string) error {
		keys = append(keys, ks...)
		return nil
	}); err != nil {
		return "", 0, fmt.Errorf("checksum of %s: %w", prefix, err)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys) // SCAN may return a key twice
	h := sha256.New()
	for batch := range slices.Chunk(keys, 500) {
		if err := digestKeys(ctx, rdb, prefix, batch, h); err != nil {
			return "", 0, fmt.Errorf("checksum of %s: %w", prefix, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), len(keys), nil
}

// digestKeys adds keys (in order) to h: TYPE of each in one pipeline, then their content in another.
func digestKeys(ctx context.Context, rdb goredis.UniversalClient, prefix string, keys []string, h hash.Hash) error {
	pipe := rdb.Pipeline()
	types := make([]*goredis.StatusCmd, len(keys))
	for i, k := range keys {
		types[i] = pipe.Type(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("type of %d keys: %w", len(keys), err)
	}
	pipe = rdb.Pipeline()
	vals := make([]goredis.Cmder, len(keys))
	for i, k := range keys {
		switch t := types[i].Val(); t {
		case "string":
			vals[i] = pipe.Get(ctx, k)
		case "hash":
			vals[i] = pipe.HGetAll(ctx, k)
		case "zset":
			vals[i] = pipe.ZRangeWithScores(ctx, k, 0, -1)
		case "set":
			vals[i] = pipe.SMembers(ctx, k)
		case "list":
			vals[i] = pipe.LRange(ctx, k, 0, -1)
		case "none":
			// Expired or deleted between SCAN and TYPE: not part of the content.
		default:
			return fmt.Errorf("key %s: type %s is not checksummed", k, t)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && err != goredis.Nil {
		return fmt.Errorf("read %d keys: %w", len(keys), err)
	}
	for i, k := range keys {
		if vals[i] == nil {
			continue
		}
		write(h, types[i].Val())
		write(h, k[len(prefix):])
		switch c := vals[i].(type) {
		case *goredis.StringCmd:
			if c.Err() == goredis.Nil {
				continue
			}
			write(h, c.Val())
		case *goredis.MapStringStringCmd:
			m := c.Val()
			fs := make([]string, 0, len(m))
			for f := range m {
				fs = append(fs, f)
			}
			slices.Sort(fs)
			writeLen(h, len(fs))
			for _, f := range fs {
				write(h, f)
				write(h, m[f])
			}
		case *goredis.ZSliceCmd:
			zs := c.Val()
			writeLen(h, len(zs))
			for _, z := range zs {
				write(h, fmt.Sprint(z.Member))
				write(h, strconv.FormatFloat(z.Score, 'g', -1, 64))
			}
		case *goredis.StringSliceCmd:
			ms := c.Val()
			if types[i].Val() == "set" {
				ms = slices.Sorted(slices.Values(ms))
			}
			writeLen(h, len(ms))
			for _, m := range ms {
				write(h, m)
			}
		}
	}
	return nil
}

// write adds a length-prefixed string to h, so that no two sequences of strings digest alike.
func write(h hash.Hash, s string) {
	writeLen(h, len(s))
	h.Write([]byte(s))
}

func writeLen(h hash.Hash, n int) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
}
