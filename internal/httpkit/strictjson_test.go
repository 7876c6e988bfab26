package httpkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// strictBody has each kind of place a key can be: struct fields, a map, a slice of
// structs, a raw value, an embedded struct.
type strictBody struct {
	Amount     *string           `json:"amount"`
	Reference  string            `json:"reference"`
	Metadata   map[string]string `json:"metadata"`
	Operations []strictOp        `json:"operations"`
	Scopes     []string          `json:"scopes"`
	Skipped    string            `json:"-"`
	embedded
}

type embedded struct {
	Atomic bool `json:"atomic"`
}

type strictOp struct {
	Op        string          `json:"op"`
	ExpiresIn json.RawMessage `json:"expiresIn"`
}

func TestCheckJSON(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		unknownOK bool
		want      *FieldError
	}{
		{"plain", `{"amount":"1","reference":"r","metadata":{"a":"1","A":"2"},"atomic":true}`, false, nil},
		{"white space and escapes", " {\"\\u0061mount\" : \"1\" , \"reference\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\"\"}\n", false, nil},
		{"non-ASCII text", `{"reference":"Grüße 😀","metadata":{"ключ":"значение"}}`, false, nil},
		{"empty object", `{}`, false, nil},
		{"arrays", `{"scopes":["a","b"],"operations":[{"op":"x","expiresIn":{"a":1,"b":[1,{"c":2}]}},{}]}`, false, nil},
		{"amount twice", `{"amount":"1","amount":"1000"}`, false, &FieldError{"amount", "is given more than once"}},
		{"amount twice, once escaped", `{"amount":"1","\u0061mount":"1000"}`, false, &FieldError{"amount", "is given more than once"}},
		{"upper-case key", `{"AMOUNT":"1000"}`, false, &FieldError{"AMOUNT", `is not a known field (field names are case-sensitive: did you mean "amount"?)`}},
		{"a repeat after every other field", `{"metadata":{},"atomic":true,"reference":"x","scopes":[],"amount":"1","operations":[{"op":"a","expiresIn":1}],"atomic":false}`, false, &FieldError{"atomic", "is given more than once"}},
		{"key that folds in Unicode (long s)", "{\"\u017fcopes\":[]}", false, &FieldError{`"\u017fcopes"`, `is not a known field (field names are case-sensitive: did you mean "scopes"?)`}},
		{"embedded field in another case", `{"Atomic":true}`, false, &FieldError{"Atomic", `is not a known field (field names are case-sensitive: did you mean "atomic"?)`}},
		{"unknown key", `{"colour":"red"}`, false, &FieldError{"colour", "is not a known field"}},
		{"unknown key allowed", `{"colour":"red","amount":"1"}`, true, nil},
		{"unknown key allowed, case variant not", `{"colour":"red","Amount":"1"}`, true, &FieldError{"Amount", `is not a known field (field names are case-sensitive: did you mean "amount"?)`}},
		{"unknown key with a control character", `{"a\u001bb":1}`, false, &FieldError{`"a\x1bb"`, "is not a known field"}},
		{"a field named -", `{"Skipped":"x"}`, false, &FieldError{"Skipped", "is not a known field"}},
		{"metadata key twice", `{"metadata":{"a":"1","b":"2","a":"3"}}`, false, &FieldError{"metadata", `has the key "a" more than once`}},
		{"key twice in an operation", `{"operations":[{"op":"a"},{"op":"b","op":"c"}]}`, false, &FieldError{"operations[1].op", "is given more than once"}},
		{"key twice in a raw value", `{"operations":[{"expiresIn":{"s":1,"s":2}}]}`, false, &FieldError{"operations[0].expiresIn", `has the key "s" more than once`}},
		{"case variant in an operation", `{"operations":[{"OP":"a"}]}`, false, &FieldError{"operations[0].OP", `is not a known field (field names are case-sensitive: did you mean "op"?)`}},
		{"invalid UTF-8 in a value", "{\"reference\":\"caf\xe9\"}", false, &FieldError{"reference", "is not valid UTF-8"}},
		{"invalid UTF-8 in a slice", "{\"scopes\":[\"ok\",\"\xff\"]}", false, &FieldError{"scopes[1]", "is not valid UTF-8"}},
		{"invalid UTF-8 in a metadata value", "{\"metadata\":{\"k\":\"\xc0\xaf\"}}", false, &FieldError{"metadata", `value of "k" is not valid UTF-8`}},
		{"invalid UTF-8 in a metadata key", "{\"metadata\":{\"\xe9\":\"v\"}}", false, &FieldError{"metadata", `has a key that is not valid UTF-8 ("\xe9")`}},
		{"invalid UTF-8 in a field key", "{\"\xe9\":\"v\"}", false, &FieldError{"body", `has a key that is not valid UTF-8 ("\xe9")`}},
		{"encoded surrogate", "{\"reference\":\"\xed\xa0\x80\"}", false, &FieldError{"reference", "is not valid UTF-8"}},
		{"lone high surrogate", `{"reference":"\ud800"}`, false, &FieldError{"reference", "is not valid UTF-8"}},
		{"high surrogate then a letter", `{"reference":"\ud800\u0041"}`, false, &FieldError{"reference", "is not valid UTF-8"}},
		{"lone low surrogate", `{"reference":"\udc00x"}`, false, &FieldError{"reference", "is not valid UTF-8"}},
		{"surrogate pair", `{"reference":"\uD83D\uDE00"}`, false, nil},
		{"bytes after the object", `{"amount":"1"}]`, false, &FieldError{"body", "must hold exactly one JSON object"}},
		{"a second object", `{} {}`, false, &FieldError{"body", "must hold exactly one JSON object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *FieldError
			if err := CheckJSON([]byte(tt.body), &strictBody{}, tt.unknownOK); err != nil && !errors.As(err, &got) {
				t.Fatalf("error %v is not a *FieldError", err)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("CheckJSON(%s) (-got +want):\n%s", tt.body, diff)
			}
		})
	}
}

// tokenKeys walks body with encoding/json's tokenizer and reports whether an
// object repeats a key, and the keys of the top-level object.
func tokenKeys(body []byte) (dup bool, top []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		object bool
		keys   map[string]bool
		expect bool // the next token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return dup, top, true
		}
		if err != nil {
			return false, nil, false
		}
		var f *frame
		if len(stack) > 0 {
			f = stack[len(stack)-1]
		}
		if f != nil && f.object && f.expect {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k := tok.(string)
			if f.keys[k] {
				dup = true
			}
			f.keys[k] = true
			if len(stack) == 1 {
				top = append(top, k)
			}
			f.expect = false
			continue
		}
		if f != nil && f.object {
			f.expect = true // this token is a value (or opens one)
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, expect: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
	}
}

// FuzzCheckJSON: whatever the bytes, CheckJSON does not panic and refuses only
// with a *FieldError. On a body encoding/json reads into strictBody, it refuses
// every body with a repeated key, a top-level key that is not a field spelled
// exactly, or bytes that are not UTF-8; and accepts only bodies with none of them.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{
		`{"amount":"1","amount":"1000"}`, `{"AMOUNT":"1"}`, `{"metadata":{"a":"1","a":"2"}}`, "{\"reference\":\"\xe9\"}",
		`{"reference":"\ud800"}`, `{"operations":[{"op":"a","expiresIn":{"x":1}}]}`, `{"scopes":["a"],"atomic":true}`, `{}]`,
		`{"\u0061mount":"1","amount":"2"}`, `{"reference":"\uD83D\uDE00"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := CheckJSON(body, &strictBody{}, false)
		var fe *FieldError
		if err != nil && (!errors.As(err, &fe) || fe.Field == "" || fe.Reason == "") {
			t.Fatalf("CheckJSON(%q) = %#v", body, err)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		var v strictBody
		if dec.Decode(&v) != nil || dec.More() {
			return // encoding/json refuses it first
		}
		valid := utf8.Valid(body)
		if !valid {
			if err == nil {
				t.Fatalf("CheckJSON accepted bytes that are not UTF-8: %q", body)
			}
			return // the tokenizer's keys are not the bytes' keys
		}
		dup, top, ok := tokenKeys(body)
		if !ok {
			return // trailing bytes the tokenizer reads as a second value
		}
		exact := true
		for _, k := range top {
			switch k {
			case "amount", "reference", "metadata", "operations", "scopes", "atomic":
			default:
				exact = false
			}
		}
		if (dup || !exact) && err == nil {
			t.Fatalf("CheckJSON accepted %q (repeated key %v, exact keys %v)", body, dup, exact)
		}
		if !dup && exact && err != nil && !strings.Contains(err.Error(), "UTF-8") && !strings.Contains(err.Error(), "not a known field") && !strings.Contains(err.Error(), "exactly one") {
			t.Fatalf("CheckJSON refused %q: %v", body, err)
		}
	})
}

// BenchmarkCheckJSON is the strict check alone on 1,000 operations with metadata,
// the largest body the admin API reads through encoding/json.
func BenchmarkCheckJSON(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"operations":[`)
	for i := range 1000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"op":"charge","expiresIn":"1m","metadata":{"campaign":"spring","to":"+491511234567"}}`)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	type op struct {
		Op        string            `json:"op"`
		ExpiresIn json.RawMessage   `json:"expiresIn"`
		Metadata  map[string]string `json:"metadata"`
	}
	var dst struct {
		Operations []op `json:"operations"`
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckJSON(body, &dst, false); err != nil {
			b.Fatal(err)
		}
	}
}
