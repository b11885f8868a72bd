package authgate

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSharedCodecDefaults checks the defaults CodecInfo.Shared documents,
// with a codec that decodes like the default one: a token without aud and
// auth_time and with a UUID session id (as a Next.js app mints it) is
// accepted only when the codec is Shared, and a present aud must still be
// this deployment's.
func TestSharedCodecDefaults(t *testing.T) {
	t.Parallel()
	clock := newCacheClock()
	def := newCacheAuth(t, clock, nil, cacheAuthOpts{})
	shared := newCacheAuth(t, clock, nil, cacheAuthOpts{codec: describedCodec{Codec: def.codec, info: CodecInfo{Pure: true, Shared: true}}})
	own := newCacheAuth(t, clock, nil, cacheAuthOpts{codec: def.codec})
	now := clock.now().Unix()
	mint := func(a *Auth[struct{}], edit func(*Token[struct{}])) *http.Cookie {
		tok := &Token[struct{}]{Subject: "u1", ID: "0b6f3c2e-6a55-4f4e-9d6e-3f1f0f7f2a10", IssuedAt: now, ExpiresAt: now + 3600}
		if edit != nil {
			edit(tok)
		}
		v, err := def.codec.Encode(a.sessionCookie, tok)
		if err != nil {
			t.Fatal(err)
		}
		return &http.Cookie{Name: a.sessionCookie, Value: v}
	}
	for _, tc := range []struct {
		name       string
		a          *Auth[struct{}]
		edit       func(*Token[struct{}])
		wantOK     bool
		wantSignIn int64
	}{
		{"shared: no aud, no auth_time, a UUID id: accepted, sign-in time unknown", shared, nil, true, 0},
		{"shared: its own auth_time is kept", shared, func(t *Token[struct{}]) { t.AuthTime = now - 60 }, true, now - 60},
		{"shared: another deployment's aud is refused", shared, func(t *Token[struct{}]) { t.Audience = "https://other.example" }, false, 0},
		{"shared: a session id that is no id is refused", shared, func(t *Token[struct{}]) { t.ID = "../x" }, false, 0},
		{"shared: a session id over 64 characters is refused", shared, func(t *Token[struct{}]) { t.ID = string(make([]byte, 65)) }, false, 0},
		{"not shared: the same token is refused", own, nil, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := checkCookie(tc.a, mint(tc.a, tc.edit))
			if (err == nil) != tc.wantOK {
				t.Fatalf("got %v, want ok=%v", err, tc.wantOK)
			}
			if tc.wantOK && tc.wantSignIn == 0 && !s.AuthTime().IsZero() {
				t.Errorf("sign-in time %v, want unknown (zero)", s.AuthTime())
			}
			if tc.wantOK && tc.wantSignIn != 0 && s.AuthTime().Unix() != tc.wantSignIn {
				t.Errorf("sign-in time %v, want %v", s.AuthTime(), time.Unix(tc.wantSignIn, 0))
			}
		})
	}
}

// TestRequireFreshAuthRefusesATokenWithoutAuthTime: a token another app
// minted without auth_time has only an iat, which that app moves forward at
// every refresh, so it would always look freshly signed in. Its session has
// no sign-in time and is never fresh, also once authgate has re-issued it
// (which writes no auth_time for it either, so an update cannot launder a
// refreshed iat into a sign-in time).
func TestRequireFreshAuthRefusesATokenWithoutAuthTime(t *testing.T) {
	t.Parallel()
	clock := newCacheClock()
	def := newCacheAuth(t, clock, nil, cacheAuthOpts{})
	a := newCacheAuth(t, clock, nil, cacheAuthOpts{codec: describedCodec{Codec: def.codec, info: CodecInfo{Pure: true, Shared: true}}})
	guard := a.RequireFreshAuth(15 * time.Minute)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	mint := func(authTime int64) *http.Cookie {
		now := clock.now().Unix()
		tok := &Token[struct{}]{Subject: "u1", ID: "0b6f3c2e-6a55-4f4e-9d6e-3f1f0f7f2a10", IssuedAt: now, ExpiresAt: now + int64(DefaultMaxAge/time.Second), AuthTime: authTime}
		v, err := def.codec.Encode(a.sessionCookie, tok)
		if err != nil {
			t.Fatal(err)
		}
		return &http.Cookie{Name: a.sessionCookie, Value: v}
	}
	serve := func(c *http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, cacheTestURL+"/settings/password", nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		guard.ServeHTTP(w, r)
		return w
	}
	if w := serve(mint(clock.now().Unix() - 60)); w.Code != http.StatusOK {
		t.Fatalf("a token signed in a minute ago: %d, want 200", w.Code)
	}
	fresh := mint(0) // just refreshed by the other app: iat is now
	if s, err := checkCookie(a, fresh); err != nil || !s.AuthTime().IsZero() {
		t.Fatalf("Check: %v, sign-in time %v; want the session with an unknown sign-in time", err, s.AuthTime())
	}
	if w := serve(fresh); w.Code != http.StatusUnauthorized {
		t.Fatalf("a token without auth_time, iat now: %d, want 401", w.Code)
	}
	// Past UpdateAge authgate re-issues it, with a new iat.
	clock.advance(DefaultUpdateAge + time.Minute)
	w := serve(fresh)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("after a day: %d, want 401", w.Code)
	}
	var reissued *http.Cookie
	for _, c := range w.Result().Cookies() {
		if c.Name == a.sessionCookie && c.Value != "" {
			reissued = c
		}
	}
	if reissued == nil {
		t.Fatal("not re-issued")
	}
	tok := new(Token[struct{}])
	if err := def.codec.Decode(a.sessionCookie, reissued.Value, tok); err != nil || tok.AuthTime != 0 || tok.IssuedAt != clock.now().Unix() {
		t.Fatalf("re-issued token %+v (%v): want a new iat and no auth_time", tok, err)
	}
	if w := serve(reissued); w.Code != http.StatusUnauthorized {
		t.Errorf("the re-issued token: %d, want 401", w.Code)
	}
}
