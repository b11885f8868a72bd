package nextauth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The claims mapping between authgate's Token and NextAuth's flat
// payload; the package doc describes it.

// tokenInfo is what the codec needs to know about a destination type: the
// index of its session-id field and of its claims field, and the JSON
// names of its own members and of its claims'.
type tokenInfo struct {
	id, claims    int // field indexes, -1 when absent
	sub, authTime int // "sub" (string) and "auth_time" (int64) field indexes, -1 when absent
	hasClaims     bool
	// claimNames are the exact member names the claims type reads; nil
	// when it reads any (a map).
	claimNames map[string]bool
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
	ti := &tokenInfo{id: -1, claims: -1, sub: -1, authTime: -1, own: map[string]bool{"sid": true}, fast: map[string]fastField{}}
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
		case "sub":
			if f.Type.Kind() == reflect.String {
				ti.sub = i
			}
		case "auth_time":
			if f.Type.Kind() == reflect.Int64 {
				ti.authTime = i
			}
		case "claims":
			ti.claims = i
			ti.hasClaims = hasJSONFields(f.Type)
			ti.claimNames = memberNames(f.Type)
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

// memberNames returns the JSON member names encoding/json reads into a
// struct type t (its fields', and those promoted from embedded structs),
// or nil when t is not a struct (a map reads any member).
func memberNames(t reflect.Type) map[string]bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	names := map[string]bool{}
	addMemberNames(t, names, 0)
	return names
}

func addMemberNames(t reflect.Type, names map[string]bool, depth int) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		if f.Anonymous && (tag == "" || tag[0] == ',') {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if depth < 8 {
					addMemberNames(ft, names, depth+1)
				}
				continue
			}
		}
		if name := jsonName(f); name != "" {
			names[name] = true
		}
	}
}

// takesClaim reports whether the member name k, not one of the token's
// own, goes to the app's claims.
func (ti *tokenInfo) takesClaim(k string) bool {
	if ti.claims < 0 || !ti.hasClaims {
		return false
	}
	if ti.claimNames == nil {
		return true
	}
	return ti.claimNames[k]
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
	if isToken(value) {
		if jti, ok := m["jti"]; ok && string(jti) != `""` {
			m["sid"] = jti
		}
		// The claim a Next.js app's callbacks read the user's id from
		// (token.id = user.id at sign-in), unless the app's claims
		// write their own.
		if _, ok := m["id"]; !ok {
			if sub, ok := m["sub"]; ok {
				m["id"] = sub
			}
		}
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

// decodePayload reads NextAuth's flat payload into dst (a *Token[T]),
// matching member names exactly. A payload of authgate's own shape (only
// the Token's string and integer members, plain ASCII strings, integer
// numbers) is read by fastDecode; everything else by slowDecode, with the
// same result (FuzzFastDecode checks that both agree). A token without
// "sid" gets the session id lineageID derives. now is read only for a
// payload with "nbf".
func decodePayload(payload []byte, dst any, now func() time.Time) error {
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return decodeOther(payload, dst, now)
	}
	v = v.Elem()
	ti := infoFor(v.Type())
	ok, sid := fastDecode(payload, v, ti)
	if !ok {
		var err error
		if sid, err = slowDecode(payload, v, ti, now); err != nil {
			return err
		}
	}
	if !sid && ti.id >= 0 && ti.sub >= 0 && v.Field(ti.id).String() != "" {
		var authTime int64
		if ti.authTime >= 0 {
			authTime = v.Field(ti.authTime).Int()
		}
		v.Field(ti.id).SetString(lineageID(v.Field(ti.sub).String(), authTime))
	}
	return nil
}

// lineageID is the session id of a token without "sid". NextAuth gives a
// token a new "jti" whenever it re-encodes it (every session refresh), so
// the jti names one copy, not the session; what it copies unchanged are
// the other claims, among them "sub" and, when the app's jwt callback sets
// it, "auth_time". The id is derived from those two, so every copy of one
// sign-in has it and a sign-out holds against them all. Sessions of one
// subject signed in within the same second, or all of a subject's tokens
// without auth_time, share it: signing one out ends them all (failing
// closed). It has the shape of authgate's own ids: 22 base64url
// characters.
func lineageID(sub string, authTime int64) string {
	h := sha256.New()
	h.Write([]byte("authgate nextauth session lineage v1\x00"))
	h.Write([]byte(sub))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, authTime, 10))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// notBeforeSkew is how far ahead of the clock a token's "nbf" may be, as
// for its "iat" in authgate (and NextAuth's own 15 s tolerance).
const notBeforeSkew = 15 * time.Second

// checkNotBefore refuses a payload whose "nbf" (raw, as JSON) is more than
// notBeforeSkew after now, as NextAuth's own decode (jose's jwtDecrypt)
// does, and one whose "nbf" is not a number.
func checkNotBefore(raw []byte, now func() time.Time) error {
	var nbf float64
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) || json.Unmarshal(raw, &nbf) != nil {
		return fmt.Errorf("%w: nbf is not a number", ErrClaims)
	}
	if nbf > float64(now().Add(notBeforeSkew).Unix()) {
		return fmt.Errorf("%w: nbf is %v ahead", ErrNotYetValid, time.Duration((nbf-float64(now().Unix()))*float64(time.Second)).Round(time.Second))
	}
	return nil
}

// decodeOther decodes the payload into a destination that is not a
// struct (a map of claims), checking "nbf" as for a token.
func decodeOther(payload []byte, dst any, now func() time.Time) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(payload, &members); err != nil {
		return fmt.Errorf("%w: %w", ErrClaims, err)
	}
	if raw, ok := members["nbf"]; ok {
		if err := checkNotBefore(raw, now); err != nil {
			return err
		}
	}
	if err := json.Unmarshal(payload, dst); err != nil {
		return fmt.Errorf("%w: %w", ErrClaims, err)
	}
	return nil
}

// slowDecode is decodePayload with encoding/json, for v (a Token-like
// struct): only members whose names are exactly the JSON names of v's own
// fields reach them, and only those whose names are exactly those of the
// claims' fields (any other member, for a map) reach the claims, so
// {"Role":"admin"} is not the role and "JTI" not the session id
// (encoding/json alone would match names case-insensitively). It reports
// whether the payload had a "sid", which sets the id. It refuses (with
// ErrClaims) invalid JSON, escaped member names, which it could not
// compare, and a repeated "sid"; a future "nbf" with ErrNotYetValid.
func slowDecode(payload []byte, v reflect.Value, ti *tokenInfo, now func() time.Time) (bool, error) {
	if !json.Valid(payload) {
		return false, fmt.Errorf("%w: the payload is not a JSON object", ErrClaims)
	}
	var sid []byte
	var nbfErr error
	own, claims := []byte{'{'}, []byte{'{'}
	add := func(obj []byte, key string, raw []byte) []byte {
		if len(obj) > 1 {
			obj = append(obj, ',')
		}
		obj = strconv.AppendQuote(obj, key)
		obj = append(obj, ':')
		return append(obj, raw...)
	}
	ok := eachMember(payload, func(key string, raw []byte) bool {
		switch {
		case key == "sid":
			if sid != nil {
				return false
			}
			sid = raw
			return true
		case key == "nbf":
			if nbfErr = checkNotBefore(raw, now); nbfErr != nil {
				return false
			}
		}
		if ti.own[key] {
			own = add(own, key, raw)
		} else if ti.takesClaim(key) {
			claims = add(claims, key, raw)
		}
		return true
	})
	if nbfErr != nil {
		return false, nbfErr
	}
	if !ok {
		return false, fmt.Errorf("%w: payload members cannot be read", ErrClaims)
	}
	own, claims = append(own, '}'), append(claims, '}')
	if err := json.Unmarshal(own, v.Addr().Interface()); err != nil {
		return false, fmt.Errorf("%w: %w", ErrClaims, err)
	}
	if len(claims) > 2 {
		if err := json.Unmarshal(claims, v.Field(ti.claims).Addr().Interface()); err != nil {
			return false, fmt.Errorf("%w: app claims: %w", ErrClaims, err)
		}
	}
	if sid != nil && ti.id >= 0 {
		var s string
		if sid[0] != '"' || json.Unmarshal(sid, &s) != nil || s == "" {
			return false, fmt.Errorf("%w: sid is not a string", ErrClaims)
		}
		v.Field(ti.id).SetString(s)
	}
	return sid != nil, nil
}

// eachMember calls fn with the name and raw value of each member of the
// JSON object b (which json.Valid has accepted), in order, until fn
// returns false. It reports false when fn did, and for escaped member
// names, which it could not compare.
func eachMember(b []byte, fn func(key string, raw []byte) bool) bool {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return true
	}
	for i < len(b) {
		if b[i] != '"' {
			return false
		}
		end, escaped := stringEnd(b, i)
		if end < 0 || escaped {
			return false
		}
		key := string(b[i+1 : end])
		i = skipWS(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
		vEnd := valueEnd(b, i)
		if vEnd < 0 || !fn(key, b[i:vEnd]) {
			return false
		}
		i = skipWS(b, vEnd)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		return i < len(b) && b[i] == '}' && skipWS(b, i+1) == len(b)
	}
	return false
}

// fastDecode sets v's fields from the JSON object b when every member is
// one of ti.fast (or "sid", or an "id" the claims do not read) with a
// value it can read exactly as encoding/json would: null, a string of
// printable ASCII without escapes, or an integer. It reports false,
// leaving the rest to slowDecode, for anything else: another member (the
// app's claims, roles, "nbf"), an escape, a float, invalid JSON. Fields it
// set before giving up are set again by slowDecode from the same members.
// sid reports whether the payload had a "sid".
func fastDecode(b []byte, v reflect.Value, ti *tokenInfo) (ok, sid bool) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipWS(b, i+1) == len(b), false
	}
	var sidValue []byte
	for i < len(b) {
		if b[i] != '"' {
			return false, false
		}
		end, escaped := stringEnd(b, i)
		if end < 0 || escaped {
			return false, false
		}
		key := b[i+1 : end]
		i = skipWS(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return false, false
		}
		i = skipWS(b, i+1)
		f, known := ti.fast[string(key)]
		isSID := string(key) == "sid"
		// The "id" authgate writes beside "sub" for Next.js apps: read by
		// nobody here unless the claims have an "id" of their own.
		skip := string(key) == "id" && !known && !ti.takesClaim("id")
		if !known && !isSID && !skip || string(key) == "nbf" {
			return false, false // "nbf" is checked by slowDecode
		}
		var n int
		switch {
		case i < len(b) && b[i] == '"':
			n = plainString(b[i:])
			if n < 0 || (known && f.kind != reflect.String) {
				return false, false
			}
			s := b[i+1 : i+n-1]
			switch {
			case isSID:
				if sidValue != nil || len(s) == 0 {
					return false, false
				}
				sidValue = s
			case known:
				v.Field(f.index).SetString(string(s))
			}
		case known && len(b)-i >= 4 && string(b[i:i+4]) == "null":
			n = 4 // encoding/json leaves the field as it is
		case known && f.kind == reflect.Int64:
			n = integer(b[i:])
			if n < 0 {
				return false, false
			}
			x, err := strconv.ParseInt(string(b[i:i+n]), 10, 64)
			if err != nil {
				return false, false
			}
			v.Field(f.index).SetInt(x)
		default:
			return false, false
		}
		i = skipWS(b, i+n)
		if i < len(b) && b[i] == ',' {
			i = skipWS(b, i+1)
			continue
		}
		if i >= len(b) || b[i] != '}' || skipWS(b, i+1) != len(b) {
			return false, false
		}
		if sidValue != nil && ti.id >= 0 {
			v.Field(ti.id).SetString(string(sidValue))
		}
		return true, sidValue != nil
	}
	return false, false
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
