package nextauth

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// The claims mapping between authgate's Token and NextAuth's flat
// payload; the package doc describes it.

// tokenInfo is what the codec needs to know about a destination type: the
// index of its session-id field and of its claims field, and the JSON
// names of its own members.
type tokenInfo struct {
	id, claims int // field indexes, -1 when absent
	hasClaims  bool
	own        map[string]bool
	fast       map[string]fastField // members fastDecode can set
}

// fastField is a string or int64 field that fastDecode sets directly.
type fastField struct {
	index int
	kind  reflect.Kind
}

var tokenInfos sync.Map // reflect.Type → *tokenInfo

// infoFor returns the tokenInfo of struct type t.
func infoFor(t reflect.Type) *tokenInfo {
	if v, ok := tokenInfos.Load(t); ok {
		return v.(*tokenInfo)
	}
	ti := &tokenInfo{id: -1, claims: -1, own: map[string]bool{"sid": true}, fast: map[string]fastField{}}
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if name != "" && name != "claims" && !strings.Contains(f.Tag.Get("json"), ",string") {
			if k := f.Type.Kind(); k == reflect.String || k == reflect.Int64 {
				ti.fast[name] = fastField{index: i, kind: k}
			}
		}
		switch name {
		case "":
			continue
		case "jti":
			if f.Type.Kind() == reflect.String {
				ti.id = i
			}
		case "claims":
			ti.claims = i
			ti.hasClaims = hasJSONFields(f.Type)
			continue
		}
		ti.own[name] = true
	}
	v, _ := tokenInfos.LoadOrStore(t, ti)
	return v.(*tokenInfo)
}

// jsonName is the member name encoding/json uses for f, or "" when it
// skips f.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	for i := 0; i < len(tag); i++ {
		if tag[i] == ',' {
			tag = tag[:i]
			break
		}
	}
	if tag == "" {
		return f.Name
	}
	return tag
}

// hasJSONFields reports whether values of t can carry any JSON member.
func hasJSONFields(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return true // a map or another type: decode it from the top level
	}
	for i := range t.NumField() {
		if jsonName(t.Field(i)) != "" {
			return true
		}
	}
	return false
}

// encodePayload renders value (a *Token[T]) as NextAuth's flat payload.
func encodePayload(value any) ([]byte, error) {
	js, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("nextauth: encode: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, fmt.Errorf("%w: the value is not a JSON object", ErrClaims)
	}
	if raw, ok := m["claims"]; ok {
		delete(m, "claims")
		var cm map[string]json.RawMessage
		if err := json.Unmarshal(raw, &cm); err != nil {
			return nil, fmt.Errorf("%w: the app's claims are not a JSON object", ErrClaims)
		}
		for k, v := range cm {
			if _, taken := m[k]; taken || k == "sid" || k == "claims" || isOwnName(value, k) {
				return nil, fmt.Errorf("%w: the app's claim %q has the name of a built-in claim", ErrClaims, k)
			}
			m[k] = v
		}
	}
	if jti, ok := m["jti"]; ok && string(jti) != `""` && isToken(value) {
		m["sid"] = jti
	}
	return json.Marshal(m)
}

// isOwnName reports whether k is a member name of value's own type (also
// one omitted from this value's JSON because it was empty).
func isOwnName(value any, k string) bool {
	t := reflect.TypeOf(value)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return false
	}
	return infoFor(t).own[k]
}

// isToken reports whether value is a struct (pointer) with a "jti"
// string member, such as an *authgate.Token; other values (a map of
// claims) are encoded as they are.
func isToken(value any) bool {
	t := reflect.TypeOf(value)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t != nil && t.Kind() == reflect.Struct && infoFor(t).id >= 0
}

// decodePayload reads NextAuth's flat payload into dst (a *Token[T]).
// A payload of authgate's own shape (only the Token's string and integer
// members, plain ASCII strings, integer numbers) is read by fastDecode;
// everything else by encoding/json, with the same result (FuzzFastDecode
// checks that both agree).
func decodePayload(payload []byte, dst any) error {
	if v := reflect.ValueOf(dst); v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct {
		if fastDecode(payload, v.Elem(), infoFor(v.Elem().Type())) {
			return nil
		}
	}
	return slowDecode(payload, dst)
}

// slowDecode is decodePayload with encoding/json.
func slowDecode(payload []byte, dst any) error {
	if err := json.Unmarshal(payload, dst); err != nil {
		return fmt.Errorf("%w: %w", ErrClaims, err)
	}
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	ti := infoFor(v.Type())
	sid, foreign, ok := scanTop(payload, ti.own)
	if !ok {
		return fmt.Errorf("%w: payload members cannot be read", ErrClaims)
	}
	if sid != nil && ti.id >= 0 {
		var s string
		if sid[0] != '"' || json.Unmarshal(sid, &s) != nil || s == "" {
			return fmt.Errorf("%w: sid is not a string", ErrClaims)
		}
		v.Field(ti.id).SetString(s)
	}
	if foreign && ti.claims >= 0 && ti.hasClaims {
		if err := json.Unmarshal(payload, v.Field(ti.claims).Addr().Interface()); err != nil {
			return fmt.Errorf("%w: app claims: %w", ErrClaims, err)
		}
	}
	return nil
}

// scanTop walks the members of the JSON object b (which json.Unmarshal has
// already accepted) and returns the raw value of "sid" and whether any
// member is not in own. It refuses (ok false) escaped member names, which
// it could not compare, and a repeated "sid".
func scanTop(b []byte, own map[string]bool) (sid []byte, foreign, ok bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil, false, true
	}
	for i < len(b) {
		if b[i] != '"' {
			return nil, false, false
		}
		end, escaped := stringEnd(b, i)
		if end < 0 || escaped {
			return nil, false, false
		}
		key := b[i+1 : end]
		i = skipWS(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return nil, false, false
		}
		i = skipWS(b, i+1)
		vEnd := valueEnd(b, i)
		if vEnd < 0 {
			return nil, false, false
		}
		if string(key) == "sid" {
			if sid != nil {
				return nil, false, false
			}
			sid = b[i:vEnd]
		} else if !own[string(key)] {
			foreign = true
		}
		i = skipWS(b, vEnd)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		return sid, foreign, i < len(b) && b[i] == '}' && skipWS(b, i+1) == len(b)
	}
	return nil, false, false
}

// fastDecode sets v's fields from the JSON object b when every member is
// one of ti.fast (or "sid") with a value it can read exactly as
// encoding/json would: null, a string of printable ASCII without escapes,
// or an integer. It reports false, leaving the rest to slowDecode, for
// anything else: another member (the app's claims, roles), an escape,
// a float, invalid JSON. Fields it set before giving up are set again by
// slowDecode from the same members.
func fastDecode(b []byte, v reflect.Value, ti *tokenInfo) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	var sid []byte
	if i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b)
	}
	for i < len(b) {
		if b[i] != '"' {
			return false
		}
		end, escaped := stringEnd(b, i)
		if end < 0 || escaped {
			return false
		}
		key := b[i+1 : end]
		i = skipWS(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		f, known := ti.fast[string(key)]
		isSID := string(key) == "sid"
		if !known && !isSID {
			return false
		}
		var n int
		switch {
		case i < len(b) && b[i] == '"':
			n = plainString(b[i:])
			if n < 0 || (!isSID && f.kind != reflect.String) {
				return false
			}
			s := b[i+1 : i+n-1]
			if isSID {
				if sid != nil || len(s) == 0 {
					return false
				}
				sid = s
			} else {
				v.Field(f.index).SetString(string(s))
			}
		case !isSID && len(b)-i >= 4 && string(b[i:i+4]) == "null":
			n = 4 // encoding/json leaves the field as it is
		case !isSID && f.kind == reflect.Int64:
			n = integer(b[i:])
			if n < 0 {
				return false
			}
			x, err := strconv.ParseInt(string(b[i:i+n]), 10, 64)
			if err != nil {
				return false
			}
			v.Field(f.index).SetInt(x)
		default:
			return false
		}
		i = skipWS(b, i+n)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i >= len(b) || b[i] != '}' || skipWS(b, i+1) != len(b) {
			return false
		}
		if sid != nil && ti.id >= 0 {
			v.Field(ti.id).SetString(string(sid))
		}
		return true
	}
	return false
}

// plainString returns the length of the JSON string at the start of b,
// quotes included, when it holds only printable ASCII without escapes;
// otherwise -1.
func plainString(b []byte) int {
	for j := 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1
		case c < 0x20 || c > 0x7e || c == '\\':
			return -1
		}
	}
	return -1
}

// integer returns the length of the JSON integer at the start of b (an
// optional minus, then 0 or digits not starting with 0), followed by a
// delimiter; otherwise -1.
func integer(b []byte) int {
	j := 0
	if j < len(b) && b[j] == '-' {
		j++
	}
	start := j
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == start || (b[start] == '0' && j-start > 1) {
		return -1
	}
	if j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		return -1
	}
	return j
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index of the quote closing the string starting at
// b[i], and whether it holds an escape.
func stringEnd(b []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped
		}
	}
	return -1, escaped
}

// valueEnd returns the index just past the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		end, _ := stringEnd(b, i)
		if end < 0 {
			return -1
		}
		return end + 1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, _ := stringEnd(b, j)
				if end < 0 {
					return -1
				}
				j = end
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}
