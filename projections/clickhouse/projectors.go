package clickhouse

import (
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/projections"
)

// GroupPrefix starts the consumer group of every ClickHouse projector: <prefix><table>.
const GroupPrefix = "projector-clickhouse-"

// NewProjectors returns one projector per table into conn's database. topicName maps a catalog
// topic to the name to consume (identity in production, per-test names in tests); base sets
// batching, backoff, logging and metrics; its Topic is ignored and its Group, when set, is used
// as the group prefix instead of GroupPrefix (empty Group with Until set: replay mode).
func NewProjectors(kcfg config.Kafka, conn driver.Conn, tables []Table, topicName func(string) string, base projections.Options) ([]*projections.Projector[[]any], error) {
	if topicName == nil {
		topicName = func(s string) string { return s }
	}
	var out []*projections.Projector[[]any]
	for _, t := range tables {
		opts := base
		opts.Topic = topicName(t.Topic)
		switch {
		case base.Group != "":
			opts.Group = base.Group + t.Name
		case base.Until == nil:
			opts.Group = GroupPrefix + t.Name
		}
		p, err := projections.New(kcfg, NewSink(conn, t), opts)
		if err != nil {
			for _, q := range out {
				q.Close()
			}
			return nil, fmt.Errorf("projector of table %s: %w", t.Name, err)
		}
		out = append(out, p)
	}
	return out, nil
}
