package clickhouse

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Table is one projected table: the topic it is fed from, its columns in insert order, and how
// one event becomes rows (values in column order, Nullable columns as pointers).
type Table struct {
	// Name is the table's name.
	Name string
	// Topic is the catalog topic the table is projected from.
	Topic string
	// Columns are the inserted columns, in the order of each row's values.
	Columns []string
	// Rows returns the rows of one event; ingested is the projection time (column ingested_at).
	Rows func(ev proto.Message, ingested time.Time) ([][]any, error)
}

// IngestedColumn is the column every table has that differs between a live and a replayed
// projection of the same events; content comparisons leave it out.
const IngestedColumn = "ingested_at"

// Tables returns every projected table.
func Tables() []Table {
	return []Table{
		{Name: "observations", Topic: topics.ProductObservations, Columns: observationColumns, Rows: observationRows},
		{Name: "search_results", Topic: topics.SearchResults, Columns: searchColumns, Rows: searchRows},
		{Name: "product_latest", Topic: topics.ProductChanges, Columns: productLatestColumns, Rows: productLatestRows},
		{Name: "product_changes", Topic: topics.ProductChanges, Columns: productChangeColumns, Rows: productChangeRows},
		{Name: "keyword_windows", Topic: topics.KeywordWindows, Columns: windowColumns, Rows: windowRows},
		{Name: "anomalies", Topic: topics.Anomalies, Columns: anomalyColumns, Rows: anomalyRows},
		{Name: "notification_deliveries", Topic: topics.NotificationDeliveries, Columns: deliveryColumns, Rows: deliveryRows},
		{Name: "scrape_jobs", Topic: topics.ScrapeStatus, Columns: scrapeColumns, Rows: scrapeRows},
		{Name: "analyses", Topic: topics.AnalysisEvents, Columns: analysisColumns, Rows: analysisRows},
		{Name: "user_actions", Topic: topics.UserActions, Columns: userActionColumns, Rows: userActionRows},
	}
}

// LookupTable returns the table named name.
func LookupTable(name string) (Table, bool) {
	for _, t := range Tables() {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

var observationColumns = []string{"event_id", "event_time", "asin", "marketplace", "source", "keyword", "job_id", "url",
	"title", "brand", "category", "price_minor", "list_price_minor", "currency", "rating", "review_count",
	"bought_past_month", "rank", "rank_category", "prime", "availability", "seller_count", "sponsored", "position",
	"producer", IngestedColumn}

func observationRows(m proto.Message, ingested time.Time) ([][]any, error) {
	ev, err := as[*marketv1.ProductObserved](m)
	if err != nil {
		return nil, err
	}
	env := ev.GetEnvelope()
	a := attrs(ev.GetAttributes())
	rank, rankCat := mainRank(a)
	return [][]any{{env.GetEventId(), eventTime(env), ev.GetAsin(), ev.GetMarketplace(), EnumName(ev.GetSource()), ev.GetKeyword(), ev.GetJobId(), ev.GetUrl(),
		a.Title, a.Brand, a.Category, amount(a.GetPrice()), amount(a.GetListPrice()), currency(a), a.Rating, a.ReviewCount,
		a.BoughtPastMonth, rank, rankCat, boolU8(a.Prime), EnumName(a.GetAvailability()), a.SellerCount, boolU8(ev.Sponsored), ev.Position,
		env.GetProducer(), ingested}}, nil
}

var searchColumns = []string{"event_id", "event_time", "keyword", "marketplace", "page", "position", "asin", "sponsored",
	"title", "brand", "price_minor", "currency", "rating", "review_count", "bought_past_month", "prime", "total_results",
	"job_id", IngestedColumn}

func searchRows(m proto.Message, ingested time.Time) ([][]any, error) {
	ev, err := as[*marketv1.SearchResultsObserved](m)
	if err != nil {
		return nil, err
	}
	env := ev.GetEnvelope()
	rows := make([][]any, 0, len(ev.GetListings()))
	for _, l := range ev.GetListings() {
		a := attrs(l.GetAttributes())
		rows = append(rows, []any{env.GetEventId(), eventTime(env), ev.GetKeyword(), ev.GetMarketplace(), ev.GetPage(), l.GetPosition(), l.GetAsin(),
			boolU8(l.Sponsored), a.Title, a.Brand, amount(a.GetPrice()), currency(a), a.Rating, a.ReviewCount, a.BoughtPastMonth,
			boolU8(a.Prime), ev.TotalResults, ev.GetJobId(), ingested})
	}
	return rows, nil
}

var productLatestColumns = []string{"asin", "marketplace", "version", "event_id", "event_time", "keyword", "title", "brand",
	"category", "price_minor", "list_price_minor", "currency", "rating", "review_count", "bought_past_month", "rank",
	"rank_category", "prime", "availability", "seller_count", "image_url", "observation_count", "price_ewma",
	"review_velocity_per_day", "rank_trend_per_day", IngestedColumn}

func productLatestRows(m proto.Message, ingested time.Time) ([][]any, error) {
	ev, err := as[*marketv1.ProductStateChanged](m)
	if err != nil {
		return nil, err
	}
	env := ev.GetEnvelope()
	a := attrs(ev.GetAfter())
	rank, rankCat := mainRank(a)
	return [][]any{{ev.GetAsin(), ev.GetMarketplace(), uint64(max(ev.GetVersion(), 0)), env.GetEventId(), eventTime(env), ev.GetKeyword(),
		a.Title, a.Brand, a.Category, amount(a.GetPrice()), amount(a.GetListPrice()), currency(a), a.Rating, a.ReviewCount,
		a.BoughtPastMonth, rank, rankCat, boolU8(a.Prime), EnumName(a.GetAvailability()), a.SellerCount, a.ImageUrl,
		ev.GetObservationCount(), ev.PriceEwma, ev.ReviewVelocityPerDay, ev.RankTrendPerDay, ingested}}, nil
}

var productChangeColumns = []string{"event_id", "event_time", "asin", "marketplace", "version", "changes", "keyword", "title",
	"currency", "price_before_minor", "price_after_minor", "rating_before", "rating_after", "reviews_before", "reviews_after",
	"rank_before", "rank_after", "availability_before", "availability_after", IngestedColumn}

func productChangeRows(m proto.Message, ingested time.Time) ([][]any, error) {
	ev, err := as[*marketv1.ProductStateChanged](m)
	if err != nil {
		return nil, err
	}
	env := ev.GetEnvelope()
	b, a := attrs(ev.GetBefore()), attrs(ev.GetAfter())
	changes := make([]string, 0, len(ev.GetChanges()))
	for _, c := range ev.GetChanges() {
		changes = append(changes, EnumName(c))
	}
	rb, _ := mainRank(b)
	ra, _ := mainRank(a)
	return [][]any{{env.GetEventId(), eventTime(env), ev.GetAsin(), ev.GetMarketplace(), uint64(max(ev.GetVersion(), 0)), changes,
		ev.GetKeyword(), a.Title, currency(a), amount(b.GetPrice()), amount(a.GetPrice()), b.Rating, a.Rating, b.ReviewCount,
		a.ReviewCount, rb, ra, EnumName(b.GetAvailability()), EnumName(a.GetAvailability()), ingested}}, nil
}

var windowColumns = []string{"keyword", "marketplace", "window_name", "window_kind", "size_seconds", "step_seconds",
	"window_start", "window_end", "version", "final", "closed_by", "pages_observed", "competitor_count", "currency",
	"price_min_minor", "price_median_minor", "price_mean_minor", "price_p90_minor", "rating_mean", "rating_distribution",
	"reviews_total", "reviews_median", "prime_share", "sponsored_share", "sov_brand", "sov_share", "sov_listings",
	"new_entrants", "leavers", "top_asin", "top_title", "top_brand", "top_units", "top_units_low", "top_units_high",
	"estimated_sales_total", "event_id", "event_time", IngestedColumn}

func windowRows(m proto.Message, ingested time.Time) ([][]any, error) {
	ev, err := as[*marketv1.KeywordWindowUpdated](m)
	if err != nil {
		return nil, err
	}
	env := ev.GetEnvelope()
	w, s := ev.GetWindow(), ev.GetStats()
	if s == nil {
		s = &marketv1.KeywordWindowStats{}
	}
	var sovBrand []string
	var sovShare []float64
	var sovListings []int32
	for _, b := range s.GetShareOfVoice() {
		sovBrand = append(sovBrand, b.GetBrand())
		sovShare = append(sovShare, b.GetShare())
		sovListings = append(sovListings, b.GetListings())
	}
	var topASIN, topTitle, topBrand []string
	var topUnits, topLow, topHigh []float64
	for _, p := range s.GetTopBySales() {
		topASIN = append(topASIN, p.GetAsin())
		topTitle = append(topTitle, p.GetTitle())
		topBrand = append(topBrand, p.GetBrand())
		topUnits = append(topUnits, p.GetSales().GetUnits())
		topLow = append(topLow, p.GetSales().GetLow())
		topHigh = append(topHigh, p.GetSales().GetHigh())
	}
	return [][]any{{ev.GetKeyword(), ev.GetMarketplace(), WindowName(w), EnumName(w.GetKind()), w.GetSizeSeconds(), w.GetStepSeconds(),
		w.GetStart().AsTime().UTC(), w.GetEnd().AsTime().UTC(), uint64(max(ev.GetVersion(), 0)), boolU8v(ev.GetFinal()), ev.GetClosedBy(),
		ev.GetPagesObserved(), s.GetCompetitorCount(), s.GetCurrency(), s.PriceMinMinor, s.PriceMedianMinor, s.PriceMeanMinor,
		s.PriceP90Minor, s.RatingMean, nonNil(s.GetRatingDistribution()), s.GetReviewsTotal(), s.ReviewsMedian, s.PrimeShare,
		s.SponsoredShare, nonNil(sovBrand), nonNil(sovShare), nonNil(sovListings), nonNil(s.GetNewEntrants()), nonNil(s.GetLeavers()),
		nonNil(topASIN), nonNil(topTitle), nonNil(topBrand), nonNil(topUnits), nonNil(topLow), nonNil(topHigh),
		s.EstimatedSalesTotal, env.GetEventId(), eventTime(env), ingested}}, nil
}

var anomalyColumns = []string{"anomaly_id", "event_id", "event_time", "asin", "keyword", "marketplace", "kind", "severity",
	"score", "observed", "baseline_method", "baseline_center", "baseline_spread", "baseline_points", "usual_low",
	"usual_high", "explanation", "title", "currency", "observation_event_id", IngestedColumn}

func anomalyRows(m proto.Message, ingested time.Time) ([][]any, error) {
	ev, err := as[*marketv1.AnomalyDetected](m)
	if err != nil {
		return nil, err
	}
	env, b := ev.GetEnvelope(), ev.GetBaseline()
	return [][]any{{ev.GetAnomalyId(), env.GetEventId(), eventTime(env), ev.GetAsin(), ev.GetKeyword(), ev.GetMarketplace(),
		EnumName(ev.GetKind()), EnumName(ev.GetSeverity()), ev.GetScore(), ev.GetObserved(), b.GetMethod(), b.GetCenter(),
		b.GetSpread(), b.GetPoints(), b.GetUsualLow(), b.GetUsualHigh(), ev.GetExplanation(), ev.GetTitle(), ev.GetCurrency(),
		ev.GetObservationEventId(), ingested}}, nil
}

var deliveryColumns = []string{"notification_id", "attempt", "event_id", "event_time", "subscription_id", "user_id",
	"channel", "status", "http_status", "error", "latency_ms", "retry_in_ms", IngestedColumn}

func deliveryRows(m proto.Message, ingested time.Time) ([][]any, error) {
	ev, err := as[*marketv1.NotificationDelivered](m)
	if err != nil {
		return nil, err
	}
	env := ev.GetEnvelope()
	return [][]any{{ev.GetNotificationId(), ev.GetAttempt(), env.GetEventId(), eventTime(env), ev.GetSubscriptionId(), ev.GetUserId(),
		EnumName(ev.GetChannel()), EnumName(ev.GetStatus()), ev.GetHttpStatus(), ev.GetError(), ev.GetLatencyMs(), ev.GetRetryInMs(),
		ingested}}, nil
}

var scrapeColumns = []string{"job_id", "event_id", "event_time", "status", "attempt", "pages_done", "pages_total", "reason",
	"breaker_state", "url", "http_status", "keyword", "analysis_id", "listings_observed", IngestedColumn}

func scrapeRows(m proto.Message, ingested time.Time) ([][]any, error) {
	ev, err := as[*marketv1.ScrapeStatusChanged](m)
	if err != nil {
		return nil, err
	}
	env := ev.GetEnvelope()
	return [][]any{{ev.GetJobId(), env.GetEventId(), eventTime(env), EnumName(ev.GetStatus()), ev.GetAttempt(), ev.GetPagesDone(),
		ev.GetPagesTotal(), ev.GetReason(), ev.GetBreakerState(), ev.GetUrl(), ev.GetHttpStatus(), ev.GetKeyword(), ev.GetAnalysisId(),
		ev.GetListingsObserved(), ingested}}, nil
}

var analysisColumns = []string{"analysis_id", "event_id", "event_time", "type", "keyword", "step", "progress", "detail",
	"job_ids", "stale", "duration_ms", "competitor_count", "price_median_minor", "reason", IngestedColumn}

func analysisRows(m proto.Message, ingested time.Time) ([][]any, error) {
	ev, err := as[*marketv1.AnalysisEvent](m)
	if err != nil {
		return nil, err
	}
	env := ev.GetEnvelope()
	var (
		typ, keyword, step, detail, reason string
		progress                           float64
		jobIDs                             = []string{}
		stale                              bool
		durationMS                         int64
		competitors                        *int32
		priceMedian                        *float64
	)
	switch e := ev.GetEvent().(type) {
	case *marketv1.AnalysisEvent_Requested:
		typ, keyword, step = "requested", e.Requested.GetKeyword(), EnumName(marketv1.AnalysisStep_ANALYSIS_STEP_REQUESTED)
	case *marketv1.AnalysisEvent_StepChanged:
		typ, step, progress, detail = "step_changed", EnumName(e.StepChanged.GetStep()), e.StepChanged.GetProgress(), e.StepChanged.GetDetail()
		jobIDs = nonNil(e.StepChanged.GetJobIds())
	case *marketv1.AnalysisEvent_Completed:
		c := e.Completed
		typ, keyword, step, progress, stale, durationMS = "completed", c.GetKeyword(), EnumName(marketv1.AnalysisStep_ANALYSIS_STEP_COMPLETED), 1, c.GetStale(), c.GetDurationMs()
		if s := c.GetSummary(); s != nil {
			n := s.GetCompetitorCount()
			competitors, priceMedian = &n, s.PriceMedianMinor
		}
	case *marketv1.AnalysisEvent_Failed:
		f := e.Failed
		typ, step, reason, stale = "failed", EnumName(marketv1.AnalysisStep_ANALYSIS_STEP_FAILED), f.GetReason(), f.GetStaleResultAvailable()
		jobIDs = nonNil(f.GetCancelledJobIds())
	default:
		typ = "unknown"
	}
	return [][]any{{ev.GetAnalysisId(), env.GetEventId(), eventTime(env), typ, keyword, step, progress, detail, jobIDs,
		boolU8v(stale), durationMS, competitors, priceMedian, reason, ingested}}, nil
}

var userActionColumns = []string{"event_id", "event_time", "user_id", "kind", "keyword", "asin", "analysis_id",
	"param_names", "param_values", "route", "status", "client_hash", IngestedColumn}

func userActionRows(m proto.Message, ingested time.Time) ([][]any, error) {
	ev, err := as[*marketv1.UserAction](m)
	if err != nil {
		return nil, err
	}
	env := ev.GetEnvelope()
	names := make([]string, 0, len(ev.GetParams()))
	for k := range ev.GetParams() {
		names = append(names, k)
	}
	slices.Sort(names)
	values := make([]string, len(names))
	for i, k := range names {
		values[i] = ev.GetParams()[k]
	}
	return [][]any{{env.GetEventId(), eventTime(env), ev.GetUserId(), EnumName(ev.GetKind()), ev.GetKeyword(), ev.GetAsin(),
		ev.GetAnalysisId(), names, values, ev.GetRoute(), ev.GetStatus(), ev.GetClientHash(), ingested}}, nil
}

// as asserts an event's type.
func as[T proto.Message](m proto.Message) (T, error) {
	ev, ok := m.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("want %T, got %T", zero, m)
	}
	return ev, nil
}

// eventTime is the envelope's event time in UTC, truncated to the second of a DateTime column.
func eventTime(env *marketv1.Envelope) time.Time {
	return env.GetEventTime().AsTime().UTC().Truncate(time.Second)
}

// attrs returns a non-nil attributes message.
func attrs(a *marketv1.ProductAttributes) *marketv1.ProductAttributes {
	if a == nil {
		return &marketv1.ProductAttributes{}
	}
	return a
}

// amount points at a price's minor units (nil when absent). Like the attributes' own pointer
// fields, it points into the event, which is not changed after it was decoded.
func amount(m *marketv1.Money) *int64 {
	if m == nil {
		return nil
	}
	return &m.AmountMinor
}

func currency(a *marketv1.ProductAttributes) string {
	if c := a.GetPrice().GetCurrency(); c != "" {
		return c
	}
	return a.GetListPrice().GetCurrency()
}

// mainRank points at the first best-sellers rank and its category (nil when there is none).
func mainRank(a *marketv1.ProductAttributes) (*int64, *string) {
	if len(a.GetRanks()) == 0 {
		return nil, nil
	}
	r := a.GetRanks()[0]
	if r == nil {
		r = &marketv1.BestSellersRank{}
	}
	return &r.Rank, &r.Category
}

// u8 holds the values boolU8 points at; nothing writes through those pointers.
var u8 = [2]uint8{0, 1}

func boolU8(b *bool) *uint8 {
	if b == nil {
		return nil
	}
	return &u8[boolU8v(*b)]
}

func boolU8v(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// nonNil returns s, or an empty slice for nil (Array columns take no NULL).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// EnumName is an enum value's name in lower snake case without its type's prefix ("price_drop"
// for ANOMALY_KIND_PRICE_DROP); "" for the zero UNSPECIFIED value, the number for unknown ones.
// The names of an enum type are computed once and cached.
func EnumName(e protoreflect.Enum) string {
	d := e.Descriptor()
	names, ok := enumNames.Load(d)
	if !ok {
		names, _ = enumNames.LoadOrStore(d, enumNameTable(d))
	}
	if name, ok := names.(map[protoreflect.EnumNumber]string)[e.Number()]; ok {
		return name
	}
	return strconv.Itoa(int(e.Number()))
}

// enumNames caches, per enum descriptor, the EnumName of each of its values.
var enumNames sync.Map // protoreflect.EnumDescriptor -> map[protoreflect.EnumNumber]string

// enumNameTable names every value of the enum d as EnumName does.
func enumNameTable(d protoreflect.EnumDescriptor) map[protoreflect.EnumNumber]string {
	prefix := upperSnake(string(d.Name())) + "_"
	vals := d.Values()
	out := make(map[protoreflect.EnumNumber]string, vals.Len())
	for i := range vals.Len() {
		v := vals.Get(i)
		if _, dup := out[v.Number()]; dup {
			continue // an alias: the first name of a number wins, as ByNumber does
		}
		name := strings.TrimPrefix(string(v.Name()), prefix)
		if name == "UNSPECIFIED" {
			name = ""
		}
		out[v.Number()] = strings.ToLower(name)
	}
	return out
}

func upperSnake(camel string) string {
	var b strings.Builder
	for i, r := range camel {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// WindowName names a window by kind and size, e.g. "tumbling_1m", "sliding_24h".
func WindowName(w *marketv1.Window) string {
	kind := EnumName(w.GetKind())
	if kind == "" {
		kind = "window"
	}
	return kind + "_" + shortDuration(time.Duration(w.GetSizeSeconds())*time.Second)
}

func shortDuration(d time.Duration) string {
	switch {
	case d > 48*time.Hour && d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d > 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d > 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	default:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
}
