package redis

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/analytics/market"
	"github.com/marketinsightspro/marketinsights/projections"
	"github.com/marketinsightspro/marketinsights/topics"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// luaScript is a script with its source (go-redis's Script.Load cannot run in a pipeline).
type luaScript struct {
	*goredis.Script
	src string
}

func loadScript(name string) luaScript {
	src, err := luaFiles.ReadFile("lua/" + name)
	if err != nil {
		panic(fmt.Sprintf("projections/redis: embedded script %s: %v", name, err))
	}
	return luaScript{goredis.NewScript(string(src)), string(src)}
}

// The scripts, loaded into Redis once per sink (SCRIPT LOAD) and called by EVALSHA.
var (
	productScript      = loadScript("product.lua")
	keywordScript      = loadScript("keyword.lua")
	windowScript       = loadScript("window.lua")
	anomalyScript      = loadScript("anomaly.lua")
	subscriptionScript = loadScript("subscription.lua")
	switchScript       = loadScript("switch.lua")
	abortScript        = loadScript("abort.lua")
)

// Options configure the sinks; zero values take the documented defaults.
type Options struct {
	// Generation, when set, is the one generation the sinks write, and they publish nothing
	// (replay builds a generation this way, then Switch announces it). Empty: they write the
	// current generation, and the next one while a replay builds it (Keyspace.Begin), and
	// publish the changes applied to the current one.
	Generation string
	// KeywordRetention is how long, in event time, a product stays in a keyword's sets after the
	// keyword's last page that listed it, measured from the keyword's newest page (default 24h).
	KeywordRetention time.Duration
	// KeywordTTL expires a keyword's keys (rows, sets, windows, anomaly feed) after this long
	// without an applied change (default 7 days; negative: never).
	KeywordTTL time.Duration
	// ProductTTL expires a product hash after this long without an applied change (default 30
	// days; negative: never).
	ProductTTL time.Duration
	// AnomalyCap is how many anomalies the global feed and each keyword's feed keep (default 1000).
	AnomalyCap int
	// PageSize is the listings of a full search page: a listing's position in the keyword's sets
	// is (page-1) * PageSize + position (default 48, as processors/keywords).
	PageSize int
	// Sales estimates monthly unit sales (default market.DefaultSalesModel()).
	Sales *market.SalesModel
	// Topics maps a catalog topic name to the name consumed (tests use per-test names); a topic
	// missing from it is consumed under its catalog name.
	Topics map[string]string
}

func (o *Options) defaults() {
	if o.KeywordRetention <= 0 {
		o.KeywordRetention = 24 * time.Hour
	}
	if o.KeywordTTL == 0 {
		o.KeywordTTL = 7 * 24 * time.Hour
	}
	if o.ProductTTL == 0 {
		o.ProductTTL = 30 * 24 * time.Hour
	}
	if o.AnomalyCap <= 0 {
		o.AnomalyCap = 1000
	}
	if o.PageSize <= 0 {
		o.PageSize = 48
	}
	if o.Sales == nil {
		o.Sales = market.DefaultSalesModel()
	}
}

// ttlMillis is a TTL as the scripts take it: milliseconds, 0 for none.
func ttlMillis(d time.Duration) int64 {
	if d < 0 {
		return 0
	}
	return d.Milliseconds()
}

// Row is one script call: a guarded change of one entity's keys, decoded from one record.
type Row struct {
	script luaScript
	// keys are relative to the generation prefix.
	keys []string
	// args are the script's ARGV; args[0] (the channel) is set per generation at write time.
	args []any
	// Change is what the script publishes when it applies the row.
	Change Change
}

// Sink projects one topic into Redis; it implements projections.Sink[Row].
type Sink struct {
	name  string
	topic string
	cat   topics.Topic
	ks    *Keyspace
	opts  Options
	rows  func(s *Sink, m proto.Message, key []byte) ([]Row, error)
	// tombstone projects a record without a value (nil: such a record is undecodable).
	tombstone func(r *kgo.Record) ([]Row, error)
}

var _ projections.Sink[Row] = (*Sink)(nil)

// Name identifies the sink, e.g. "redis/products".
func (s *Sink) Name() string { return s.name }

// Topic returns the topic the sink consumes.
func (s *Sink) Topic() string { return s.topic }

// Rows decodes a record into the script calls it projects; an undecodable or invalid record is
// an error (the projector dead-letters it).
func (s *Sink) Rows(r *kgo.Record) ([]Row, error) {
	if r.Value == nil && s.tombstone != nil {
		rows, err := s.tombstone(r)
		if err != nil {
			return nil, fmt.Errorf("tombstone %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		return rows, nil
	}
	m, err := topics.DecodeRecord(s.cat, r)
	if err != nil {
		return nil, err
	}
	rows, err := s.rows(s, m, r.Key)
	if err != nil {
		return nil, fmt.Errorf("%s record %s/%d@%d: %w", s.cat.Schema(), r.Topic, r.Partition, r.Offset, err)
	}
	return rows, nil
}

// Write runs the rows' scripts, pipelined, in every target generation. It is idempotent: every
// script is guarded, so rows written twice (a retried batch, a redelivery) apply once. A script
// refused by Redis (bad arguments, wrong key type) is a permanent error; anything else is
// transient and retried by the projector.
func (s *Sink) Write(ctx context.Context, rows []Row) error {
	if len(rows) == 0 {
		return nil
	}
	gens, publish := []string{s.opts.Generation}, false
	if s.opts.Generation == "" {
		var err error
		if gens, err = s.ks.Targets(ctx); err != nil {
			return err
		}
		publish = true
	}
	for attempt := 0; ; attempt++ {
		err := s.exec(ctx, gens, publish, rows)
		if err == nil {
			return nil
		}
		if attempt == 0 && goredis.HasErrorPrefix(err, "NOSCRIPT") {
			// Redis restarted or its script cache was flushed: load the scripts and run the
			// batch again (the guards make the rows that did run a no-op).
			if err := loadScripts(ctx, s.ks.rdb); err != nil {
				return err
			}
			continue
		}
		return err
	}
}

// exec pipelines the rows' EVALSHA calls into every generation and classifies the first failure.
func (s *Sink) exec(ctx context.Context, gens []string, publish bool, rows []Row) error {
	pipe := s.ks.rdb.Pipeline()
	channel := s.ks.Channel()
	for i, gen := range gens {
		ch := ""
		if publish && i == 0 {
			ch = channel
		}
		for _, r := range rows {
			keys := make([]string, len(r.keys))
			for j, k := range r.keys {
				keys[j] = gen + k
			}
			r.args[0] = ch
			pipe.EvalSha(ctx, r.script.Hash(), keys, r.args...)
		}
	}
	cmds, err := pipe.Exec(ctx)
	if err == nil {
		return nil
	}
	for _, c := range cmds {
		if cerr := c.Err(); cerr != nil {
			return classify(cerr, fmt.Sprintf("%s: write %d rows into %s", s.name, len(rows), strings.Join(gens, ", ")))
		}
	}
	return classify(err, fmt.Sprintf("%s: write %d rows into %s", s.name, len(rows), strings.Join(gens, ", ")))
}

// classify wraps err with what was done, marking as permanent the errors the rows cause.
func classify(err error, doing string) error {
	wrapped := fmt.Errorf("%s: %w", doing, err)
	var rerr goredis.Error
	if !errors.As(err, &rerr) || isNetError(err) {
		return wrapped
	}
	msg := strings.TrimPrefix(rerr.Error(), "ERR ")
	for _, transient := range []string{"NOSCRIPT", "LOADING", "BUSY", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "OOM", "NOREPLICAS", "MOVED", "ASK"} {
		if strings.HasPrefix(msg, transient) {
			return wrapped
		}
	}
	return projections.Permanent(wrapped)
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

// loadScripts loads every script of the package into Redis's script cache.
func loadScripts(ctx context.Context, rdb goredis.UniversalClient) error {
	pipe := rdb.Pipeline()
	for _, sc := range []luaScript{productScript, keywordScript, windowScript, anomalyScript, subscriptionScript, switchScript, abortScript} {
		pipe.ScriptLoad(ctx, sc.src)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("load Lua scripts into Redis: %w", err)
	}
	return nil
}
