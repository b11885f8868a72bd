package bench

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/go-chi/jwtauth/v5"
	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// Fixed keys: the benchmark measures work, not key generation.
var (
	hashKey  = []byte("bench-hmac-key-0123456789abcdef!")       // 32 bytes
	blockKey = []byte("bench-aes256-key-0123456789abcdef"[:32]) // AES-256
)

const cookieName = "session"

type claimsKey struct{}

// claimsFrom is the accessor for the variants whose library has none of its
// own (the floor, bare securecookie): a typed context value.
func claimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// Peers returns every peer variant, built with claims issued at now.
func Peers(now time.Time) ([]Variant, error) {
	builders := []func(time.Time) (Variant, error){
		Floor, SecureCookie, GorillaSessions, GolangJWT, JWTAuth, SCS,
	}
	out := make([]Variant, 0, len(builders))
	for _, b := range builders {
		v, err := b(now)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ---- the floor: a hand-written HMAC-SHA256-signed JSON cookie ----

// floorCodec is the least a signed JSON cookie can do: base64url(JSON) "."
// base64url(HMAC-SHA256(name "|" payload)), with keyed HMAC states reused
// from a pool.
type floorCodec struct {
	macs sync.Pool
}

func newFloorCodec(key []byte) *floorCodec {
	return &floorCodec{macs: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

func (f *floorCodec) mac(name, payload string, dst []byte) []byte {
	h := f.macs.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(name))
	h.Write([]byte{'|'})
	h.Write([]byte(payload))
	dst = h.Sum(dst)
	f.macs.Put(h)
	return dst
}

func (f *floorCodec) encode(name string, c *Claims) (string, error) {
	js, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	payload := base64.RawURLEncoding.EncodeToString(js)
	sig := f.mac(name, payload, nil)
	return payload + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func (f *floorCodec) decode(name, value string, dst *Claims) bool {
	i := strings.LastIndexByte(value, '.')
	if i < 0 || len(value)-i-1 != base64.RawURLEncoding.EncodedLen(sha256.Size) {
		return false
	}
	payload := value[:i]
	var got, want [sha256.Size]byte
	if _, err := base64.RawURLEncoding.Decode(got[:], []byte(value[i+1:])); err != nil {
		return false
	}
	if !hmac.Equal(got[:], f.mac(name, payload, want[:0])) {
		return false
	}
	js, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return false
	}
	return json.Unmarshal(js, dst) == nil
}

// valid reports whether c is inside its validity window at now.
func (c *Claims) valid(now time.Time) bool {
	t := now.Unix()
	return c.ExpiresAt > t && c.IssuedAt <= t+60
}

// claimsCookieHandler is the small middleware of the cookie-only variants
// (the floor, bare securecookie): decode the cookie with decode, check its
// times, put the claims in the context, and let the final handler read the
// role from there.
func claimsCookieHandler(decode func(value string, c *Claims) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie(cookieName); err == nil {
			c := new(Claims)
			if decode(ck.Value, c) && c.valid(time.Now()) {
				r = r.WithContext(context.WithValue(r.Context(), claimsKey{}, c))
			}
		}
		c, ok := claimsFrom(r.Context())
		var role string
		if ok {
			role = c.Role
		}
		finish(w, role, ok)
	})
}

// Floor is the reference: a hand-written HMAC-signed JSON cookie, verified
// in a small middleware that puts the claims in the context.
func Floor(now time.Time) (Variant, error) {
	codec := newFloorCodec(hashKey)
	claims := TestClaims(now)
	value, err := codec.encode(cookieName, &claims)
	if err != nil {
		return Variant{}, err
	}
	mw := claimsCookieHandler(func(v string, c *Claims) bool { return codec.decode(cookieName, v, c) })
	return Variant{Name: "floor-hmac-json", Handler: mw, Cookie: &http.Cookie{Name: cookieName, Value: value}}, nil
}

// ---- bare gorilla/securecookie: JSONEncoder, HMAC-SHA256 + AES-256 ----

// SecureCookie is securecookie as authgate's default codec configures it,
// used bare in a small middleware.
func SecureCookie(now time.Time) (Variant, error) {
	sc := securecookie.New(hashKey, blockKey)
	sc.SetSerializer(securecookie.JSONEncoder{})
	claims := TestClaims(now)
	value, err := sc.Encode(cookieName, &claims)
	if err != nil {
		return Variant{}, err
	}
	mw := claimsCookieHandler(func(v string, c *Claims) bool { return sc.Decode(cookieName, v, c) == nil })
	return Variant{Name: "securecookie-json-aes", Handler: mw, Cookie: &http.Cookie{Name: cookieName, Value: value}}, nil
}

// ---- gorilla/sessions CookieStore (gob, HMAC + AES) ----

// GorillaSessions reads the session with store.Get in the handler, as its
// documentation shows.
func GorillaSessions(now time.Time) (Variant, error) {
	store := sessions.NewCookieStore(hashKey, blockKey)
	claims := TestClaims(now)

	// Mint the cookie the way an app does: Get, set Values, Save.
	r := NewRequest(nil)
	s, err := store.Get(r, cookieName)
	if err != nil {
		return Variant{}, err
	}
	s.Values["id"] = claims.ID
	s.Values["name"] = claims.Name
	s.Values["email"] = claims.Email
	s.Values["role"] = claims.Role
	s.Values["iat"] = claims.IssuedAt
	s.Values["exp"] = claims.ExpiresAt
	rec := httptest.NewRecorder()
	if err := s.Save(r, rec); err != nil {
		return Variant{}, err
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		return Variant{}, fmt.Errorf("gorilla/sessions: got %d cookies", len(cookies))
	}

	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, cookieName)
		if err != nil || s.IsNew {
			finish(w, "", false)
			return
		}
		exp, _ := s.Values["exp"].(int64)
		if exp <= time.Now().Unix() {
			finish(w, "", false)
			return
		}
		role, ok := s.Values["role"].(string)
		finish(w, role, ok)
	})
	return Variant{Name: "gorilla-sessions", Handler: h, Cookie: &http.Cookie{Name: cookies[0].Name, Value: cookies[0].Value}}, nil
}

// ---- golang-jwt v5, HS256 ----

type jwtClaims struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
	jwt.RegisteredClaims
}

type jwtKey struct{}

// GolangJWT verifies an HS256 JWT from the cookie into typed claims with a
// parser built once.
func GolangJWT(now time.Time) (Variant, error) {
	claims := TestClaims(now)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwtClaims{
		Name: claims.Name, Email: claims.Email, Role: claims.Role,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   claims.ID,
			IssuedAt:  jwt.NewNumericDate(time.Unix(claims.IssuedAt, 0)),
			ExpiresAt: jwt.NewNumericDate(time.Unix(claims.ExpiresAt, 0)),
		},
	})
	value, err := tok.SignedString(hashKey)
	if err != nil {
		return Variant{}, err
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	keyFunc := func(*jwt.Token) (any, error) { return hashKey, nil }

	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := r.Context().Value(jwtKey{}).(*jwtClaims)
		var role string
		if ok {
			role = c.Role
		}
		finish(w, role, ok)
	})
	mw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie(cookieName); err == nil {
			c := new(jwtClaims)
			if t, err := parser.ParseWithClaims(ck.Value, c, keyFunc); err == nil && t.Valid {
				r = r.WithContext(context.WithValue(r.Context(), jwtKey{}, c))
			}
		}
		final.ServeHTTP(w, r)
	})
	return Variant{Name: "golang-jwt-hs256", Handler: mw, Cookie: &http.Cookie{Name: cookieName, Value: value}}, nil
}

// ---- go-chi/jwtauth v5 (lestrrat-go/jwx), HS256 ----

// JWTAuth is jwtauth's Verifier and Authenticator, the handler reading the
// role from jwtauth.FromContext's claim map.
func JWTAuth(now time.Time) (Variant, error) {
	ja := jwtauth.New("HS256", hashKey, nil)
	claims := TestClaims(now)
	_, value, err := ja.Encode(map[string]any{
		"sub": claims.ID, "name": claims.Name, "email": claims.Email, "role": claims.Role,
		"iat": claims.IssuedAt, "exp": claims.ExpiresAt,
	})
	if err != nil {
		return Variant{}, err
	}
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, m, err := jwtauth.FromContext(r.Context())
		if err != nil {
			finish(w, "", false)
			return
		}
		role, ok := m["role"].(string)
		finish(w, role, ok)
	})
	h := jwtauth.Verifier(ja)(jwtauth.Authenticator(ja)(final))
	return Variant{Name: "go-chi-jwtauth", Handler: h, Cookie: &http.Cookie{Name: "jwt", Value: value}}, nil
}

// ---- alexedwards/scs v2 with its memory store ----

// SCS is scs's LoadAndSave over its in-memory store; the cookie is a random
// token and the data (gob) lives server-side.
func SCS(now time.Time) (Variant, error) {
	sm := scs.New()
	sm.Store = memstore.NewWithCleanupInterval(0)
	sm.Lifetime = 24 * time.Hour
	claims := TestClaims(now)

	ctx, err := sm.Load(context.Background(), "")
	if err != nil {
		return Variant{}, err
	}
	sm.Put(ctx, "id", claims.ID)
	sm.Put(ctx, "name", claims.Name)
	sm.Put(ctx, "email", claims.Email)
	sm.Put(ctx, "role", claims.Role)
	sm.Put(ctx, "iat", claims.IssuedAt)
	sm.Put(ctx, "exp", claims.ExpiresAt)
	token, _, err := sm.Commit(ctx)
	if err != nil {
		return Variant{}, err
	}
	final := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !sm.Exists(r.Context(), "role") || sm.GetInt64(r.Context(), "exp") <= time.Now().Unix() {
			finish(w, "", false)
			return
		}
		finish(w, sm.GetString(r.Context(), "role"), true)
	})
	return Variant{Name: "scs-memstore", Handler: sm.LoadAndSave(final), Cookie: &http.Cookie{Name: sm.Cookie.Name, Value: token}}, nil
}
