package topics

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Record header names.
const (
	// HeaderSchema names the value's message, e.g. "market.v1.ProductObserved".
	HeaderSchema = "schema"
	// HeaderEventID carries the envelope's event id, so tools can deduplicate without decoding.
	HeaderEventID = "event-id"
	// HeaderContentType says how the value is encoded.
	HeaderContentType = "content-type"
	// ContentTypeProtobuf is the content type of every typed record.
	ContentTypeProtobuf = "application/x-protobuf"
)

// NewRecord encodes v as a record of topic t with the given key and the schema, event-id and
// content-type headers.
func NewRecord(t Topic, key string, v proto.Message) (*kgo.Record, error) {
	b, err := t.Codec().Encode(v)
	if err != nil {
		return nil, err
	}
	r := &kgo.Record{Topic: t.Name, Key: []byte(key), Value: b}
	r.Headers = append(r.Headers,
		kgo.RecordHeader{Key: HeaderSchema, Value: []byte(t.Schema())},
		kgo.RecordHeader{Key: HeaderContentType, Value: []byte(ContentTypeProtobuf)},
	)
	if ev, ok := v.(marketv1.Event); ok && ev.GetEnvelope().GetEventId() != "" {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: HeaderEventID, Value: []byte(ev.GetEnvelope().GetEventId())})
	}
	return r, nil
}

// NewEventRecord encodes an event as a record of topic t, its key taken from the topic's key field.
func NewEventRecord(t Topic, v proto.Message) (*kgo.Record, error) {
	key, err := KeyOf(t, v)
	if err != nil {
		return nil, err
	}
	return NewRecord(t, key, v)
}

// DecodeRecord decodes a record's value into a new message of its topic's type. A schema header
// naming another message is an error; a record without one is decoded as the topic's type.
func DecodeRecord(t Topic, r *kgo.Record) (proto.Message, error) {
	if t.Value == nil {
		return nil, fmt.Errorf("decode record of %s: %w", t.Name, ErrRawTopic)
	}
	if s, ok := headerBytes(r, HeaderSchema); ok && string(s) != t.Schema() { // compared without a copy
		return nil, fmt.Errorf("decode record %s/%d@%d: header says %s, topic holds %s: %w",
			r.Topic, r.Partition, r.Offset, s, t.Schema(), ErrSchemaMismatch)
	}
	v, err := t.Codec().Decode(r.Value)
	if err != nil {
		return nil, fmt.Errorf("decode record %s/%d@%d: %w", r.Topic, r.Partition, r.Offset, err)
	}
	return v.(proto.Message), nil
}

// Header returns the value of the record's last header with the given key.
func Header(r *kgo.Record, key string) (string, bool) {
	v, ok := headerBytes(r, key)
	return string(v), ok
}

// headerBytes returns the value of the record's last header with the given key, not copied.
func headerBytes(r *kgo.Record, key string) ([]byte, bool) {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return r.Headers[i].Value, true
		}
	}
	return nil, false
}

// KeyOf returns the record key of v for topic t, read from the topic's key field.
func KeyOf(t Topic, v proto.Message) (string, error) {
	if t.KeyField == "" {
		return "", &FieldError{Field: "(key)", Err: fmt.Errorf("topic %s has no key field: give the key explicitly", t.Name)}
	}
	m := v.ProtoReflect()
	parts := strings.Split(t.KeyField, ".")
	for i, p := range parts {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(p))
		if fd == nil {
			return "", &FieldError{Field: t.KeyField, Err: fmt.Errorf("%s has no field %q", m.Descriptor().FullName(), p)}
		}
		if i == len(parts)-1 {
			if fd.Kind() != protoreflect.StringKind {
				return "", &FieldError{Field: t.KeyField, Err: fmt.Errorf("key field is not a string")}
			}
			k := m.Get(fd).String()
			if k == "" {
				return "", &FieldError{Field: t.KeyField, Err: fmt.Errorf("missing: it is the record key of %s", t.Name)}
			}
			return k, nil
		}
		if fd.Message() == nil || !m.Has(fd) {
			return "", &FieldError{Field: t.KeyField, Err: fmt.Errorf("missing: it is the record key of %s", t.Name)}
		}
		m = m.Get(fd).Message()
	}
	return "", &FieldError{Field: t.KeyField, Err: fmt.Errorf("empty key path")}
}
