package authgate

import (
	"net/http"
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
		{"shared: no aud, no auth_time, a UUID id: accepted, signed in at iat", shared, nil, true, now},
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
			if tc.wantOK && s.AuthTime().Unix() != tc.wantSignIn {
				t.Errorf("sign-in time %v, want %v", s.AuthTime(), time.Unix(tc.wantSignIn, 0))
			}
		})
	}
}
