package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/projections"
	"github.com/marketinsightspro/marketinsights/topics"
)

// sinkSpecs are the Redis sinks: catalog topic, sink name, rows function.
var sinkSpecs = []struct {
	topic, name string
	rows        func(*Sink, proto.Message, []byte) ([]Row, error)
	// tombstone, when set, projects a record without a value (a compacted topic's deletion);
	// without it such a record is undecodable.
	tombstone func(*kgo.Record) ([]Row, error)
}{
	{topics.ProductChanges, "redis/products", unkeyed(productRows), nil},
	{topics.SearchResults, "redis/keywords", unkeyed(keywordRows), nil},
	{topics.KeywordWindows, "redis/windows", unkeyed(windowRows), nil},
	{topics.Anomalies, "redis/anomalies", unkeyed(anomalyRows), nil},
	{topics.Subscriptions, "redis/subscriptions", subscriptionRows, subscriptionTombstone},
}

// unkeyed adapts a rows function that needs no record key.
func unkeyed(f func(*Sink, proto.Message) ([]Row, error)) func(*Sink, proto.Message, []byte) ([]Row, error) {
	return func(s *Sink, m proto.Message, _ []byte) ([]Row, error) { return f(s, m) }
}

// Topics returns the catalog names of the topics the Redis sinks consume.
func Topics() []string {
	out := make([]string, len(sinkSpecs))
	for i, s := range sinkSpecs {
		out[i] = s.topic
	}
	return out
}

// Sinks returns one sink per projected topic (product changes, search results, keyword
// windows, anomalies, subscriptions) writing into ks. It loads the Lua scripts into Redis.
func Sinks(ctx context.Context, ks *Keyspace, opts Options) ([]*Sink, error) {
	opts.defaults()
	if opts.Generation != "" {
		if err := ks.CheckGeneration(opts.Generation); err != nil {
			return nil, fmt.Errorf("redis sinks: %w", err)
		}
	}
	if err := loadScripts(ctx, ks.rdb); err != nil {
		return nil, err
	}
	return newSinks(ks, opts), nil
}

// newSinks builds the sinks of opts (with defaults applied) without touching Redis.
func newSinks(ks *Keyspace, opts Options) []*Sink {
	out := make([]*Sink, len(sinkSpecs))
	for i, sp := range sinkSpecs {
		name := sp.topic
		if n, ok := opts.Topics[sp.topic]; ok && n != "" {
			name = n
		}
		out[i] = &Sink{name: sp.name, topic: name, cat: topics.MustLookup(sp.topic), ks: ks, opts: opts, rows: sp.rows, tombstone: sp.tombstone}
	}
	return out
}

// Projectors returns a projector per sink; opts gives each sink's projector options (its Topic
// is set to the sink's topic when left empty). A consumer group per sink is the usual choice,
// e.g. Group: "project-" + strings.ReplaceAll(s.Name(), "/", "-").
func Projectors(cfg config.Kafka, sinks []*Sink, opts func(s *Sink) projections.Options) ([]*projections.Projector[Row], error) {
	out := make([]*projections.Projector[Row], 0, len(sinks))
	for _, s := range sinks {
		o := opts(s)
		if o.Topic == "" {
			o.Topic = s.Topic()
		}
		p, err := projections.New[Row](cfg, s, o)
		if err != nil {
			for _, q := range out {
				// A projector's client is closed by Run; run the built ones on a done context.
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				_ = q.Run(ctx)
			}
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// Run runs the projectors until ctx ends (or, replaying, until each reached its end offsets)
// and returns when all have returned, with their errors joined. When one fails the others are
// stopped.
func Run(ctx context.Context, ps []*projections.Projector[Row]) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(ps))
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = p.Run(ctx); errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
