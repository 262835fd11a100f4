package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/topics"
)

var validTopic = regexp.MustCompile(`^[a-zA-Z0-9._-]{1,249}$`)

func TestKafkaRoundTrip(t *testing.T) {
	k := Kafka(t)
	if k.External == (k.Broker() != nil) {
		t.Fatalf("External=%v but Broker()=%v", k.External, k.Broker())
	}
	if again := Kafka(t); again != k {
		t.Fatal("Kafka(t) returned a second environment")
	}
	topic := k.TopicName(t, "roundtrip")
	start := time.Now()
	k.CreateTopic(t, topic, 3)
	t.Logf("brokers %v (external %v): created %s in %v", k.Brokers, k.External, topic, time.Since(start))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prod := k.Client(t, kgo.DefaultProduceTopic(topic))
	rec := &kgo.Record{Key: []byte("k1"), Value: []byte("hello " + topic)}
	if err := prod.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	cons := k.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("no record after 30 s: %v", err)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Logf("fetch %s/%d: %v", tp, p, err) })
		var got *kgo.Record
		fs.EachRecord(func(r *kgo.Record) { got = r })
		if got != nil {
			if string(got.Key) != "k1" || string(got.Value) != string(rec.Value) || got.Partition != rec.Partition {
				t.Fatalf("got %q=%q on partition %d, want %q=%q on %d", got.Key, got.Value, got.Partition, rec.Key, rec.Value, rec.Partition)
			}
			return
		}
	}
}

func TestKafkaTopicName(t *testing.T) {
	k := Kafka(t)
	var names []string
	for _, sub := range []string{"a", "a", "Odd name/with:chars"} {
		t.Run(sub, func(t *testing.T) {
			n := k.TopicName(t, "market.orders.v1")
			if again := k.TopicName(t, "market.orders.v1"); again != n {
				t.Errorf("TopicName not stable within a test: %s then %s", n, again)
			}
			if !validTopic.MatchString(n) || !strings.HasPrefix(n, "market.orders.v1.") || strings.Contains(n, "_") {
				t.Errorf("bad topic name %q", n)
			}
			long := k.TopicName(t, strings.Repeat("x", 300)+"/é")
			if !validTopic.MatchString(long) {
				t.Errorf("bad long topic name %q (%d chars)", long, len(long))
			}
			names = append(names, n)
		})
	}
	if names[0] == names[1] || names[1] == names[2] || names[0] == names[2] {
		t.Errorf("names are not unique per test: %v", names)
	}
	t.Logf("names: %v", names)
}

func TestKafkaCatalog(t *testing.T) {
	k := Kafka(t)
	all := topics.All()
	var first []topics.Topic
	t.Run("one", func(t *testing.T) {
		cat := k.Catalog(t)
		first = cat
		if len(cat) != len(all) {
			t.Fatalf("%d topics, want %d", len(cat), len(all))
		}
		seen := map[string]bool{}
		for i, tp := range cat {
			if !validTopic.MatchString(tp.Name) {
				t.Errorf("invalid topic name %q", tp.Name)
			}
			if !strings.HasPrefix(tp.Name, all[i].Name+".") {
				t.Errorf("%q does not start with the catalog name %q", tp.Name, all[i].Name)
			}
			if tp.Name != k.TopicName(t, all[i].Name) {
				t.Errorf("Catalog name %q differs from TopicName %q", tp.Name, k.TopicName(t, all[i].Name))
			}
			if seen[tp.Name] {
				t.Errorf("duplicate name %q", tp.Name)
			}
			seen[tp.Name] = true
			if tp.Partitions != all[i].Partitions || tp.Kind != all[i].Kind || tp.Cleanup != all[i].Cleanup ||
				tp.Retention != all[i].Retention || tp.Group != all[i].Group {
				t.Errorf("%s: fields changed: %+v vs %+v", tp.Name, tp, all[i])
			}
		}
		if all2 := topics.All(); all2[0].Name != all[0].Name {
			t.Errorf("Catalog changed the package catalog: %q", all2[0].Name)
		}
	})
	t.Run("two", func(t *testing.T) {
		cat := k.Catalog(t)
		for i := range cat {
			if cat[i].Name == first[i].Name {
				t.Errorf("two tests share the name %q", cat[i].Name)
			}
		}
	})
}

func TestKafkaCatalogApply(t *testing.T) {
	k := Kafka(t)
	adm := k.Admin(t)
	cat := k.Catalog(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i, want := range []topics.Action{topics.ActionCreated, topics.ActionUnchanged} {
		start := time.Now()
		res, err := topics.Apply(ctx, adm, cat, topics.ApplyOptions{Replication: k.Config().Replication})
		if err != nil {
			t.Fatalf("apply #%d: %v", i+1, err)
		}
		t.Logf("apply #%d: %d topics in %v", i+1, len(res), time.Since(start))
		if len(res) != len(cat) {
			t.Fatalf("apply #%d: %d results, want %d", i+1, len(res), len(cat))
		}
		for j, r := range res {
			if r.Topic != cat[j].Name || r.Action != want {
				t.Errorf("apply #%d: %s: %s %v, want %s", i+1, r.Topic, r.Action, r.Drift, want)
			}
		}
	}
}

func TestKafkaTopicCleanup(t *testing.T) {
	k := Kafka(t)
	var made []string
	t.Run("make", func(t *testing.T) {
		a, b := k.TopicName(t, "cleanup-a"), k.TopicName(t, "cleanup-b")
		k.CreateTopic(t, a, 1)
		k.CreateTopic(t, b, 2)
		k.CreateTopic(t, b, 2) // again: an existing topic with the same partitions is fine
		table := a + "-table"  // what goka creates for a group named a
		k.CreateTopic(t, table, 1)
		made = []string{a, b, table}
	})
	if keep() {
		t.Logf("MIP_TEST_KEEP=1: topics %v are kept", made)
		return
	}
	cl := k.Client(t)
	deadline := time.Now().Add(15 * time.Second) // Apache Kafka deletes asynchronously
	for {
		var left []string
		for _, n := range made {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := topicPartitions(ctx, cl, n)
			cancel()
			if !errors.Is(err, kerr.UnknownTopicOrPartition) {
				left = append(left, fmt.Sprintf("%s (%v)", n, err))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("topics %v still exist after the test's cleanup", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestClickHouse(t *testing.T) {
	var db string
	t.Run("replacing", func(t *testing.T) {
		ch := ClickHouse(t)
		db = ch.Database
		if !regexp.MustCompile(`^test_[a-z0-9_]+_[0-9a-f]{8}$`).MatchString(db) {
			t.Errorf("database name %q", db)
		}
		ch.Exec(t, `CREATE TABLE products (
			asin String,
			title String,
			price_cents UInt64,
			seen DateTime,
			version UInt64
		) ENGINE = ReplacingMergeTree(version) ORDER BY asin`)

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		const n = 500
		seen := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		for version := uint64(1); version <= 2; version++ {
			// Unqualified name: Conn's default database is the test's.
			batch, err := ch.Conn.PrepareBatch(ctx, "INSERT INTO products (asin, title, price_cents, seen, version)")
			if err != nil {
				t.Fatalf("prepare batch: %v", err)
			}
			for i := range n {
				if err := batch.Append(fmt.Sprintf("B%05d", i), fmt.Sprintf("title v%d", version), uint64(i)*version, seen, version); err != nil {
					t.Fatalf("append: %v", err)
				}
			}
			if err := batch.Send(); err != nil {
				t.Fatalf("send batch v%d: %v", version, err)
			}
		}
		var logical, physical uint64
		if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM products FINAL").Scan(&logical); err != nil {
			t.Fatalf("count FINAL: %v", err)
		}
		if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM "+db+".products").Scan(&physical); err != nil {
			t.Fatalf("count: %v", err)
		}
		if logical != n {
			t.Errorf("count() FINAL = %d, want %d (physical rows %d)", logical, n, physical)
		}
		t.Logf("logical rows %d, physical rows %d", logical, physical)

		var title string
		var price uint64
		var gotSeen time.Time
		err := ch.Conn.QueryRow(ctx, "SELECT title, price_cents, seen FROM products FINAL WHERE asin = ?", "B00007").
			Scan(&title, &price, &gotSeen)
		if err != nil {
			t.Fatalf("select: %v", err)
		}
		if title != "title v2" || price != 14 || !gotSeen.Equal(seen) {
			t.Errorf("got %q %d %v, want the version-2 row", title, price, gotSeen)
		}
		// Exec of INSERT ... VALUES goes through a batch (a plain Exec hangs against 18.16).
		ch.Exec(t, "INSERT INTO products (asin, title, price_cents, seen, version) VALUES (?, ?, ?, ?, ?)", "X1", "exec", uint64(1), seen, uint64(1))
		ch.Exec(t, "insert into products (asin, title, price_cents, seen, version)\n values (?,?,?,?,?), (?, ?, ?, ?, ?)",
			"X2", "exec", uint64(2), seen, uint64(1), "X3", "exec", uint64(3), seen, uint64(1))
		ch.Exec(t, "INSERT INTO products (asin, title, price_cents, seen, version) SELECT concat('S', toString(number)), 'select', number, toDateTime(?), 1 FROM system.numbers LIMIT 4",
			"2026-01-02 03:04:05")
		var execRows uint64
		if err := ch.Conn.QueryRow(ctx, "SELECT count() FROM products FINAL WHERE title IN ('exec', 'select')").Scan(&execRows); err != nil {
			t.Fatal(err)
		}
		if execRows != 7 {
			t.Errorf("Exec inserted %d rows, want 7", execRows)
		}
		for _, bad := range []string{
			"INSERT INTO products (asin) VALUES ('literal')",
			"INSERT INTO products VALUES (?)",
		} {
			m := insertValues.FindStringSubmatch(bad)
			if m == nil {
				t.Fatalf("%s: not recognised as INSERT ... VALUES", bad)
			}
			err := ch.insertRows(ctx, bad, m[1] != "", m[2], []any{"x"})
			if err == nil || !strings.Contains(err.Error(), "PrepareBatch") {
				t.Errorf("%s: error %v, want one that points to PrepareBatch", bad, err)
			}
		}
		if !databaseExists(t, ch.Addr, db) {
			t.Fatalf("database %s does not exist during the test", db)
		}
	})
	if db == "" {
		t.Fatal("subtest did not run")
	}
	if keep() {
		t.Logf("MIP_TEST_KEEP=1: database %s is kept", db)
		return
	}
	if databaseExists(t, envAddr("127.0.0.1:19000", "MIP_TEST_CLICKHOUSE_ADDR", "MIP_CLICKHOUSE_ADDR"), db) {
		t.Errorf("database %s still exists after the test's cleanup", db)
	}
}

func databaseExists(t *testing.T, addr, db string) bool {
	t.Helper()
	conn, err := connectClickHouse(addr, "default")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.databases WHERE name = ?", db).Scan(&n); err != nil {
		t.Fatalf("query system.databases: %v", err)
	}
	return n > 0
}

func TestRedis(t *testing.T) {
	var prefix string
	addr := envAddr("127.0.0.1:16379", "MIP_TEST_REDIS_ADDR", "MIP_REDIS_ADDR")
	other := "testenv-control:" + randHex(4)
	t.Run("keys", func(t *testing.T) {
		r := Redis(t)
		prefix = r.Prefix
		if !regexp.MustCompile(`^test:[a-z0-9-]+:[0-9a-f]{8}:$`).MatchString(prefix) {
			t.Errorf("prefix %q", prefix)
		}
		if got, want := r.Key("a", "b"), prefix+"a:b"; got != want {
			t.Errorf("Key = %q, want %q", got, want)
		}
		ctx := context.Background()
		pipe := r.Client.Pipeline()
		for i := range 2500 { // more than one SCAN page
			pipe.Set(ctx, r.Key("k", fmt.Sprint(i)), i, 0)
		}
		pipe.HSet(ctx, r.Key("hash"), "f", "v")
		pipe.ZAdd(ctx, r.Key("zset"), redis.Z{Score: 1, Member: "m"})
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("write keys: %v", err)
		}
		if err := r.Client.Set(ctx, other, "stays", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		if n := countKeys(t, addr, prefix); n != 2502 {
			t.Fatalf("%d keys under %s, want 2502", n, prefix)
		}
	})
	if keep() {
		t.Logf("MIP_TEST_KEEP=1: keys %s* are kept", prefix)
	} else if n := countKeys(t, addr, prefix); n != 0 {
		t.Errorf("%d keys under %s remain after cleanup", n, prefix)
	}
	cl, err := connectRedis(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if v, err := cl.GetDel(context.Background(), other).Result(); err != nil || v != "stays" {
		t.Errorf("key outside the prefix: %q, %v", v, err)
	}
}

func countKeys(t *testing.T, addr, prefix string) int {
	t.Helper()
	cl, err := connectRedis(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	n := 0
	iter := cl.Scan(context.Background(), 0, globEscape(prefix)+"*", 1000).Iterator()
	for iter.Next(context.Background()) {
		n++
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUnreachable checks the failure messages for a service that is not running: they name the
// address and the command that starts the service.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	start := time.Now()
	_, chErr := connectClickHouse(addr, "default")
	_, redisErr := connectRedis(addr)
	kafkaErr := checkKafka([]string{addr}, 2*time.Second)
	t.Logf("three failures in %v", time.Since(start))
	for _, c := range []struct {
		err  error
		want []string
	}{
		{chErr, []string{"ClickHouse is not reachable at " + addr, "`deploy/local/services up clickhouse`"}},
		{redisErr, []string{"Redis is not reachable at " + addr, "`deploy/local/services up redis`"}},
		{kafkaErr, []string{"Kafka is not reachable at " + addr, "`deploy/local/services up kafka`", KafkaBrokersVar}},
	} {
		if c.err == nil {
			t.Errorf("no error from %s, want %q", addr, c.want[0])
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(c.err.Error(), w) {
				t.Errorf("error %q does not contain %q", c.err, w)
			}
		}
		t.Logf("message: %v", c.err)
	}
}

func TestSanitize(t *testing.T) {
	for _, c := range []struct {
		in   string
		sep  byte
		want string
	}{
		{"TestFoo/sub_test#01", '_', "testfoo_sub_test_01"},
		{"TestFoo/sub_test#01", '-', "testfoo-sub-test-01"},
		{"///", '-', "t"},
		{strings.Repeat("ab/", 30), '-', "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-ab-a"},
	} {
		if got := sanitize(c.in, c.sep, 40); got != c.want {
			t.Errorf("sanitize(%q, %q) = %q, want %q", c.in, c.sep, got, c.want)
		}
	}
}
