package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	rproj "github.com/marketinsightspro/marketinsights/projections/redis"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// ErrNoGeneration is returned when Redis holds no read model yet (no current generation).
var ErrNoGeneration = errors.New("the Redis read model has no current generation yet")

// Store reads the Redis read model (docs/redis.md) under its current generation.
type Store struct {
	ks *rproj.Keyspace
}

// NewStore returns a store reading the key space ks.
func NewStore(ks *rproj.Keyspace) *Store { return &Store{ks: ks} }

func (s *Store) rdb() goredis.UniversalClient { return s.ks.Client() }

// Generation returns the current generation's prefix without creating one.
func (s *Store) Generation(ctx context.Context) (string, error) {
	gen, err := s.rdb().Get(ctx, s.ks.Prefix()+"current").Result()
	if errors.Is(err, goredis.Nil) {
		return "", ErrNoGeneration
	}
	if err != nil {
		return "", fmt.Errorf("read %scurrent: %w", s.ks.Prefix(), err)
	}
	return gen, nil
}

// Snapshot reads a keyword's rows and its five sorted sets in one pipeline; nil when the
// keyword has no rows.
func (s *Store) Snapshot(ctx context.Context, gen, keyword string) (*Snapshot, error) {
	pipe := s.rdb().Pipeline()
	rows := pipe.HGetAll(ctx, gen+rproj.KeywordKey(keyword, rproj.SuffixRows))
	var sets [5]*goredis.ZSliceCmd
	for i, k := range SortKeys {
		sets[i] = pipe.ZRangeWithScores(ctx, gen+rproj.KeywordKey(keyword, "by:"+k), 0, -1)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("read the report of keyword %q: %w", keyword, err)
	}
	if len(rows.Val()) == 0 {
		return nil, nil
	}
	var scored [5][]ScoredASIN
	for i, c := range sets {
		for _, z := range c.Val() {
			m, _ := z.Member.(string)
			scored[i] = append(scored[i], ScoredASIN{ASIN: m, Score: z.Score})
		}
	}
	return NewSnapshot(keyword, rows.Val(), scored), nil
}

// WindowSeries are the window series the keyword processor keeps, as keys name them.
var WindowSeries = []string{"tumbling:1m", "tumbling:1h", "tumbling:1d", "sliding:1h", "sliding:1d"}

// summarySeries are the series a keyword's summary takes its statistics from, first found wins.
var summarySeries = []string{"sliding:1h", "sliding:1d", "tumbling:1h", "tumbling:1d", "tumbling:1m"}

// Window is a keyword's current window of one series.
type Window struct {
	Series        string          `json:"series"`
	Start         time.Time       `json:"start"`
	End           time.Time       `json:"end"`
	Version       int64           `json:"version"`
	Final         bool            `json:"final"`
	PagesObserved int64           `json:"pages_observed"`
	Stats         json.RawMessage `json:"stats"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

// windowOf reads a window hash; nil when empty.
func windowOf(h map[string]string) *Window {
	if len(h) == 0 {
		return nil
	}
	i64 := func(k string) int64 { n, _ := strconv.ParseInt(h[k], 10, 64); return n }
	w := &Window{Series: h["series"], Start: msTime(i64("start_ms")), End: msTime(i64("end_ms")), Version: i64("version"),
		Final: h["final"] == "1", PagesObserved: i64("pages_observed"), UpdatedAt: msTime(i64("updated_at"))}
	if json.Valid([]byte(h["stats"])) && strings.HasPrefix(h["stats"], "{") {
		w.Stats = json.RawMessage(h["stats"])
	} else {
		w.Stats = json.RawMessage("{}")
	}
	return w
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Windows reads a keyword's current windows of the given series (absent ones left out).
func (s *Store) Windows(ctx context.Context, gen, keyword string, series []string) ([]Window, error) {
	pipe := s.rdb().Pipeline()
	cmds := make([]*goredis.MapStringStringCmd, len(series))
	for i, se := range series {
		cmds[i] = pipe.HGetAll(ctx, gen+rproj.KeywordKey(keyword, "win:"+se))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("read the windows of keyword %q: %w", keyword, err)
	}
	out := []Window{}
	for _, c := range cmds {
		if w := windowOf(c.Val()); w != nil {
			out = append(out, *w)
		}
	}
	return out, nil
}

// KeywordSummary is a tracked keyword with its latest statistics.
type KeywordSummary struct {
	Keyword   string    `json:"keyword"`
	Products  int64     `json:"products"`
	UpdatedAt time.Time `json:"updated_at"`
	Window    *Window   `json:"window,omitempty"`
}

// Keywords lists the keywords that have report rows (SCAN of k:*:rows), with their product
// counts and the first current window of summarySeries.
func (s *Store) Keywords(ctx context.Context, gen string) ([]KeywordSummary, error) {
	pattern := globEscape(gen) + "k:*:" + rproj.SuffixRows
	var kws []string
	var cursor uint64
	for {
		keys, next, err := s.rdb().Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", pattern, err)
		}
		for _, k := range keys {
			esc := strings.TrimSuffix(strings.TrimPrefix(k, gen+"k:"), ":"+rproj.SuffixRows)
			if kw := unescapeKeyPart(esc); !slices.Contains(kws, kw) {
				kws = append(kws, kw)
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	slices.Sort(kws)
	pipe := s.rdb().Pipeline()
	counts := make([]*goredis.IntCmd, len(kws))
	last := make([]*goredis.ZSliceCmd, len(kws))
	wins := make([][]*goredis.MapStringStringCmd, len(kws))
	for i, kw := range kws {
		counts[i] = pipe.HLen(ctx, gen+rproj.KeywordKey(kw, rproj.SuffixRows))
		last[i] = pipe.ZRevRangeWithScores(ctx, gen+rproj.KeywordKey(kw, rproj.SuffixLast), 0, 0)
		for _, se := range summarySeries {
			wins[i] = append(wins[i], pipe.HGetAll(ctx, gen+rproj.KeywordKey(kw, "win:"+se)))
		}
	}
	if len(kws) > 0 {
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
			return nil, fmt.Errorf("read %d keywords: %w", len(kws), err)
		}
	}
	out := make([]KeywordSummary, 0, len(kws))
	for i, kw := range kws {
		ks := KeywordSummary{Keyword: kw, Products: counts[i].Val()}
		if z := last[i].Val(); len(z) > 0 {
			ks.UpdatedAt = msTime(int64(z[0].Score))
		}
		for _, c := range wins[i] {
			if w := windowOf(c.Val()); w != nil {
				ks.Window = w
				break
			}
		}
		out = append(out, ks)
	}
	return out, nil
}

// Product reads a product's hash; nil when absent.
func (s *Store) Product(ctx context.Context, gen, asin string) (map[string]string, error) {
	h, err := s.rdb().HGetAll(ctx, gen+rproj.ProductKey(asin)).Result()
	if err != nil {
		return nil, fmt.Errorf("read product %s: %w", asin, err)
	}
	if len(h) == 0 {
		return nil, nil
	}
	return h, nil
}

// Anomaly is a detected anomaly as the API shows it.
type Anomaly struct {
	ID          string    `json:"id"`
	Time        time.Time `json:"time"`
	ASIN        string    `json:"asin"`
	Keyword     string    `json:"keyword,omitempty"`
	Kind        string    `json:"kind"`
	Severity    string    `json:"severity"`
	Score       float64   `json:"score"`
	Observed    float64   `json:"observed"`
	UsualLow    *float64  `json:"usual_low,omitempty"`
	UsualHigh   *float64  `json:"usual_high,omitempty"`
	Explanation string    `json:"explanation"`
	Title       string    `json:"title,omitempty"`
	Currency    string    `json:"currency,omitempty"`
}

// AnomalyKinds and Severities are the values the anomaly feed filters accept.
var (
	AnomalyKinds = enumNames(marketv1.AnomalyKind(0).Descriptor().Values(), "ANOMALY_KIND_")
	Severities   = enumNames(marketv1.Severity(0).Descriptor().Values(), "SEVERITY_")
)

// anomalyOf converts the feed's JSON (AnomalyDetected, proto field names) to an Anomaly.
func anomalyOf(raw string) (Anomaly, bool) {
	var ev marketv1.AnomalyDetected
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal([]byte(raw), &ev); err != nil || ev.GetAnomalyId() == "" {
		return Anomaly{}, false
	}
	a := Anomaly{ID: ev.GetAnomalyId(), Time: ev.GetEnvelope().GetEventTime().AsTime().UTC(), ASIN: ev.GetAsin(), Keyword: ev.GetKeyword(),
		Kind: enumName(ev.GetKind().String(), "ANOMALY_KIND_"), Severity: enumName(ev.GetSeverity().String(), "SEVERITY_"),
		Score: ev.GetScore(), Observed: ev.GetObserved(), Explanation: ev.GetExplanation(), Title: ev.GetTitle(), Currency: ev.GetCurrency()}
	if b := ev.GetBaseline(); b != nil && b.GetPoints() > 0 {
		lo, hi := b.GetCenter()-3*b.GetSpread(), b.GetCenter()+3*b.GetSpread()
		a.UsualLow, a.UsualHigh = &lo, &hi
	}
	return a, true
}

// Anomalies reads the latest n anomalies of the global feed, or of a keyword's feed, newest first.
func (s *Store) Anomalies(ctx context.Context, gen, keyword string, n int64) ([]Anomaly, error) {
	feed, data := gen+rproj.AnomalyFeedKey, gen+rproj.AnomalyDataKey
	if keyword != "" {
		feed, data = gen+rproj.KeywordKey(keyword, rproj.SuffixAnomalyFeed), gen+rproj.KeywordKey(keyword, rproj.SuffixAnomalyData)
	}
	ids, err := s.rdb().ZRevRange(ctx, feed, 0, n-1).Result()
	if err != nil {
		return nil, fmt.Errorf("read anomaly feed %s: %w", feed, err)
	}
	out := []Anomaly{}
	if len(ids) == 0 {
		return out, nil
	}
	vals, err := s.rdb().HMGet(ctx, data, ids...).Result()
	if err != nil {
		return nil, fmt.Errorf("read %d anomalies of %s: %w", len(ids), data, err)
	}
	for _, v := range vals {
		if str, ok := v.(string); ok {
			if a, ok := anomalyOf(str); ok {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// enumNames lists an enum's value names in lower case without prefix, leaving out UNSPECIFIED.
func enumNames(vals protoreflect.EnumValueDescriptors, prefix string) []string {
	var out []string
	for i := 0; i < vals.Len(); i++ {
		if n := enumName(string(vals.Get(i).Name()), prefix); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// enumName is an enum value's name in lower case without its prefix; "" for UNSPECIFIED.
func enumName(name, prefix string) string {
	n := strings.ToLower(strings.TrimPrefix(name, prefix))
	if n == "unspecified" {
		return ""
	}
	return n
}

// unescapeKeyPart reverses rproj.EscapeKeyPart.
func unescapeKeyPart(s string) string {
	return strings.NewReplacer("%3A", ":", "%25", "%").Replace(s)
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

// Subscriptions reads a user's subscriptions (u:<user>:subs, docs/redis.md), newest change first.
func (s *Store) Subscriptions(ctx context.Context, gen, user string) ([]rproj.SubscriptionRow, error) {
	key := gen + rproj.UserSubscriptionsKey(user)
	h, err := s.rdb().HGetAll(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("read the subscriptions of user %q: %w", user, err)
	}
	out := make([]rproj.SubscriptionRow, 0, len(h))
	for id, raw := range h {
		var row rproj.SubscriptionRow
		if err := json.Unmarshal([]byte(raw), &row); err != nil {
			return nil, fmt.Errorf("subscription %s in %s: %w", id, key, err)
		}
		if row.Kinds == nil {
			row.Kinds = []string{}
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b rproj.SubscriptionRow) int {
		return cmp.Or(cmp.Compare(b.Time, a.Time), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}
