// Package broker runs the embedded Kafka broker (franz-go's kfake) used by the demo, the tests and
// anyone without a Kafka cluster.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Options configure an embedded broker.
type Options struct {
	// Addr is host:port to listen on; port 0 picks a free port.
	Addr string
	// DataDir keeps topics, records and committed offsets across restarts; empty keeps them in memory.
	DataDir string
	// SyncWrites fsyncs every produced batch (durable on a crash, slower).
	SyncWrites bool
	// Logger receives the broker's warnings and errors; nil discards them.
	Logger *slog.Logger
}

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
	once    sync.Once
}

// Start starts an embedded broker. Close it to flush its data directory.
func Start(opts Options) (*Broker, error) {
	host, portStr, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("embedded broker address %q: want host:port: %w", opts.Addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("embedded broker address %q: port must be 0-65535", opts.Addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
	}
	if opts.Logger != nil {
		kopts = append(kopts, kfake.WithLogger(slogLogger{opts.Logger}))
	}
	if opts.DataDir != "" {
		if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("create broker data directory %s: %w", opts.DataDir, err)
		}
		kopts = append(kopts, kfake.DataDir(opts.DataDir))
	}
	if opts.SyncWrites {
		kopts = append(kopts, kfake.SyncWrites())
	}
	c, err := kfake.NewCluster(kopts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on %s (data dir %q): %w", opts.Addr, opts.DataDir, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) == 0 {
		c.Close()
		return nil, errors.New("embedded broker started without a listener")
	}
	return &Broker{cluster: c, addr: addrs[0]}, nil
}

// Addr is the address clients bootstrap from.
func (b *Broker) Addr() string { return b.addr }

// Cluster exposes the kfake cluster, for tests that inject faults.
func (b *Broker) Cluster() *kfake.Cluster { return b.cluster }

// Close stops the broker and flushes its data directory; it is safe to call more than once.
func (b *Broker) Close() {
	b.once.Do(b.cluster.Close)
}

// Run starts a broker and blocks until ctx is done, then closes it.
func Run(ctx context.Context, opts Options, ready func(*Broker)) error {
	b, err := Start(opts)
	if err != nil {
		return err
	}
	defer b.Close()
	if ready != nil {
		ready(b)
	}
	<-ctx.Done()
	return nil
}

type slogLogger struct{ l *slog.Logger }

func (s slogLogger) Logf(level kfake.LogLevel, msg string, args ...any) {
	text := fmt.Sprintf(msg, args...)
	switch level {
	case kfake.LogLevelError:
		s.l.Error(text, "component", "kfake")
	case kfake.LogLevelWarn:
		s.l.Warn(text, "component", "kfake")
	case kfake.LogLevelInfo:
		s.l.Debug(text, "component", "kfake")
	default:
		s.l.Debug(text, "component", "kfake")
	}
}
