package httpkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// encoding/json reads three kinds of body that no person means, without a word:
// a key given twice (the last one wins, so {"amount":"1","amount":"1000"} moves
// 1,000), a key that matches a field only case-insensitively ("AMOUNT" fills
// amount), and strings that are not UTF-8 (invalid bytes and lone surrogate
// escapes become U+FFFD, so the domain's own UTF-8 check never sees them).
// CheckJSON finds all three in the raw body, after encoding/json has accepted it,
// and names the field. encoding/json/v2 refuses them by itself but is not in the
// standard library without GOEXPERIMENT=jsonv2; this is the part of it purse needs.

// FieldError is a request body refused by CheckJSON: the field, as a path such as
// operations[2].amount (or "body" for the body as a whole), and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Reason }

// CheckJSON checks body, one JSON value that encoding/json has decoded into dst,
// for what encoding/json lets through: an object key given twice (in a map too),
// a key that names a field of dst's type only when case is ignored, a string or
// key that is not valid UTF-8 (raw bytes or a \u escape of half a surrogate
// pair), and anything after the value. With unknownOK, keys that name no field
// are ignored, as encoding/json does without DisallowUnknownFields; without it
// they are refused too. It returns nil or a *FieldError.
func CheckJSON(body []byte, dst any, unknownOK bool) error {
	c := checker{b: body, unknownOK: unknownOK}
	c.path = c.pathBuf[:0]
	c.ws()
	if err := c.value(shapeOf(reflect.TypeOf(dst))); err != nil {
		return err
	}
	c.ws()
	if c.i != len(c.b) {
		return &FieldError{Field: "body", Reason: "must hold exactly one JSON object"}
	}
	return nil
}

// shape is what CheckJSON needs to know of a Go type: which objects are structs
// (with field names) and which are maps, and what their values and elements are.
type shape struct {
	kind   shapeKind
	fields map[string]int // struct: JSON name -> index in sub
	names  []string       // struct: the JSON names, for case-insensitive lookups
	sub    []*shape       // struct: each field's shape; map, slice: [elem]
}

type shapeKind uint8

const (
	anyShape    shapeKind = iota // a scalar, json.RawMessage, interface{}, a json.Unmarshaler
	structShape                  // an object with known fields
	mapShape                     // an object with free keys
	sliceShape                   // an array
)

var (
	shapes     sync.Map // reflect.Type -> *shape
	anyValue   = &shape{kind: anyShape}
	unmarshal  = reflect.TypeFor[json.Unmarshaler]()
	rawMessage = reflect.TypeFor[json.RawMessage]()
)

func shapeOf(t reflect.Type) *shape {
	if t == nil {
		return anyValue
	}
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	s := buildShape(t, map[reflect.Type]*shape{})
	shapes.Store(t, s)
	return s
}

func buildShape(t reflect.Type, building map[reflect.Type]*shape) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := building[t]; ok {
		return s
	}
	if t == rawMessage || t.Implements(unmarshal) || reflect.PointerTo(t).Implements(unmarshal) {
		return anyValue
	}
	switch t.Kind() {
	case reflect.Struct:
		s := &shape{kind: structShape, fields: map[string]int{}}
		building[t] = s
		addFields(s, t, building)
		return s
	case reflect.Map:
		s := &shape{kind: mapShape}
		building[t] = s
		s.sub = []*shape{buildShape(t.Elem(), building)}
		return s
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // []byte is a base64 string
			return anyValue
		}
		s := &shape{kind: sliceShape}
		building[t] = s
		s.sub = []*shape{buildShape(t.Elem(), building)}
		return s
	}
	return anyValue
}

// addFields adds t's JSON fields to s as encoding/json names them (embedded
// structs without a tag lend theirs).
func addFields(s *shape, t reflect.Type, building map[reflect.Type]*shape) {
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" && tag == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			addFields(s, ft, building)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, ok := s.fields[name]; ok {
			continue
		}
		s.fields[name] = len(s.sub)
		s.names = append(s.names, name)
		s.sub = append(s.sub, buildShape(f.Type, building))
	}
}

// checker walks one JSON text. Its path is built only when it refuses something.
type checker struct {
	b         []byte
	i         int
	unknownOK bool
	path      []pathSeg
	pathBuf   [8]pathSeg
}

type pathSeg struct {
	name  string // a field; "" for an array index
	index int
}

func (c *checker) field() string {
	var b strings.Builder
	for _, p := range c.path {
		if p.name == "" {
			b.WriteString("[" + strconv.Itoa(p.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p.name)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

func (c *checker) fail(reason string) error { return &FieldError{Field: c.field(), Reason: reason} }

var errSyntax = &FieldError{Field: "body", Reason: "is not valid JSON"}

func (c *checker) ws() {
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *checker) value(s *shape) error {
	if c.i >= len(c.b) {
		return errSyntax
	}
	switch c.b[c.i] {
	case '{':
		return c.object(s)
	case '[':
		return c.array(s)
	case '"':
		_, _, ok, valid := c.str()
		if !ok {
			return errSyntax
		}
		if !valid {
			return c.fail("is not valid UTF-8")
		}
		return nil
	}
	// A number, true, false or null: encoding/json has checked its spelling.
	for c.i < len(c.b) {
		switch c.b[c.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return nil
		}
		c.i++
	}
	return nil
}

func (c *checker) array(s *shape) error {
	elem := anyValue
	if s.kind == sliceShape {
		elem = s.sub[0]
	}
	c.i++ // [
	c.ws()
	if c.i < len(c.b) && c.b[c.i] == ']' {
		c.i++
		return nil
	}
	for n := 0; ; n++ {
		c.path = append(c.path, pathSeg{index: n})
		if err := c.value(elem); err != nil {
			return err
		}
		c.path = c.path[:len(c.path)-1]
		if done, err := c.next(']'); done || err != nil {
			return err
		}
	}
}

// next reads what follows a member of an array or object: a comma (done is
// false, and the next member follows) or the closing bracket (done is true).
func (c *checker) next(closing byte) (done bool, err error) {
	c.ws()
	if c.i >= len(c.b) {
		return true, errSyntax
	}
	switch c.b[c.i] {
	case ',':
		c.i++
		c.ws()
		return false, nil
	case closing:
		c.i++
		return true, nil
	}
	return true, errSyntax
}

// object reads an object as a struct's fields (s is a structShape) or as free keys.
func (c *checker) object(s *shape) error {
	c.i++ // {
	c.ws()
	if c.i < len(c.b) && c.b[c.i] == '}' {
		c.i++
		return nil
	}
	var fields seenFields
	var keys freeKeys
	for {
		key, err := c.key()
		if err != nil {
			return err
		}
		var sub *shape
		if s.kind == structShape {
			sub, err = c.structField(s, key, &fields)
		} else {
			sub, err = c.freeKey(s, key, &keys)
		}
		if err != nil {
			return err
		}
		if err := c.member(s, key, sub); err != nil {
			return err
		}
		if s.kind == structShape {
			c.path = c.path[:len(c.path)-1]
		}
		if done, err := c.next('}'); done || err != nil {
			return err
		}
	}
}

// key reads an object's key and the colon after it, and returns the key as
// encoding/json reads it (unescaped).
func (c *checker) key() ([]byte, error) {
	raw, escaped, ok, valid := c.str()
	if !ok {
		return nil, errSyntax
	}
	c.ws()
	if c.i >= len(c.b) || c.b[c.i] != ':' {
		return nil, errSyntax
	}
	c.i++
	c.ws()
	if !valid {
		return nil, c.fail(fmt.Sprintf("has a key that is not valid UTF-8 (%q)", raw))
	}
	if escaped {
		return unescape(raw), nil
	}
	return raw, nil
}

// structField finds the struct field key names and pushes its name on the path (the
// caller pops it after the value). A field given twice is refused, and so is an
// unknown one unless unknown fields are allowed; then its value is read as anything.
func (c *checker) structField(s *shape, key []byte, seen *seenFields) (*shape, error) {
	idx, known := s.fields[string(key)] // no copy for a map lookup
	if !known {
		c.path = append(c.path, pathSeg{name: keyName(key)})
		return anyValue, c.unknownField(s, key)
	}
	c.path = append(c.path, pathSeg{name: s.names[idx]})
	if !seen.add(idx) {
		return nil, c.fail("is given more than once")
	}
	return s.sub[idx], nil
}

// unknownField refuses a key the struct has no field for, naming the field it
// matches but for case (encoding/json would have taken it silently), unless
// unknown fields are allowed.
func (c *checker) unknownField(s *shape, key []byte) error {
	for _, name := range s.names {
		if strings.EqualFold(name, string(key)) {
			return c.fail(fmt.Sprintf("is not a known field (field names are case-sensitive: did you mean %q?)", name))
		}
	}
	if !c.unknownOK {
		return c.fail("is not a known field")
	}
	return nil
}

// freeKey checks a key of an object with free keys (a map, or any object where
// any value is allowed) and returns the shape of its value.
func (c *checker) freeKey(s *shape, key []byte, keys *freeKeys) (*shape, error) {
	sub := anyValue
	if s.kind == mapShape {
		sub = s.sub[0]
	}
	if !keys.add(key) {
		return nil, c.fail(fmt.Sprintf("has the key %q more than once", key))
	}
	return sub, nil
}

// seenFields are the fields of one object given so far, by index: the first 64 in
// a bit set, without an allocation; any past them in a map.
type seenFields struct {
	first uint64
	more  map[int]bool
}

// add reports whether the field idx is new.
func (f *seenFields) add(idx int) bool {
	if idx < 64 {
		if f.first&(1<<idx) != 0 {
			return false
		}
		f.first |= 1 << idx
		return true
	}
	if f.more[idx] {
		return false
	}
	if f.more == nil {
		f.more = map[int]bool{}
	}
	f.more[idx] = true
	return true
}

// freeKeys are the keys seen in one object with free keys (metadata): a few are
// compared in place, without a map or a copy; a large object gets a map.
type freeKeys struct {
	few  [16][]byte
	n    int
	many map[string]struct{}
}

// add reports whether key is new.
func (k *freeKeys) add(key []byte) bool {
	if k.many != nil {
		if _, dup := k.many[string(key)]; dup {
			return false
		}
		k.many[string(key)] = struct{}{}
		return true
	}
	for _, seen := range k.few[:k.n] {
		if bytes.Equal(seen, key) {
			return false
		}
	}
	if k.n < len(k.few) {
		k.few[k.n] = key
		k.n++
		return true
	}
	k.many = make(map[string]struct{}, 2*len(k.few))
	for _, seen := range k.few {
		k.many[string(seen)] = struct{}{}
	}
	k.many[string(key)] = struct{}{}
	return true
}

// member reads one value of an object. A map's string values are refused under
// the map's own name, with the key in the reason (metadata's keys are data).
func (c *checker) member(s *shape, key []byte, sub *shape) error {
	if s.kind == structShape || c.i >= len(c.b) || c.b[c.i] != '"' {
		return c.value(sub)
	}
	_, _, ok, valid := c.str()
	if !ok {
		return errSyntax
	}
	if !valid {
		return c.fail(fmt.Sprintf("value of %q is not valid UTF-8", key))
	}
	return nil
}

// str reads a string at c.i: its raw bytes between the quotes, whether they hold
// an escape, whether the string is well formed, and whether it is valid UTF-8
// with no lone surrogate escape.
func (c *checker) str() (raw []byte, escaped, ok, valid bool) {
	if c.i >= len(c.b) || c.b[c.i] != '"' {
		return nil, false, false, false
	}
	start := c.i + 1
	valid = true
	j := start
	for j < len(c.b) {
		b := c.b[j]
		switch {
		case b == '"':
			c.i = j + 1
			return c.b[start:j], escaped, true, valid
		case b == '\\':
			escaped = true
			next, ok, v := c.escape(j)
			if !ok {
				return nil, false, false, false
			}
			j, valid = next, valid && v
		case b < utf8.RuneSelf:
			j++
		default:
			r, size := utf8.DecodeRune(c.b[j:])
			if r == utf8.RuneError && size == 1 {
				valid = false
			}
			j += size
		}
	}
	return nil, false, false, false
}

// escape reads the escape whose backslash is at c.b[j]: the index after it,
// whether it is well formed, and whether it is valid (a \u surrogate half must be
// a high one followed by a low one).
func (c *checker) escape(j int) (next int, ok, valid bool) {
	if j+1 >= len(c.b) {
		return 0, false, false
	}
	if c.b[j+1] != 'u' {
		return j + 2, true, true
	}
	r1, ok := hex4(c.b, j+2)
	if !ok {
		return 0, false, false
	}
	j += 6
	switch {
	case utf16.IsSurrogate(r1) && r1 < 0xdc00: // a high half: a low half must follow
		r2, ok := rune(0), false
		if j+1 < len(c.b) && c.b[j] == '\\' && c.b[j+1] == 'u' {
			r2, ok = hex4(c.b, j+2)
		}
		if ok && r2 >= 0xdc00 && r2 <= 0xdfff {
			return j + 6, true, true
		}
		return j, true, false
	case utf16.IsSurrogate(r1): // a low half alone
		return j, true, false
	}
	return j, true, true
}

// keyName is an unknown key as a field name in an error: as sent when it is
// printable ASCII, else Go-quoted in ASCII, so that an error never carries a
// control character and a look-alike such as "\u017fcopes" shows what it is.
func keyName(key []byte) string {
	for _, b := range key {
		if b < 0x20 || b > 0x7e {
			return strconv.QuoteToASCII(string(key))
		}
	}
	return string(key)
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(b[at:at+4]), 16, 16)
	return rune(v), err == nil
}

// unescape decodes a key with escapes as encoding/json would.
func unescape(raw []byte) []byte {
	var s string
	if json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s) != nil {
		return raw
	}
	return []byte(s)
}
