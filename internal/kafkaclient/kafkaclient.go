// Package kafkaclient builds franz-go clients from the configuration, with the settings every
// role shares: acks from all in-sync replicas, idempotent writes, read-committed fetches.
package kafkaclient

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kslog"

	"github.com/marketinsightspro/marketinsights/internal/config"
)

// New returns a client for the configured brokers, with the hooks of cfg.ClientHooks; extra
// options are applied after the shared ones.
func New(cfg config.Kafka, log *slog.Logger, extra ...kgo.Opt) (*kgo.Client, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.BootstrapBrokers()...),
		kgo.ClientID(cfg.ClientID),
		kgo.DialTimeout(cfg.DialTimeout),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ProducerBatchCompression(kgo.Lz4Compression(), kgo.NoCompression()),
	}
	if log != nil {
		opts = append(opts, kgo.WithLogger(kslog.New(slog.New(quiet{log.Handler()}).With("component", "kafka"))))
	}
	if cfg.ClientHooks != nil {
		for _, h := range cfg.ClientHooks() {
			opts = append(opts, kgo.WithHooks(h))
		}
	}
	opts = append(opts, extra...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("create Kafka client for %v: %w", cfg.BootstrapBrokers(), err)
	}
	return cl, nil
}

// NewAdmin returns an admin client over a new client; closing the admin closes the client.
func NewAdmin(cfg config.Kafka, log *slog.Logger) (*kadm.Client, error) {
	cl, err := New(cfg, log)
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// quiet passes on the client's warnings and errors, and its chatty info and debug lines (every
// metadata refresh and group step) only when the process logs at debug level.
type quiet struct{ slog.Handler }

func (q quiet) Enabled(ctx context.Context, l slog.Level) bool {
	if q.Handler.Enabled(ctx, slog.LevelDebug) {
		return true
	}
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}

func (q quiet) WithAttrs(as []slog.Attr) slog.Handler { return quiet{q.Handler.WithAttrs(as)} }
func (q quiet) WithGroup(name string) slog.Handler    { return quiet{q.Handler.WithGroup(name)} }
