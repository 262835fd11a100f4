// Package topics is the catalog of every Kafka topic of the system, with the codecs that read and
// write their records and the admin that creates them.
package topics

import (
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Kind says what a topic is for.
type Kind string

const (
	// KindStream is an event stream: facts appended in order.
	KindStream Kind = "stream"
	// KindTable is a goka group table (compacted changelog of processor state).
	KindTable Kind = "table"
	// KindLoop is a goka group's loopback topic (messages a processor sends to itself).
	KindLoop Kind = "loop"
)

// Cleanup is a topic's cleanup.policy.
type Cleanup string

const (
	// CleanupDelete removes segments older than the retention.
	CleanupDelete Cleanup = "delete"
	// CleanupCompact keeps the latest record of every key.
	CleanupCompact Cleanup = "compact"
)

// Forever is the retention of topics that keep every record (retention.ms=-1).
const Forever time.Duration = -1

// Topic describes one topic: its settings, its key and the type of its values.
type Topic struct {
	// Name is the topic's name, market.<name>.v<N> for streams, <group>-table / <group>-loop for goka.
	Name string
	// Kind says whether the topic is a stream, a goka table or a goka loop.
	Kind Kind
	// Partitions is the partition count; topics joined by a goka group share it.
	Partitions int32
	// Retention is how long records are kept (Forever for always); ignored for compacted topics.
	Retention time.Duration
	// Cleanup is the cleanup policy.
	Cleanup Cleanup
	// Key says what the record key holds.
	Key string
	// KeyField is the dotted path of the value field the key is taken from ("" when it is not a field).
	KeyField string
	// Value is a prototype of the record value's message; nil for raw bytes (dead letters).
	Value proto.Message
	// Summary is one sentence on what the topic carries.
	Summary string
	// Producers are the roles that write the topic.
	Producers []string
	// Consumers are the roles that read the topic.
	Consumers []string
	// Group is the goka group that owns a table or loop topic.
	Group string
	// OriginalName is the topic's name in the original plan, where it had one.
	OriginalName string
}

// Schema is the full name of the value's message, carried in the schema header ("" for raw bytes).
func (t Topic) Schema() string {
	if t.Value == nil {
		return ""
	}
	return string(t.Value.ProtoReflect().Descriptor().FullName())
}

// NewValue returns a new empty value message of the topic's type, or nil for raw-bytes topics.
func (t Topic) NewValue() proto.Message {
	if t.Value == nil {
		return nil
	}
	return t.Value.ProtoReflect().New().Interface()
}

// Configs returns the topic-level Kafka configs the catalog manages.
func (t Topic) Configs() map[string]string {
	c := map[string]string{"cleanup.policy": string(t.Cleanup)}
	if t.Cleanup == CleanupDelete {
		c["retention.ms"] = fmt.Sprint(retentionMillis(t.Retention))
	}
	return c
}

func retentionMillis(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return d.Milliseconds()
}

// Goka group names.
const (
	GroupProductTracker   = "product-tracker"
	GroupKeywordWindows   = "keyword-windows"
	GroupAnomalyDetector  = "anomaly-detector"
	GroupNotifier         = "notifier"
	GroupNotifierAnalyses = "notifier-analyses"
	GroupAnalysisSaga     = "analysis-saga"
)

// Stream topic names.
const (
	ScrapeRequestsHigh     = "market.scrape-requests.high.v1"
	ScrapeRequestsNormal   = "market.scrape-requests.normal.v1"
	ScrapeRequestsLow      = "market.scrape-requests.low.v1"
	ScrapeStatus           = "market.scrape-status.v1"
	SearchResults          = "market.search-results.v1"
	ProductObservations    = "market.product-observations.v1"
	ProductChanges         = "market.product-changes.v1"
	KeywordWindows         = "market.keyword-windows.v1"
	LateEvents             = "market.late-events.v1"
	Anomalies              = "market.anomalies.v1"
	Subscriptions          = "market.subscriptions.v1"
	Notifications          = "market.notifications.v1"
	NotificationDeliveries = "market.notification-deliveries.v1"
	AnalysisEvents         = "market.analysis-events.v1"
	UserActions            = "market.user-actions.v1"
	DeadLetters            = "market.dead-letters.v1"
)

// Goka table and loop topic names (goka's own naming: <group>-table, <group>-loop).
const (
	ProductTrackerTable   = GroupProductTracker + "-table"
	KeywordWindowsTable   = GroupKeywordWindows + "-table"
	KeywordWindowsLoop    = GroupKeywordWindows + "-loop"
	AnomalyDetectorTable  = GroupAnomalyDetector + "-table"
	NotifierTable         = GroupNotifier + "-table"
	NotifierLoop          = GroupNotifier + "-loop"
	NotifierAnalysesTable = GroupNotifierAnalyses + "-table"
	AnalysisSagaTable     = GroupAnalysisSaga + "-table"
	AnalysisSagaLoop      = GroupAnalysisSaga + "-loop"
)

// Partition counts shared by co-partitioned topics (a goka group's inputs and its table).
const (
	// EntityPartitions is the partition count of topics keyed by ASIN or keyword.
	EntityPartitions int32 = 6
	day                    = 24 * time.Hour
)

var catalog = []Topic{
	{Name: ScrapeRequestsHigh, Kind: KindStream, Partitions: 3, Retention: day, Cleanup: CleanupDelete, Key: "job id", KeyField: "job_id",
		Value: &marketv1.ScrapeRequested{}, Summary: "Scrape jobs a user waits for (analyses); consumed first.",
		Producers: []string{"api", "analysis-saga"}, Consumers: []string{"scrape"}},
	{Name: ScrapeRequestsNormal, Kind: KindStream, Partitions: 3, Retention: day, Cleanup: CleanupDelete, Key: "job id", KeyField: "job_id",
		Value: &marketv1.ScrapeRequested{}, Summary: "Scheduled scrape jobs of tracked keywords.",
		Producers: []string{"scheduler"}, Consumers: []string{"scrape"}},
	{Name: ScrapeRequestsLow, Kind: KindStream, Partitions: 3, Retention: day, Cleanup: CleanupDelete, Key: "job id", KeyField: "job_id",
		Value: &marketv1.ScrapeRequested{}, Summary: "Backfill and bulk scrape jobs; never starved.",
		Producers: []string{"scheduler", "cli"}, Consumers: []string{"scrape"}},
	{Name: ScrapeStatus, Kind: KindStream, Partitions: 2, Retention: day, Cleanup: CleanupDelete, Key: "job id", KeyField: "job_id",
		Value: &marketv1.ScrapeStatusChanged{}, Summary: "Progress of every scrape job (queued, running, succeeded, failed, blocked).",
		Producers: []string{"scrape", "analysis-saga (CANCELLED)"}, Consumers: []string{"analysis-saga", "project", "scrape (CANCELLED)"}, OriginalName: "scraping-status-updates"},
	{Name: SearchResults, Kind: KindStream, Partitions: EntityPartitions, Retention: Forever, Cleanup: CleanupDelete, Key: "keyword", KeyField: "keyword",
		Value: &marketv1.SearchResultsObserved{}, Summary: "Every search-results page scraped or imported, listings in page order.",
		Producers: []string{"scrape", "import"}, Consumers: []string{"keyword-windows", "project"}},
	{Name: ProductObservations, Kind: KindStream, Partitions: EntityPartitions, Retention: Forever, Cleanup: CleanupDelete, Key: "ASIN", KeyField: "asin",
		Value: &marketv1.ProductObserved{}, Summary: "Every observation of a product, from search pages, product pages and imports.",
		Producers: []string{"scrape", "import"}, Consumers: []string{"product-tracker", "project"}},
	{Name: ProductChanges, Kind: KindStream, Partitions: EntityPartitions, Retention: 30 * day, Cleanup: CleanupDelete, Key: "ASIN", KeyField: "asin",
		Value: &marketv1.ProductStateChanged{}, Summary: "Material changes of a product's state, with before and after.",
		Producers: []string{"product-tracker"}, Consumers: []string{"anomaly-detector", "project"}},
	{Name: KeywordWindows, Kind: KindStream, Partitions: EntityPartitions, Retention: 30 * day, Cleanup: CleanupDelete, Key: "keyword", KeyField: "keyword",
		Value: &marketv1.KeywordWindowUpdated{}, Summary: "Statistics of every keyword window on change and when it closes.",
		Producers: []string{"keyword-windows"}, Consumers: []string{"analysis-saga", "project"}},
	{Name: LateEvents, Kind: KindStream, Partitions: 3, Retention: 7 * day, Cleanup: CleanupDelete, Key: "keyword", KeyField: "keyword",
		Value: &marketv1.LateEvent{}, Summary: "Search results that arrived after their window closed.",
		Producers: []string{"keyword-windows"}, Consumers: []string{"operators"}},
	{Name: Anomalies, Kind: KindStream, Partitions: EntityPartitions, Retention: 90 * day, Cleanup: CleanupDelete, Key: "ASIN", KeyField: "asin",
		Value: &marketv1.AnomalyDetected{}, Summary: "Anomalies detected on products and keywords.",
		Producers: []string{"anomaly-detector", "keyword-windows"}, Consumers: []string{"notifier", "project"}},
	{Name: Subscriptions, Kind: KindStream, Partitions: EntityPartitions, Cleanup: CleanupCompact, Key: "subscription id", KeyField: "subscription.subscription_id",
		Value: &marketv1.SubscriptionChanged{}, Summary: "Notification subscriptions; compacted, the latest change of each wins.",
		Producers: []string{"api"}, Consumers: []string{"notifier", "project"}},
	{Name: Notifications, Kind: KindStream, Partitions: 1, Retention: 3 * day, Cleanup: CleanupDelete, Key: "subscription id", KeyField: "subscription_id",
		Value: &marketv1.NotificationRequested{}, Summary: "Notifications to deliver, one per matching subscription and cause.",
		Producers: []string{"notifier"}, Consumers: []string{"notifier", "api"}, OriginalName: "user-notifications"},
	{Name: NotificationDeliveries, Kind: KindStream, Partitions: 1, Retention: 30 * day, Cleanup: CleanupDelete, Key: "notification id", KeyField: "notification_id",
		Value: &marketv1.NotificationDelivered{}, Summary: "Delivery log: every attempt and its outcome.",
		Producers: []string{"notifier"}, Consumers: []string{"project"}},
	{Name: AnalysisEvents, Kind: KindStream, Partitions: 3, Retention: 7 * day, Cleanup: CleanupDelete, Key: "analysis id", KeyField: "analysis_id",
		Value: &marketv1.AnalysisEvent{}, Summary: "The analysis saga's facts: requested, step changes, completed, failed.",
		Producers: []string{"api", "analysis-saga"}, Consumers: []string{"analysis-saga", "notifier-analyses", "project"}, OriginalName: "market-analysis-events"},
	{Name: UserActions, Kind: KindStream, Partitions: 3, Retention: Forever, Cleanup: CleanupDelete, Key: "user id", KeyField: "user_id",
		Value: &marketv1.UserAction{}, Summary: "Audit of what users did (searches, reports viewed, analyses started).",
		Producers: []string{"api"}, Consumers: []string{"project"}},
	{Name: DeadLetters, Kind: KindStream, Partitions: 3, Retention: 30 * day, Cleanup: CleanupDelete, Key: "original key",
		Summary:   "Records no consumer could process: the original bytes, with the error and origin in headers.",
		Producers: []string{"every consumer"}, Consumers: []string{"operators"}},

	{Name: ProductTrackerTable, Kind: KindTable, Group: GroupProductTracker, Partitions: EntityPartitions, Cleanup: CleanupCompact, Key: "ASIN", KeyField: "asin",
		Value: &marketv1.ProductState{}, Summary: "State of every product (goka table of the product-tracker group).",
		Producers: []string{"product-tracker"}, Consumers: []string{"product-tracker", "keyword-windows (lookup)"}},
	{Name: KeywordWindowsTable, Kind: KindTable, Group: GroupKeywordWindows, Partitions: EntityPartitions, Cleanup: CleanupCompact, Key: "keyword", KeyField: "keyword",
		Value: &marketv1.KeywordWindowsState{}, Summary: "Open windows of every keyword (goka table of the keyword-windows group).",
		Producers: []string{"keyword-windows"}, Consumers: []string{"keyword-windows"}},
	{Name: KeywordWindowsLoop, Kind: KindLoop, Group: GroupKeywordWindows, Partitions: EntityPartitions, Retention: day, Cleanup: CleanupDelete, Key: "keyword", KeyField: "keyword",
		Value: &marketv1.WindowTick{}, Summary: "Processing-time ticks that close the windows of quiet keywords.",
		Producers: []string{"keyword-windows"}, Consumers: []string{"keyword-windows"}},
	{Name: AnomalyDetectorTable, Kind: KindTable, Group: GroupAnomalyDetector, Partitions: EntityPartitions, Cleanup: CleanupCompact, Key: "ASIN", KeyField: "asin",
		Value: &marketv1.DetectorState{}, Summary: "Detector state of every product (goka table of the anomaly-detector group).",
		Producers: []string{"anomaly-detector"}, Consumers: []string{"anomaly-detector"}},
	{Name: NotifierTable, Kind: KindTable, Group: GroupNotifier, Partitions: EntityPartitions, Cleanup: CleanupCompact, Key: "keyword:<k>, asin:<a> or subscription:<id>",
		Value: &marketv1.NotifierState{}, Summary: "Subscriptions by what they follow, and notifications already requested.",
		Producers: []string{"notifier"}, Consumers: []string{"notifier"}},
	{Name: NotifierLoop, Kind: KindLoop, Group: GroupNotifier, Partitions: EntityPartitions, Retention: day, Cleanup: CleanupDelete, Key: "keyword:<k> or asin:<a>",
		Value: &marketv1.NotifierCommand{}, Summary: "Subscriptions and anomalies routed to the key of what they follow.",
		Producers: []string{"notifier"}, Consumers: []string{"notifier"}},
	{Name: NotifierAnalysesTable, Kind: KindTable, Group: GroupNotifierAnalyses, Partitions: 3, Cleanup: CleanupCompact, Key: "analysis id",
		Value: &marketv1.NotifierState{}, Summary: "Notifications already requested for completed analyses (dedup of the notifier-analyses group).",
		Producers: []string{"notifier-analyses"}, Consumers: []string{"notifier-analyses"}},
	{Name: AnalysisSagaTable, Kind: KindTable, Group: GroupAnalysisSaga, Partitions: 3, Cleanup: CleanupCompact, Key: "analysis id", KeyField: "analysis_id",
		Value: &marketv1.AnalysisState{}, Summary: "State of every analysis saga (goka table of the analysis-saga group).",
		Producers: []string{"analysis-saga"}, Consumers: []string{"analysis-saga", "api"}},
	{Name: AnalysisSagaLoop, Kind: KindLoop, Group: GroupAnalysisSaga, Partitions: 3, Retention: day, Cleanup: CleanupDelete, Key: "analysis id", KeyField: "analysis_id",
		Value: &marketv1.AnalysisEvent{}, Summary: "Timeouts and scrape progress routed back to the analysis they belong to.",
		Producers: []string{"analysis-saga"}, Consumers: []string{"analysis-saga"}},
}

// All returns every topic of the catalog, streams first, in a stable order.
func All() []Topic { return slices.Clone(catalog) }

// Lookup returns the topic with the given name.
func Lookup(name string) (Topic, bool) {
	for _, t := range catalog {
		if t.Name == name {
			return t, true
		}
	}
	return Topic{}, false
}

// ForEvent returns the stream topic whose records are events of m's type, when exactly one
// stream carries that type (ScrapeRequested, on three priority streams, has none).
func ForEvent(m proto.Message) (Topic, bool) {
	name := m.ProtoReflect().Descriptor().FullName()
	var found []Topic
	for _, t := range catalog {
		if t.Kind == KindStream && t.Value != nil && t.Value.ProtoReflect().Descriptor().FullName() == name {
			found = append(found, t)
		}
	}
	if len(found) != 1 {
		return Topic{}, false
	}
	return found[0], true
}

// MustLookup returns the topic with the given name and panics if the catalog lacks it (for names
// taken from this package's constants).
func MustLookup(name string) Topic {
	t, ok := Lookup(name)
	if !ok {
		panic(fmt.Sprintf("topics: %q is not in the catalog", name))
	}
	return t
}

// Names returns the names of every topic of the catalog.
func Names() []string {
	names := make([]string, len(catalog))
	for i, t := range catalog {
		names[i] = t.Name
	}
	return names
}

// RetentionText renders a topic's retention for people: "7d", "forever", "compacted".
func RetentionText(t Topic) string {
	switch {
	case t.Cleanup == CleanupCompact:
		return "compacted"
	case t.Retention < 0:
		return "forever"
	case t.Retention%day == 0:
		return fmt.Sprintf("%dd", t.Retention/day)
	default:
		return t.Retention.String()
	}
}
