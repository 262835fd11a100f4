package topics

import (
	"errors"
	"fmt"
)

// ErrUnknownTopic is returned for a topic name the catalog does not hold.
var ErrUnknownTopic = errors.New("topic is not in the catalog")

// ErrSchemaMismatch is returned when a record's schema header names another message than its topic's.
var ErrSchemaMismatch = errors.New("record schema does not match the topic's value type")

// ErrRawTopic is returned when typed encoding is asked of a topic whose values are raw bytes.
var ErrRawTopic = errors.New("topic holds raw bytes, not typed events")

// FieldError names the field of a value that is missing or invalid.
type FieldError struct {
	// Field is the dotted proto field path, e.g. "envelope.event_id".
	Field string
	// Err says what is wrong with it.
	Err error
}

func (e *FieldError) Error() string { return fmt.Sprintf("field %s: %v", e.Field, e.Err) }

func (e *FieldError) Unwrap() error { return e.Err }

// LineError names the input line a JSON value was read from.
type LineError struct {
	// Line is the 1-based line number.
	Line int
	// Err is what went wrong on that line.
	Err error
}

func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }
