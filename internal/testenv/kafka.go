package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/marketinsightspro/marketinsights/internal/broker"
	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	"github.com/marketinsightspro/marketinsights/topics"
)

// KafkaBrokersVar names the environment variable that points the tests at a real Kafka cluster.
const KafkaBrokersVar = "MIP_TEST_KAFKA_BROKERS"

const (
	kafkaCheckTimeout  = 10 * time.Second
	kafkaCreateTimeout = 10 * time.Second
	maxTopicLen        = 249
)

// KafkaEnv is the Kafka of a test binary: the embedded broker or the cluster named by
// MIP_TEST_KAFKA_BROKERS. It is shared by every test of the binary; tests keep apart through
// per-test topic names.
type KafkaEnv struct {
	// Brokers are the bootstrap brokers.
	Brokers []string
	// External is true when the tests use the real cluster of MIP_TEST_KAFKA_BROKERS.
	External bool

	broker *broker.Broker

	mu     sync.Mutex
	tokens map[testing.TB]string
}

var (
	kafkaOnce sync.Once
	kafkaEnv  *KafkaEnv
	kafkaErr  error
)

// Kafka returns the Kafka of the test binary. By default that is an embedded kfake broker,
// started on the first call (on 127.0.0.1, a free port, a temporary data directory) and left
// running until the binary exits. When MIP_TEST_KAFKA_BROKERS is set, it is that cluster instead,
// checked once with a metadata request; a cluster that does not answer within 10 s fails the test
// with the command that starts the local one.
func Kafka(t testing.TB) *KafkaEnv {
	t.Helper()
	kafkaOnce.Do(func() { kafkaEnv, kafkaErr = startKafka() })
	if kafkaErr != nil {
		t.Fatalf("%v", kafkaErr)
	}
	return kafkaEnv
}

func startKafka() (*KafkaEnv, error) {
	if v := strings.TrimSpace(os.Getenv(KafkaBrokersVar)); v != "" {
		var brokers []string
		for _, b := range strings.Split(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				brokers = append(brokers, b)
			}
		}
		if err := checkKafka(brokers, kafkaCheckTimeout); err != nil {
			return nil, err
		}
		return &KafkaEnv{Brokers: brokers, External: true, tokens: map[testing.TB]string{}}, nil
	}
	pruneStaleDataDirs()
	dir, err := os.MkdirTemp("", dataDirPattern)
	if err != nil {
		return nil, fmt.Errorf("embedded Kafka broker: create data directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, fmt.Errorf("embedded Kafka broker: %w", err)
	}
	b, err := broker.Start(broker.Options{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		return nil, fmt.Errorf("start the embedded Kafka broker: %w", err)
	}
	return &KafkaEnv{Brokers: []string{b.Addr()}, broker: b, tokens: map[testing.TB]string{}}, nil
}

const (
	dataDirPattern = "mip-testenv-kafka-"
	ownerFile      = "testenv-owner.pid"
)

// pruneStaleDataDirs removes the data directories of embedded brokers whose test binaries have
// exited (the broker runs until its binary exits, so the binary cannot remove its own).
func pruneStaleDataDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dataDirPattern+"*"))
	for _, dir := range dirs {
		info, err := os.Stat(dir)
		if err != nil || !info.IsDir() || time.Since(info.ModTime()) < time.Minute {
			continue // possibly a binary starting right now
		}
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			if time.Since(info.ModTime()) > 24*time.Hour {
				_ = os.RemoveAll(dir) // no owner recorded: only when clearly abandoned
			}
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

// processAlive reports whether a process with the pid exists (signal 0 probes without signalling).
func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}

// checkKafka sends a metadata request to brokers and returns an error that names them and the
// command that starts the local cluster when no answer comes within timeout.
func checkKafka(brokers []string, timeout time.Duration) error {
	cfg := testKafkaConfig(brokers)
	cl, err := kafkaclient.New(cfg, nil, kgo.RetryTimeout(timeout))
	if err == nil {
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err = kadm.NewClient(cl).BrokerMetadata(ctx)
	}
	if err != nil {
		return fmt.Errorf("Kafka is not reachable at %s (%s): %v; start it with `deploy/local/services up kafka`, or unset %s to use the embedded broker",
			strings.Join(brokers, ","), KafkaBrokersVar, err, KafkaBrokersVar)
	}
	return nil
}

func testKafkaConfig(brokers []string) config.Kafka {
	return config.Kafka{
		Brokers:     slices.Clone(brokers),
		ClientID:    "testenv",
		DialTimeout: 5 * time.Second,
		Replication: -1,
	}
}

// Config returns a client configuration for the environment's brokers: client id "testenv",
// a 5 s dial timeout and replication -1 (the broker's default).
func (k *KafkaEnv) Config() config.Kafka { return testKafkaConfig(k.Brokers) }

// Client returns a client built by kafkaclient.New from Config, with opts applied last; it is
// closed when the test ends.
func (k *KafkaEnv) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kafkaclient.New(k.Config(), nil, opts...)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Admin returns an admin client over a new Client; it is closed when the test ends.
func (k *KafkaEnv) Admin(t testing.TB) *kadm.Client {
	t.Helper()
	return kadm.NewClient(k.Client(t))
}

// Broker returns the embedded broker (for fault injection through its Cluster), or nil when the
// tests use an external cluster.
func (k *KafkaEnv) Broker() *broker.Broker { return k.broker }

// token returns the test's topic suffix: its sanitized name and a random part. It is the same
// for every call within one test. On the first call a cleanup is registered that deletes every
// topic whose name contains the suffix (unless MIP_TEST_KEEP=1).
func (k *KafkaEnv) token(t testing.TB) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if tok, ok := k.tokens[t]; ok {
		return tok
	}
	// '-' rather than '_': Kafka rejects names that collide once '.' and '_' are equated.
	tok := shortTestName(t, '-') + "-" + randHex(4)
	k.tokens[t] = tok
	t.Cleanup(func() {
		k.mu.Lock()
		delete(k.tokens, t)
		k.mu.Unlock()
		k.deleteTopics(t, "."+tok)
	})
	return tok
}

// deleteTopics deletes the topics whose names contain mark (the test's token): the test's own
// topics end with it, and the table and loopback topics goka creates for a group named after one
// of them add "-table" or "-loop" after it. Failures are only logged.
func (k *KafkaEnv) deleteTopics(t testing.TB, mark string) {
	cl, err := kafkaclient.New(k.Config(), nil)
	if err != nil {
		t.Logf("testenv: delete topics *%s*: %v", mark, err)
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	all, err := adm.ListTopics(ctx)
	if err != nil {
		t.Logf("testenv: delete topics *%s*: list topics: %v", mark, err)
		return
	}
	var mine []string
	for _, name := range all.Names() {
		if strings.Contains(name, mark) {
			mine = append(mine, name)
		}
	}
	if len(mine) == 0 {
		return
	}
	if keep() {
		t.Logf("testenv: MIP_TEST_KEEP=1: keeping topics %s", strings.Join(mine, ", "))
		return
	}
	resp, err := adm.DeleteTopics(ctx, mine...)
	if err == nil {
		for _, r := range resp {
			if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
				err = errors.Join(err, fmt.Errorf("%s: %w", r.Topic, r.Err))
			}
		}
	}
	if err != nil {
		t.Logf("testenv: delete topics *%s*: %v", mark, err)
	}
}

// TopicName returns a topic name unique to the test: base, ".", the sanitized test name and a
// random suffix, e.g. "orders.testproduce-3f9a1c2e". The suffix is the same for every call within
// one test, so TopicName(t, x) is stable within a test and Catalog(t) uses the same names. Only
// valid topic characters ([a-zA-Z0-9._-]) are used, and base is shortened to fit 249 characters.
// Topics whose names contain the test's suffix (goka's table and loopback topics of a group
// named with TopicName too) are deleted when the test ends (unless MIP_TEST_KEEP=1).
func (k *KafkaEnv) TopicName(t testing.TB, base string) string {
	t.Helper()
	tok := k.token(t)
	b := []byte(base)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	if room := maxTopicLen - len(tok) - 1; len(b) > room {
		b = b[:room]
	}
	if len(b) == 0 {
		b = []byte("topic")
	}
	return string(b) + "." + tok
}

// Catalog returns a copy of topics.All() in which every Name is TopicName(t, Name), so a test can
// apply the whole catalog to a shared cluster without clashing with other tests. All other fields
// are kept (Group still names the catalog's goka group).
func (k *KafkaEnv) Catalog(t testing.TB) []topics.Topic {
	t.Helper()
	ts := topics.All()
	for i := range ts {
		ts[i].Name = k.TopicName(t, ts[i].Name)
	}
	return ts
}

// CreateTopic creates the topic with the given partitions and the broker's default replication,
// then waits (up to 10 s: Apache Kafka creates topics asynchronously) until its metadata shows
// every partition with a leader. A topic that already exists with that partition count is
// accepted.
func (k *KafkaEnv) CreateTopic(t testing.TB, name string, partitions int32) {
	t.Helper()
	cl, err := kafkaclient.New(k.Config(), nil)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	defer cl.Close()
	if err := createTopic(cl, name, partitions, kafkaCreateTimeout); err != nil {
		t.Fatalf("testenv: %v", err)
	}
}

func createTopic(cl *kgo.Client, name string, partitions int32, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, -1, nil, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s (%d partitions): %w", name, partitions, err)
	}
	var last string
	for {
		parts, err := topicPartitions(ctx, cl, name)
		switch {
		case err != nil:
			last = err.Error()
		case int32(len(parts)) > partitions:
			return fmt.Errorf("create topic %s: it exists with %d partitions, not %d", name, len(parts), partitions)
		case int32(len(parts)) < partitions:
			last = fmt.Sprintf("%d of %d partitions in metadata", len(parts), partitions)
		default:
			last = ""
			for _, p := range parts {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil || p.Leader < 0 {
					last = fmt.Sprintf("partition %d has no leader (%v)", p.Partition, err)
					break
				}
			}
			if last == "" {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("create topic %s (%d partitions): not ready after %v: %s", name, partitions, timeout, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// topicPartitions asks a broker for the topic's partitions with a plain metadata request.
// kadm's ListTopics is not used here: it answers from the client's metadata cache, which keeps a
// topic's answer (even "unknown topic") for kgo's MetadataMinAge (5 s), so polling it for a topic
// that Apache Kafka is still creating can wait 5 s for nothing.
func topicPartitions(ctx context.Context, cl *kgo.Client, name string) ([]kmsg.MetadataResponseTopicPartition, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(name)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	for _, t := range resp.Topics {
		if t.Topic != nil && *t.Topic == name {
			if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
				return nil, err
			}
			return t.Partitions, nil
		}
	}
	return nil, errors.New("not in the metadata response")
}
