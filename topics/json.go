package topics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

var (
	jsonOut = protojson.MarshalOptions{UseProtoNames: true}
	jsonIn  = protojson.UnmarshalOptions{}
)

// MarshalJSON renders a value as one line of JSON with the proto field names.
func MarshalJSON(m proto.Message) ([]byte, error) {
	b, err := jsonOut.Marshal(m)
	if err != nil {
		return nil, err
	}
	// protojson may add spaces at random to discourage byte comparisons; compact it for JSON lines.
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// UnmarshalJSON parses one JSON value of the topic's type, rejecting unknown fields.
func UnmarshalJSON(t Topic, data []byte) (proto.Message, error) {
	if t.Value == nil {
		return nil, fmt.Errorf("parse JSON for %s: %w", t.Name, ErrRawTopic)
	}
	m := t.NewValue()
	if err := jsonIn.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("not a %s: %w", t.Schema(), err)
	}
	return m, nil
}

// EventDefaults fill what a JSON line may leave out of an event's envelope.
type EventDefaults struct {
	// Producer is written when the envelope names none.
	Producer string
	// Now gives the event time written when the envelope has none.
	Now func() time.Time
}

// ReadJSONLines reads JSON lines of topic t into records, filling envelope defaults and checking
// every line (envelope, key) before returning: on any bad line it returns no records and an error
// naming the line and the field. Blank lines and lines starting with # are skipped.
func ReadJSONLines(t Topic, r io.Reader, d EventDefaults) ([]*kgo.Record, error) {
	if t.Value == nil {
		return nil, fmt.Errorf("produce to %s: %w", t.Name, ErrRawTopic)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	var out []*kgo.Record
	var errs []error
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		rec, err := parseLine(t, text, d)
		if err != nil {
			errs = append(errs, &LineError{Line: line, Err: err})
			if len(errs) >= 20 {
				errs = append(errs, fmt.Errorf("stopped after 20 bad lines"))
				break
			}
			continue
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read line %d: %w", line+1, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func parseLine(t Topic, text []byte, d EventDefaults) (*kgo.Record, error) {
	m, err := UnmarshalJSON(t, text)
	if err != nil {
		return nil, err
	}
	if ev, ok := m.(marketv1.Event); ok {
		fillEnvelope(ev, d)
		if err := marketv1.ValidateEnvelope(ev.GetEnvelope()); err != nil {
			return nil, err
		}
	}
	return NewEventRecord(t, m)
}

// fillEnvelope sets the envelope fields a hand-written line usually omits.
func fillEnvelope(ev marketv1.Event, d EventDefaults) {
	env := ev.GetEnvelope()
	if env == nil {
		env = &marketv1.Envelope{}
		f := ev.ProtoReflect().Descriptor().Fields().ByName("envelope")
		ev.ProtoReflect().Set(f, protoreflect.ValueOfMessage(env.ProtoReflect()))
	}
	if env.EventId == "" {
		env.EventId = marketv1.NewEventID()
	}
	if env.EventTime == nil {
		env.EventTime = timestamppb.New(d.Now())
	}
	if env.Producer == "" {
		env.Producer = d.Producer
	}
	if env.SchemaVersion == 0 {
		env.SchemaVersion = marketv1.SchemaVersion
	}
}
