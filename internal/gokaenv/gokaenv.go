// Package gokaenv builds goka's processors, views and emitters from the configuration with
// explicit builders (never goka's global config): sarama speaking Kafka 3.6, acks from all
// in-sync replicas, streams read from the oldest offset, tables created with the configured
// replication, and persistent LevelDB storage under the data directory.
package gokaenv

import (
	"fmt"
	"hash"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
	"github.com/syndtr/goleveldb/leveldb/opt"

	"github.com/marketinsightspro/marketinsights/internal/config"
)

// Env holds what every goka component of a process shares.
type Env struct {
	// Brokers are the bootstrap brokers.
	Brokers []string
	// ClientID prefixes the client ids of the components.
	ClientID string
	// Replication is the replication factor of topics goka creates (-1: broker default).
	Replication int16
	// StorageDir holds each group's local table storage; empty keeps tables in memory.
	StorageDir string
	// BlockCacheMB and WriteBufferMB size the LevelDB store of each table partition: its block
	// cache and its memtable (of which it holds up to two while one is flushed), in MiB; zero
	// keeps LevelDB's defaults (8 and 4). A process's storage memory is about the number of
	// table partitions it opens (its groups' and views') times BlockCacheMB + 2 x WriteBufferMB.
	BlockCacheMB, WriteBufferMB int
	// Logger receives goka's and sarama's messages.
	Logger *slog.Logger
}

// FromConfig returns the goka environment of a process.
func FromConfig(cfg *config.Config, log *slog.Logger) Env {
	return Env{
		Brokers:     cfg.Kafka.BootstrapBrokers(),
		ClientID:    cfg.Kafka.ClientID,
		Replication: cfg.Kafka.Replication,
		StorageDir:  filepath.Join(cfg.DataDir, "goka"),
		Logger:      log,
	}
}

// SaramaConfig returns a new sarama configuration with the settings every component shares.
func SaramaConfig(clientID string) *sarama.Config {
	c := goka.DefaultConfig()
	c.Version = sarama.V3_6_0_0
	c.ClientID = clientID
	c.Consumer.Offsets.Initial = sarama.OffsetOldest // a new group processes the whole history
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Compression = sarama.CompressionLZ4
	c.Producer.Retry.Backoff = 250 * time.Millisecond
	c.Metadata.Retry.Backoff = 250 * time.Millisecond
	return c
}

func (e Env) topicManagerConfig() *goka.TopicManagerConfig {
	tm := goka.NewTopicManagerConfig()
	repl := int(e.Replication)
	if repl < 1 {
		repl = 1 // goka cannot ask for the broker's default; one replica suits the embedded broker
	}
	tm.Table.Replication = repl
	tm.Stream.Replication = repl
	tm.Stream.Retention = 24 * time.Hour
	tm.MismatchBehavior = goka.TMConfigMismatchBehaviorFail
	return tm
}

func (e Env) log() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

func (e Env) producerBuilder() goka.ProducerBuilder {
	return func(brokers []string, clientID string, hasher func() hash.Hash32) (goka.Producer, error) {
		c := SaramaConfig(clientID)
		c.Producer.Partitioner = sarama.NewCustomHashPartitioner(hasher)
		return goka.NewProducer(brokers, c)
	}
}

func (e Env) consumerGroupBuilder() goka.ConsumerGroupBuilder {
	return func(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
		return sarama.NewConsumerGroup(brokers, group, SaramaConfig(clientID))
	}
}

func (e Env) saramaConsumerBuilder() goka.SaramaConsumerBuilder {
	return func(brokers []string, clientID string) (sarama.Consumer, error) {
		return sarama.NewConsumer(brokers, SaramaConfig(clientID))
	}
}

func (e Env) topicManagerBuilder() goka.TopicManagerBuilder {
	return func(brokers []string) (goka.TopicManager, error) {
		return goka.NewTopicManager(brokers, SaramaConfig(e.ClientID+"-topic-manager"), e.topicManagerConfig())
	}
}

// StorageBuilder returns LevelDB storage under StorageDir/<name>, or memory when StorageDir is empty.
func (e Env) StorageBuilder(name string) storage.Builder {
	if e.StorageDir == "" {
		return storage.MemoryBuilder()
	}
	return storage.BuilderWithOptions(filepath.Join(e.StorageDir, name), e.levelDBOptions())
}

// levelDBOptions returns the options of a table partition's LevelDB store.
func (e Env) levelDBOptions() *opt.Options {
	return &opt.Options{BlockCacheCapacity: e.BlockCacheMB << 20, WriteBuffer: e.WriteBufferMB << 20}
}

// ProcessorOptions returns the options of a processor of group; extra options come last, so a
// test can pass goka.WithTester.
func (e Env) ProcessorOptions(group goka.Group, extra ...goka.ProcessorOption) []goka.ProcessorOption {
	opts := []goka.ProcessorOption{
		goka.WithClientID(fmt.Sprintf("%s-%s", e.ClientID, group)),
		goka.WithProducerBuilder(e.producerBuilder()),
		goka.WithConsumerGroupBuilder(e.consumerGroupBuilder()),
		goka.WithConsumerSaramaBuilder(e.saramaConsumerBuilder()),
		goka.WithTopicManagerBuilder(e.topicManagerBuilder()),
		goka.WithStorageBuilder(e.StorageBuilder(string(group))),
		goka.WithHasher(KafkaHasher),
		goka.WithLogger(gokaLogger{e.log().With("component", "goka", "group", string(group))}),
	}
	return append(opts, extra...)
}

// ViewOptions returns the options of a view of a table; extra options come last.
func (e Env) ViewOptions(name string, extra ...goka.ViewOption) []goka.ViewOption {
	opts := []goka.ViewOption{
		goka.WithViewClientID(fmt.Sprintf("%s-view-%s", e.ClientID, name)),
		goka.WithViewConsumerSaramaBuilder(e.saramaConsumerBuilder()),
		goka.WithViewTopicManagerBuilder(e.topicManagerBuilder()),
		goka.WithViewStorageBuilder(e.StorageBuilder("view-" + name)),
		goka.WithViewHasher(KafkaHasher),
		goka.WithViewLogger(gokaLogger{e.log().With("component", "goka-view", "view", name)}),
	}
	return append(opts, extra...)
}

// EmitterOptions returns the options of an emitter; extra options come last.
func (e Env) EmitterOptions(extra ...goka.EmitterOption) []goka.EmitterOption {
	opts := []goka.EmitterOption{
		goka.WithEmitterClientID(e.ClientID + "-emitter"),
		goka.WithEmitterProducerBuilder(e.producerBuilder()),
		goka.WithEmitterHasher(KafkaHasher),
		goka.WithEmitterTopicManagerBuilder(e.topicManagerBuilder()),
		goka.WithEmitterLogger(gokaLogger{e.log().With("component", "goka-emitter")}),
	}
	return append(opts, extra...)
}

// gokaLogger sends goka's printf-style messages to slog at debug level (goka logs every
// rebalance and recovery step at its only level).
type gokaLogger struct{ l *slog.Logger }

func (g gokaLogger) Print(v ...any)                 { g.l.Debug(fmt.Sprint(v...)) }
func (g gokaLogger) Println(v ...any)               { g.l.Debug(fmt.Sprint(v...)) }
func (g gokaLogger) Printf(format string, v ...any) { g.l.Debug(fmt.Sprintf(format, v...)) }
