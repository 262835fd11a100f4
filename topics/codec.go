package topics

import (
	"fmt"

	"google.golang.org/protobuf/proto"
)

// Codec encodes and decodes the values of one topic as Protobuf. It satisfies goka.Codec, so a
// goka processor declares its edges with t.Codec().
type Codec struct {
	topic Topic
}

// Codec returns the topic's value codec.
func (t Topic) Codec() Codec { return Codec{topic: t} }

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// Encode marshals a value of the topic's message type.
func (c Codec) Encode(value any) ([]byte, error) {
	if c.topic.Value == nil {
		b, ok := value.([]byte)
		if !ok {
			return nil, fmt.Errorf("encode value of %T for %s: %w", value, c.topic.Name, ErrRawTopic)
		}
		return b, nil
	}
	m, ok := value.(proto.Message)
	if !ok || m.ProtoReflect().Descriptor().FullName() != c.topic.Value.ProtoReflect().Descriptor().FullName() {
		return nil, fmt.Errorf("encode value of %T for %s: want %s: %w", value, c.topic.Name, c.topic.Schema(), ErrSchemaMismatch)
	}
	b, err := marshalOpts.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s for %s: %w", c.topic.Schema(), c.topic.Name, err)
	}
	return b, nil
}

// Decode unmarshals bytes into a new value of the topic's message type (raw bytes for raw topics).
func (c Codec) Decode(data []byte) (any, error) {
	if c.topic.Value == nil {
		return data, nil
	}
	m := c.topic.NewValue()
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("decode %s from %s: %w", c.topic.Schema(), c.topic.Name, err)
	}
	return m, nil
}
