// Package processors holds what the goka processors (one sub-package each: products, keywords,
// anomalies, notifications, analyses) share: tolerant input codecs that route undecodable
// records to the dead-letter topic, emitting with the catalog's headers, metrics, and running a
// set of processors until the context ends.
package processors

import (
	"fmt"
	"strconv"
	"time"

	"github.com/lovoo/goka"
	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/topics"
)

// Undecodable is what a tolerant codec yields for bytes it cannot decode, so the callback can
// dead-letter the record instead of goka stopping the processor.
type Undecodable struct {
	// Raw are the record's value bytes.
	Raw []byte
	// Err is the decoding error.
	Err error
}

// TolerantCodec decodes a topic's values like the catalog's codec, but yields *Undecodable
// instead of an error for bytes it cannot decode.
type TolerantCodec struct{ topics.Codec }

// InputCodec returns the tolerant codec of a catalog topic, for goka.Input edges.
func InputCodec(topicName string) TolerantCodec {
	return TolerantCodec{topics.MustLookup(topicName).Codec()}
}

// Decode never fails: undecodable bytes become *Undecodable.
func (c TolerantCodec) Decode(data []byte) (any, error) {
	v, err := c.Codec.Decode(data)
	if err != nil {
		return &Undecodable{Raw: append([]byte(nil), data...), Err: err}, nil
	}
	return v, nil
}

// Codec returns the catalog codec of a topic, for goka.Persist, goka.Output and goka.Loop edges.
func Codec(topicName string) topics.Codec { return topics.MustLookup(topicName).Codec() }

// Emit emits an event to stream `to` with the headers of catalog topic t (schema, content-type,
// event-id). `to` is t's name in production; tests pass topics of their own.
func Emit(ctx goka.Context, to goka.Stream, t topics.Topic, key string, ev proto.Message) {
	ctx.Emit(to, key, ev, goka.WithCtxEmitHeaders(EventHeaders(t, ev)))
}

// EventHeaders returns the headers of an event record of topic t.
func EventHeaders(t topics.Topic, ev proto.Message) goka.Headers {
	h := goka.Headers{
		topics.HeaderSchema:      []byte(t.Schema()),
		topics.HeaderContentType: []byte(topics.ContentTypeProtobuf),
	}
	if e, ok := ev.(marketv1.Event); ok && e.GetEnvelope().GetEventId() != "" {
		h[topics.HeaderEventID] = []byte(e.GetEnvelope().GetEventId())
	}
	return h
}

// DeadLetter emits the current record's original bytes to the dead-letter topic with the error
// and its origin in headers, so the processor can go on.
func DeadLetter(ctx goka.Context, stage string, raw []byte, cause error) {
	h := goka.Headers{}
	for k, v := range ctx.Headers() {
		h[k] = v
	}
	h[topics.HeaderDLQError] = []byte(cause.Error())
	h[topics.HeaderDLQStage] = []byte(stage)
	h[topics.HeaderDLQTopic] = []byte(string(ctx.Topic()))
	h[topics.HeaderDLQPartition] = []byte(strconv.Itoa(int(ctx.Partition())))
	h[topics.HeaderDLQOffset] = []byte(strconv.FormatInt(ctx.Offset(), 10))
	h[topics.HeaderDLQTime] = []byte(time.Now().UTC().Format(time.RFC3339Nano))
	ctx.Emit(goka.Stream(topics.DeadLetters), ctx.Key(), raw, goka.WithCtxEmitHeaders(h))
}

// DeadLetterEdge is the output edge every processor that dead-letters declares.
func DeadLetterEdge() goka.Edge {
	return goka.Output(goka.Stream(topics.DeadLetters), Codec(topics.DeadLetters))
}

// Decoded returns the callback's message as T, dead-lettering it (and returning false) when it
// is undecodable or of another type.
func Decoded[T proto.Message](ctx goka.Context, stage string, msg any) (T, bool) {
	var zero T
	switch m := msg.(type) {
	case T:
		return m, true
	case *Undecodable:
		DeadLetter(ctx, stage, m.Raw, m.Err)
	default:
		DeadLetter(ctx, stage, nil, fmt.Errorf("unexpected message type %T on %s", msg, ctx.Topic()))
	}
	return zero, false
}
