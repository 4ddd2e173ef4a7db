// Package jsondecode is what the contact decoders (contactevent, contactrecord) share:
// their error, the reading of a record with encoding/json into a wire struct, and the
// parsing of Amazon Connect's timestamps. It knows nothing of either model.
package jsondecode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/otelcol-amazonconnect/otelcol-amazonconnect/internal/agentevent"
)

// Kinds of decode failure, the error.type of a malformed record's log record. Those
// agentevent also has mean the same there.
const (
	KindInvalidUTF8      = agentevent.ErrKindInvalidUTF8
	KindInvalidJSON      = agentevent.ErrKindInvalidJSON
	KindNotAnObject      = agentevent.ErrKindNotAnObject
	KindWrongType        = agentevent.ErrKindWrongType
	KindMissingField     = agentevent.ErrKindMissingField
	KindInvalidTimestamp = agentevent.ErrKindInvalidTimestamp
	// KindInvalidValue is a value of the right type that cannot be: a NUL in an identity.
	KindInvalidValue = "invalid_value"
)

// DecodeError says why a record is not what its decoder reads.
type DecodeError struct {
	Kind string
	// Field is the JSON path of the offending field, in the model's spelling (its keys
	// only, never the record's own), empty for whole-record failures.
	Field string
	// Msg says what is wrong without quoting the record.
	Msg string
	// Detail quotes the record's content that is wrong (a bad timestamp, a source, a
	// syntax error's culprit), empty if none: it may hold personal data.
	Detail string
}

// Error says what is wrong and where, quoting the culprit.
func (e *DecodeError) Error() string {
	msg := e.Msg
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Field == "" {
		return msg
	}
	return e.Field + ": " + msg
}

// Redacted says what is wrong and where without a byte of the record's content: Field
// names only the model's keys, and Detail is left out.
func (e *DecodeError) Redacted() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

// ErrorType is Kind, for whoever handles the errors of several decoders alike.
func (e *DecodeError) ErrorType() string { return e.Kind }

// Trim returns the record without the whitespace around it (a Firehose or a producer
// may add a newline), or a DecodeError if it is not UTF-8 or not a JSON object.
func Trim(data []byte) ([]byte, error) {
	data = bytes.TrimSpace(data)
	if !utf8.Valid(data) {
		return nil, &DecodeError{Kind: KindInvalidUTF8, Msg: "record is not valid UTF-8"}
	}
	if len(data) == 0 || data[0] != '{' {
		if err := syntaxError(data); err != nil {
			return nil, err
		}
		return nil, &DecodeError{Kind: KindNotAnObject, Msg: "record is a JSON " + jsonKind(data) + ", not an object"}
	}
	return data, nil
}

// Unmarshal reads data (one JSON value, Trim'd) into the wire struct v. A type mismatch
// becomes a wrong_type error naming the field, under prefix ("detail." for one inside
// an envelope). Unknown fields are ignored.
func Unmarshal(data []byte, v any, prefix string) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		got, literal, _ := strings.Cut(te.Value, " ")
		return &DecodeError{Kind: KindWrongType, Field: prefix + te.Field, Msg: "want " + wantKind(te.Type) + ", got " + got, Detail: literal}
	}
	return fromSyntax(err)
}

// syntaxError returns an invalid_json error if data is not one JSON value, else nil.
func syntaxError(data []byte) error {
	if json.Valid(data) {
		return nil
	}
	var v any
	return fromSyntax(json.Unmarshal(data, &v))
}

func fromSyntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &DecodeError{Kind: KindInvalidJSON, Msg: fmt.Sprintf("record is not valid JSON at offset %d", se.Offset), Detail: se.Error()}
	}
	return &DecodeError{Kind: KindInvalidJSON, Msg: "record is not valid JSON", Detail: err.Error()}
}

// jsonKind names the kind of the valid JSON value data starts with.
func jsonKind(data []byte) string {
	switch {
	case len(data) == 0:
		return "nothing"
	case data[0] == '[':
		return "array"
	case data[0] == '"':
		return "string"
	case data[0] == 't' || data[0] == 'f':
		return "boolean"
	case data[0] == 'n':
		return "null"
	}
	return "number"
}

func wantKind(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Bool:
		return "boolean"
	}
	return t.Kind().String()
}

// Kind names the kind of a raw JSON value ("object", "string", ...), "null" for an absent one.
func Kind(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "null"
	}
	if raw[0] == '{' {
		return "object"
	}
	return jsonKind(raw)
}

// unsetBefore is when times start to mean something: AWS writes 1970-01-01T00:00:00.001Z
// for "not set".
var unsetBefore = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Time parses an ISO 8601 UTC time at field, with or without fractional seconds. An
// empty string (absent, null) and times before 2000 give the zero time.
func Time(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := agentevent.ParseTimestamp([]byte(s))
	if err != nil {
		return time.Time{}, &DecodeError{Kind: KindInvalidTimestamp, Field: field, Msg: "not an ISO 8601 timestamp (want yyyy-mm-ddThh:mm:ss[.sss]Z)", Detail: strconv.Quote(s)}
	}
	if t.Before(unsetBefore) {
		return time.Time{}, nil
	}
	return t, nil
}

// Times parses each time of a record into its destination, stopping at the first error.
type Times struct{ err error }

// Parse sets *dst to the time s at field, unless an earlier one failed.
func (ts *Times) Parse(dst *time.Time, field, s string) {
	if ts.err != nil {
		return
	}
	*dst, ts.err = Time(field, s)
}

// Err is the first failure.
func (ts *Times) Err() error { return ts.err }

// Upper is an enum value in upper case: AWS's samples have "Voice" for VOICE.
func Upper(s string) string { return strings.ToUpper(s) }

// IDSeparator joins the parts of a duplicate-removal key. IdentityPart refuses it inside
// a part, so that two different identities can never make the same key.
const IDSeparator = "\x00"

// IdentityPart checks that s, the value of an identity field, can be a key's part.
func IdentityPart(field, s string) error {
	if strings.Contains(s, IDSeparator) {
		return &DecodeError{Kind: KindInvalidValue, Field: field, Msg: "holds a NUL character"}
	}
	return nil
}

// Nanos is t in unix nanoseconds, 0 for the zero time.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
