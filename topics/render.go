package topics

import (
	"encoding/base64"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
)

// RenderedRecord is one record as `marketinsights tail` prints it: the value decoded to JSON when
// the catalog knows its schema, otherwise base64 with the reason.
type RenderedRecord struct {
	Topic       string            `json:"topic"`
	Partition   int32             `json:"partition"`
	Offset      int64             `json:"offset"`
	Timestamp   time.Time         `json:"timestamp"`
	Key         string            `json:"key,omitempty"`
	KeyBase64   string            `json:"key_base64,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Value       json.RawMessage   `json:"value,omitempty"`
	ValueBase64 string            `json:"value_base64,omitempty"`
	Error       string            `json:"error,omitempty"`
}

// Render decodes a record for people and scripts. It never fails: a value it cannot decode is
// kept as base64 beside the error.
func Render(r *kgo.Record) RenderedRecord {
	out := RenderedRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UTC()}
	if utf8.Valid(r.Key) {
		out.Key = string(r.Key)
	} else {
		out.KeyBase64 = base64.StdEncoding.EncodeToString(r.Key)
	}
	if len(r.Headers) > 0 {
		out.Headers = make(map[string]string, len(r.Headers))
		for _, h := range r.Headers {
			out.Headers[h.Key] = string(h.Value)
		}
	}
	raw := func(reason string) RenderedRecord {
		out.ValueBase64 = base64.StdEncoding.EncodeToString(r.Value)
		out.Error = reason
		return out
	}
	t, ok := Lookup(r.Topic)
	if !ok {
		return raw(ErrUnknownTopic.Error())
	}
	if t.Value == nil {
		return raw("") // raw-bytes topic: nothing to decode, nothing wrong
	}
	m, err := DecodeRecord(t, r)
	if err != nil {
		return raw(err.Error())
	}
	b, err := MarshalJSON(m)
	if err != nil {
		return raw(err.Error())
	}
	out.Value = b
	return out
}
