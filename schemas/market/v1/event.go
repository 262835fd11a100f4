package marketv1

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// SchemaVersion is the version of the market.v1 contracts written into every new envelope.
const SchemaVersion uint32 = 1

// Event is a message that carries an Envelope as its field 1; every stream value is one.
type Event interface {
	proto.Message
	GetEnvelope() *Envelope
}

// NewEnvelope returns an envelope with a fresh UUIDv7 event id for an event that happened at eventTime.
func NewEnvelope(producer, correlationID string, eventTime time.Time) *Envelope {
	return &Envelope{
		EventId:       NewEventID(),
		EventTime:     timestamppb.New(eventTime),
		Producer:      producer,
		SchemaVersion: SchemaVersion,
		CorrelationId: correlationID,
	}
}

// NewEventID returns a new UUIDv7 as a string.
func NewEventID() string {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system's random source does; uuid.New has the same dependency.
		panic(fmt.Sprintf("marketv1: generate UUIDv7: %v", err))
	}
	return id.String()
}

// ValidateEnvelope checks the fields a reader relies on: a UUID event id and an event time.
func ValidateEnvelope(e *Envelope) error {
	if e == nil {
		return fmt.Errorf("envelope: missing")
	}
	if e.GetEventId() == "" {
		return fmt.Errorf("envelope.event_id: missing")
	}
	if _, err := uuid.Parse(e.GetEventId()); err != nil {
		return fmt.Errorf("envelope.event_id: %q is not a UUID: %w", e.GetEventId(), err)
	}
	if e.GetEventTime() == nil {
		return fmt.Errorf("envelope.event_time: missing")
	}
	if err := e.GetEventTime().CheckValid(); err != nil {
		return fmt.Errorf("envelope.event_time: %w", err)
	}
	return nil
}
