package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
)

// privateRedis is a redis-server of one test, which the test may kill and restart (the shared
// one must not be stopped). It keeps its data in an append-only file synced on every write, so a
// restart after SIGKILL finds what was acknowledged: without persistence every key would be gone
// and only a replay could bring them back, which is not the fault under test.
type privateRedis struct {
	addr string
	dir  string
	cmd  *exec.Cmd
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (%v): install Debian's redis-server (`deploy/local/services up redis` does)", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	p := &privateRedis{addr: addr, dir: t.TempDir()}
	p.start(t, bin)
	t.Cleanup(p.kill)
	return p
}

func (p *privateRedis) start(t *testing.T, bin string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(p.addr)
	p.cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
		"--appendfsync", "always", "--dir", p.dir, "--daemonize", "no", "--protected-mode", "no",
		"--logfile", filepath.Join(p.dir, "redis.log"))
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start redis-server on %s: %v", p.addr, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(p.dir, "redis.log"))
			t.Fatalf("redis-server on %s did not come up: %v\n%s", p.addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *privateRedis) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		p.cmd = nil
	}
}

// TestRedisDownWhileEventsFlow kills Redis while events flow, restarts it a few seconds later and
// checks that the projection ends equal to writing every event once, and that no change was
// published twice.
// redisOutage is how long Redis is down while events flow.
const redisOutage = 30 * time.Second

func TestRedisDownWhileEventsFlow(t *testing.T) {
	var events []proto.Message
	for i := range 200 {
		at := time.Duration(i) * time.Second
		events = append(events, anomalyOf(i+1, fmt.Sprintf("an-%03d", i), fmt.Sprintf("kw %d", i%3), at))
		events = append(events, productChange(1000+i, fmt.Sprintf("B%03d", i%20), int64(i/20+1), at, bottle()))
	}
	ref := newRig(t, Options{})
	ref.write(t, events...)
	want := ref.checksum(t)

	priv := startPrivateRedis(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: priv.addr, DisableIdentity: true,
		DialTimeout: 500 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { rdb.Close() })
	ks := NewKeyspace(rdb, "mip:")
	msgs := subscribe(t, rdb, ks.Channel())
	kr := newKafkaRig(t)
	run := kr.start(t, ks, Options{}, "fault")

	kr.produce(t, events[:100]...)
	waitFor(t, 30*time.Second, "the first 100 events to be written", func() bool { return run.written() == 100 })
	before := msgs.drain(t)

	priv.kill()
	// Redis stays down for redisOutage while events keep flowing; the projectors retry with
	// backoff, fetching paused.
	for i, step := 100, 20; i < 300; i += step { // ten steps
		kr.produce(t, events[i:min(i+step, 300)]...)
		time.Sleep(redisOutage / 10)
	}
	bin, _ := exec.LookPath("redis-server")
	priv.start(t, bin)
	kr.produce(t, events[300:]...)

	gen := "mip:g1:"
	waitFor(t, 60*time.Second, "every event to be projected after the restart", func() bool {
		sum, _, err := Checksum(context.Background(), rdb, gen)
		return err == nil && sum == want
	})
	if n, err := rdb.ZCard(context.Background(), gen+AnomalyFeedKey).Result(); err != nil || n != 200 {
		t.Errorf("anomaly feed holds %d of 200 (%v)", n, err)
	}
	if run.written() < int64(len(events)) {
		t.Errorf("written %d rows for %d events", run.written(), len(events))
	}

	// No change published twice: messages sent before the kill and after the restart are all
	// distinct (those published while the subscriber was reconnecting are lost, as pub/sub does).
	seen := map[string]bool{}
	for _, m := range append(before, msgs.drain(t)...) {
		var c Change
		if err := json.Unmarshal([]byte(m), &c); err != nil {
			t.Fatalf("message %q: %v", m, err)
		}
		id := c.Kind + "/" + c.ID + "/" + c.ASIN + "/" + strconv.FormatInt(c.Version, 10)
		if seen[id] {
			t.Errorf("change published twice: %s", m)
		}
		seen[id] = true
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct changes published", len(seen))
	}
}
