package topics

import (
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Dead-letter record headers, added to the original record's headers.
const (
	// HeaderDLQError is the error that made the record undeliverable.
	HeaderDLQError = "dlq-error"
	// HeaderDLQStage names the consumer that gave up, e.g. "project/clickhouse".
	HeaderDLQStage = "dlq-stage"
	// HeaderDLQTopic is the record's original topic.
	HeaderDLQTopic = "dlq-topic"
	// HeaderDLQPartition is the record's original partition.
	HeaderDLQPartition = "dlq-partition"
	// HeaderDLQOffset is the record's original offset.
	HeaderDLQOffset = "dlq-offset"
	// HeaderDLQTime is when the record was dead-lettered (RFC 3339).
	HeaderDLQTime = "dlq-time"
)

// DeadLetter returns a record for the dead-letter topic that keeps r's key, value and headers
// byte for byte and adds why and where it failed.
func DeadLetter(r *kgo.Record, stage string, cause error, now time.Time) *kgo.Record {
	msg := "unknown error"
	if cause != nil {
		msg = cause.Error()
	}
	headers := make([]kgo.RecordHeader, 0, len(r.Headers)+6)
	headers = append(headers, r.Headers...)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderDLQError, Value: []byte(msg)},
		kgo.RecordHeader{Key: HeaderDLQStage, Value: []byte(stage)},
		kgo.RecordHeader{Key: HeaderDLQTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: HeaderDLQPartition, Value: []byte(strconv.Itoa(int(r.Partition)))},
		kgo.RecordHeader{Key: HeaderDLQOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
		kgo.RecordHeader{Key: HeaderDLQTime, Value: []byte(now.UTC().Format(time.RFC3339Nano))},
	)
	return &kgo.Record{Topic: DeadLetters, Key: r.Key, Value: r.Value, Headers: headers, Timestamp: r.Timestamp}
}
