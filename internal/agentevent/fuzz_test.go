package agentevent

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzDecode feeds the decoder arbitrary records. It must never panic, must classify every
// failure as a *DecodeError, must accept exactly the JSON objects encoding/json accepts
// (when they carry an EventType string and the fields it knows have their types), and its
// sink must see the whole document exactly as encoding/json reads it.
func FuzzDecode(f *testing.F) {
	for _, pattern := range []string{"../../testdata/events/*.json", "../../testdata/events/malformed/*"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err == nil {
				f.Add(data)
			}
		}
	}
	for _, s := range []string{`{}`, `{"EventType":"X"}`, `[]`, `"\ud800"`, `{"EventType":"A","a":[[[[]]]]}`, `{"EventType":"A","n":-0.0e+1}`, `{"EventType":"A","n":1e400}`, `{"EventType":"A","n":-123456789012345678901234567890}`} {
		f.Add([]byte(s))
	}
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev Event
		sink := &treeSink{}
		err := d.Decode(data, &ev, sink)
		var want any
		jsonErr := json.Unmarshal(data, &want)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			switch de.Kind {
			case ErrKindInvalidJSON, ErrKindInvalidUTF8:
				// encoding/json takes invalid UTF-8 inside strings, and nesting deeper than
				// ours; anything else it must refuse too.
				if jsonErr == nil && utf8.Valid(data) && de.Msg != "" && !deep(data) {
					t.Fatalf("decoder refused JSON that encoding/json takes: %v", err)
				}
			case ErrKindNotAnObject:
				if _, isObject := want.(map[string]any); jsonErr != nil || isObject {
					t.Fatalf("not_an_object for %q (encoding/json: %v)", data, jsonErr)
				}
			}
			return
		}
		if jsonErr != nil {
			t.Fatalf("decoder took what encoding/json refuses (%v): %q", jsonErr, data)
		}
		if ev.EventType == "" {
			t.Fatal("an event without EventType was accepted")
		}
		if !jsonEqual(want, sink.root) {
			t.Fatalf("the sink saw %#v, encoding/json read %#v", sink.root, want)
		}
	})
}

// deep reports whether data nests deeper than the decoder allows.
func deep(data []byte) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == '{' || c == '['):
			depth++
			if depth > maxDepth {
				return true
			}
		case !inString && (c == '}' || c == ']'):
			depth--
		}
	}
	return false
}

// jsonEqual compares decoded documents, with NaN-free float equality.
func jsonEqual(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// FuzzDecodeCached checks that a decoder with a cache decodes every record as one
// without does: the record decoded twice (the second time from the cache, where its
// values went), by a decoder whose cache already holds the fixtures' values.
func FuzzDecodeCached(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/events/*.json")
	cached := NewDecoder()
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		var ev Event
		_ = cached.Decode(data, &ev, nil)
	}
	reference := NewDecoderSharing(nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		want := decodeWith(reference, data)
		for round := range 2 {
			if got := decodeWith(cached, data); !reflect.DeepEqual(want, got) {
				t.Fatalf("round %d: with the cache %#v, without %#v", round, got, want)
			}
		}
	})
}
