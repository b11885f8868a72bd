package nextauth_test

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/nextauth"
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		codec authgate.Codec
	}{
		{"v4", mustV4(t)},
		{"v5", mustV5(t)},
		{"v5 after rotation", mustV5(t, secret, oldSecret)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := sampleToken()
			v, err := tc.codec.Encode(nextauth.V5CookieName, want)
			if err != nil {
				t.Fatal(err)
			}
			got := new(authgate.Token[Claims])
			if err := tc.codec.Decode(nextauth.V5CookieName, v, got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
			if v2, _ := tc.codec.Encode(nextauth.V5CookieName, want); v2 == v {
				t.Error("two encodings of one token are equal: the IV is not random")
			}
		})
	}
}

func TestV5RotationDecodesOldTokens(t *testing.T) {
	old := mustV5(t, oldSecret)
	v, err := old.Encode(nextauth.V5CookieName, sampleToken())
	if err != nil {
		t.Fatal(err)
	}
	got := new(authgate.Token[Claims])
	if err := mustV5(t, secret, oldSecret).Decode(nextauth.V5CookieName, v, got); err != nil {
		t.Fatalf("old token after rotation: %v", err)
	}
	if err := mustV5(t, secret).Decode(nextauth.V5CookieName, v, got); !errors.Is(err, nextauth.ErrKey) {
		t.Errorf("old token once the old secret is gone: got %v, want ErrKey", err)
	}
}

func TestEncodeRefusesAmbiguousClaims(t *testing.T) {
	type Bad struct {
		Email string `json:"email"`
	}
	type BadSID struct {
		SID string `json:"sid"`
	}
	c := mustV4(t)
	if _, err := c.Encode("n", &authgate.Token[Bad]{Subject: "1", Claims: Bad{Email: "x"}}); !errors.Is(err, nextauth.ErrClaims) {
		t.Errorf("app claim named email: got %v, want ErrClaims", err)
	}
	if _, err := c.Encode("n", &authgate.Token[BadSID]{Subject: "1", Claims: BadSID{SID: "x"}}); !errors.Is(err, nextauth.ErrClaims) {
		t.Errorf("app claim named sid: got %v, want ErrClaims", err)
	}
}

// header returns the base64url form of a protected header.
func header(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }

// withHeader replaces the protected header of a compact JWE.
func withHeader(v, h string) string { return h + v[strings.IndexByte(v, '.'):] }

// flip changes one character of part i (0 header … 4 tag) of v.
func flip(v string, i int) string {
	parts := strings.Split(v, ".")
	p := []byte(parts[i])
	j := len(p) / 2
	if p[j] == 'A' {
		p[j] = 'B'
	} else {
		p[j] = 'A'
	}
	parts[i] = string(p)
	return strings.Join(parts, ".")
}

func TestDecodeRefuses(t *testing.T) {
	v4, v5 := mustV4(t), mustV5(t)
	good4, err := v4.Encode(nextauth.V5CookieName, sampleToken())
	if err != nil {
		t.Fatal(err)
	}
	good5, err := v5.Encode(nextauth.V5CookieName, sampleToken())
	if err != nil {
		t.Fatal(err)
	}
	other4, _ := nextauth.NewV4(oldSecret)
	wrong4, _ := other4.Encode(nextauth.V5CookieName, sampleToken())
	wrong5, _ := mustV5(t, oldSecret).Encode(nextauth.V5CookieName, sampleToken())
	otherName5, _ := v5.Encode("another.cookie", sampleToken())
	kid5 := strings.Split(mustDecodeHeader(t, good5), `"kid":"`)[1]
	kid5 = kid5[:strings.IndexByte(kid5, '"')]
	for _, tc := range []struct {
		name  string
		codec authgate.Codec
		value string
		want  error
	}{
		{"v4: tampered ciphertext", v4, flip(good4, 3), nextauth.ErrDecrypt},
		{"v4: tampered tag", v4, flip(good4, 4), nextauth.ErrDecrypt},
		{"v4: tampered IV", v4, flip(good4, 2), nextauth.ErrDecrypt},
		{"v4: tampered header (same meaning, other bytes)", v4, withHeader(good4, header(`{"enc":"A256GCM","alg":"dir"}`)), nextauth.ErrDecrypt},
		{"v4: tampered header (broken)", v4, flip(good4, 0), nextauth.ErrHeader},
		{"v4: wrong secret", v4, wrong4, nextauth.ErrDecrypt},
		{"v4: alg none", v4, withHeader(good4, header(`{"alg":"none","enc":"A256GCM"}`)), nextauth.ErrHeader},
		{"v4: alg RSA-OAEP", v4, withHeader(good4, header(`{"alg":"RSA-OAEP","enc":"A256GCM"}`)), nextauth.ErrHeader},
		{"v4: enc A128GCM", v4, withHeader(good4, header(`{"alg":"dir","enc":"A128GCM"}`)), nextauth.ErrHeader},
		{"v4: enc A256CBC-HS512", v4, withHeader(good4, header(`{"alg":"dir","enc":"A256CBC-HS512"}`)), nextauth.ErrHeader},
		{"v4: zip DEF", v4, withHeader(good4, header(`{"alg":"dir","enc":"A256GCM","zip":"DEF"}`)), nextauth.ErrHeader},
		{"v4: crit", v4, withHeader(good4, header(`{"alg":"dir","enc":"A256GCM","crit":["exp"]}`)), nextauth.ErrHeader},
		{"v4: nested JWS (cty JWT)", v4, withHeader(good4, header(`{"alg":"dir","enc":"A256GCM","cty":"JWT"}`)), nextauth.ErrHeader},
		{"v4: kid", v4, withHeader(good4, header(`{"alg":"dir","enc":"A256GCM","kid":"x"}`)), nextauth.ErrHeader},
		{"v4: duplicate alg", v4, withHeader(good4, header(`{"alg":"none","alg":"dir","enc":"A256GCM"}`)), nextauth.ErrHeader},
		{"v4: header is an array", v4, withHeader(good4, header(`["dir","A256GCM"]`)), nextauth.ErrHeader},
		{"v4: trailing data after header", v4, withHeader(good4, header(`{"alg":"dir","enc":"A256GCM"}{}`)), nextauth.ErrHeader},
		{"v4: oversized", v4, good4 + strings.Repeat("A", nextauth.MaxTokenBytes), nextauth.ErrTooLarge},
		{"v4: a v5 token", v4, good5, nextauth.ErrHeader},
		{"v5: a v4 token (GCM under the v4 key)", v5, good4, nextauth.ErrDecrypt},
		{"v5: tampered ciphertext", v5, flip(good5, 3), nextauth.ErrDecrypt},
		{"v5: tampered tag", v5, flip(good5, 4), nextauth.ErrDecrypt},
		{"v5: tampered IV", v5, flip(good5, 2), nextauth.ErrDecrypt},
		{"v5: tampered header (a character of the kid)", v5, flip(good5, 0), nextauth.ErrKey},
		{"v5: tampered header (broken)", v5, "f" + good5[1:], nextauth.ErrHeader},
		{"v5: wrong secret", v5, wrong5, nextauth.ErrKey},
		{"v5: sealed for another cookie name", v5, otherName5, nextauth.ErrKey},
		{"v5: unknown kid", v5, withHeader(good5, header(`{"alg":"dir","enc":"A256CBC-HS512","kid":"nope"}`)), nextauth.ErrKey},
		{"v5: alg none", v5, withHeader(good5, header(`{"alg":"none","enc":"A256CBC-HS512","kid":"`+kid5+`"}`)), nextauth.ErrHeader},
		{"v5: alg RSA-OAEP", v5, withHeader(good5, header(`{"alg":"RSA-OAEP","enc":"A256CBC-HS512"}`)), nextauth.ErrHeader},
		{"v5: enc A128GCM", v5, withHeader(good5, header(`{"alg":"dir","enc":"A128GCM"}`)), nextauth.ErrHeader},
		{"v5: zip DEF", v5, withHeader(good5, header(`{"alg":"dir","enc":"A256CBC-HS512","kid":"`+kid5+`","zip":"DEF"}`)), nextauth.ErrHeader},
		{"v5: crit", v5, withHeader(good5, header(`{"alg":"dir","enc":"A256CBC-HS512","crit":["b64"],"b64":false}`)), nextauth.ErrHeader},
		{"v5: nested JWS (cty JWT)", v5, withHeader(good5, header(`{"alg":"dir","enc":"A256CBC-HS512","cty":"JWT"}`)), nextauth.ErrHeader},
		{"v5: header kid not a string", v5, withHeader(good5, header(`{"alg":"dir","enc":"A256CBC-HS512","kid":1}`)), nextauth.ErrHeader},
		{"v5: oversized", v5, good5 + strings.Repeat("A", nextauth.MaxTokenBytes), nextauth.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.codec.Decode(nextauth.V5CookieName, tc.value, new(authgate.Token[Claims]))
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func mustDecodeHeader(t *testing.T, v string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(v[:strings.IndexByte(v, '.')])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDecodeRefusesMalformed(t *testing.T) {
	good, err := mustV4(t).Encode("n", sampleToken())
	if err != nil {
		t.Fatal(err)
	}
	p := strings.Split(good, ".")
	for _, tc := range []struct{ name, value string }{
		{"empty", ""},
		{"one part", p[0]},
		{"four parts", strings.Join(p[:4], ".")},
		{"six parts", good + ".AAAA"},
		{"a key part (not dir)", p[0] + ".AAAA." + strings.Join(p[2:], ".")},
		{"empty IV", p[0] + "..." + p[3] + "." + p[4]},
		{"empty ciphertext", p[0] + ".." + p[2] + ".." + p[4]},
		{"empty tag", strings.Join(p[:4], ".") + "."},
		{"short IV", p[0] + ".." + p[2][:8] + "." + p[3] + "." + p[4]},
		{"short tag", strings.Join(p[:4], ".") + "." + p[4][:10]},
		{"padding characters", strings.Join(p[:4], ".") + "." + p[4] + "=="},
		{"standard base64 characters", strings.Join(p[:3], ".") + ".+/" + p[3][2:] + "." + p[4]},
		{"a space", strings.Join(p[:4], ".") + ". " + p[4]},
		{"a newline (ignored by lenient base64)", strings.Join(p[:4], ".") + "." + p[4][:4] + "\n" + p[4][4:]},
		{"stray bits in the last character", strings.Join(p[:4], ".") + "." + p[4][:len(p[4])-1] + "B"},
		{"a JWS", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"},
		{"dots only", strings.Repeat(".", 1000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []authgate.Codec{mustV4(t), mustV5(t)} {
				err := c.Decode("n", tc.value, new(authgate.Token[Claims]))
				if err == nil {
					t.Fatalf("%T: decoded", c)
				}
				if !errors.Is(err, nextauth.ErrMalformed) && !errors.Is(err, nextauth.ErrHeader) && !errors.Is(err, nextauth.ErrDecrypt) {
					t.Errorf("%T: got %v, want a malformed-token error", c, err)
				}
			}
		})
	}
}

// TestDecodeMatchesClaimNamesExactly: encoding/json alone would read
// "Role" as the role and "JTI" as the session id; NextAuth (JavaScript)
// tells them apart, and so does the codec.
func TestDecodeMatchesClaimNamesExactly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload map[string]any
		want    authgate.Token[Claims]
	}{
		{"Role is not role", map[string]any{"sub": "u1", "Role": "admin", "sid": "s1"},
			authgate.Token[Claims]{Subject: "u1", ID: "s1"}},
		{"role and Role: role is the role", map[string]any{"sub": "u1", "role": "user", "Role": "admin", "sid": "s1"},
			authgate.Token[Claims]{Subject: "u1", Role: "user", ID: "s1"}},
		{"JTI is not the session id", map[string]any{"sub": "u1", "JTI": "x"},
			authgate.Token[Claims]{Subject: "u1"}},
		{"SID is not the session id", map[string]any{"sub": "u1", "jti": "x", "sid": "s1", "SID": "s2"},
			authgate.Token[Claims]{Subject: "u1", ID: "s1"}},
		{"Plan is not the app's plan", map[string]any{"sub": "u1", "sid": "s1", "Plan": "enterprise", "orgId": 7},
			authgate.Token[Claims]{Subject: "u1", ID: "s1", Claims: Claims{OrgID: 7}}},
		{"Sub, Exp and Auth_Time are no registered claims", map[string]any{"sub": "u1", "sid": "s1", "Sub": "u2", "Exp": 9, "Auth_Time": 9, "exp": 2},
			authgate.Token[Claims]{Subject: "u1", ID: "s1", ExpiresAt: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []authgate.Codec{mustV4(t), mustV5(t)} {
				v, err := c.Encode(nextauth.V5CookieName, tc.payload)
				if err != nil {
					t.Fatal(err)
				}
				got := new(authgate.Token[Claims])
				if err := c.Decode(nextauth.V5CookieName, v, got); err != nil {
					t.Fatalf("%T: %v", c, err)
				}
				if !reflect.DeepEqual(*got, tc.want) {
					t.Errorf("%T: got %+v, want %+v", c, *got, tc.want)
				}
			}
		})
	}
}

func TestDecodeHonoursNotBefore(t *testing.T) {
	now := time.Now().Unix()
	for _, tc := range []struct {
		name string
		nbf  any
		want error
	}{
		{"nbf in the past", now - 3600, nil},
		{"nbf 10 s ahead, within the 15 s clock skew", now + 10, nil},
		{"nbf 16 s ahead", now + 16, nextauth.ErrNotYetValid},
		{"nbf an hour ahead", float64(now + 3600), nextauth.ErrNotYetValid},
		{"nbf a string", "0", nextauth.ErrClaims},
		{"nbf null", nil, nextauth.ErrClaims},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range []authgate.Codec{mustV4(t), mustV5(t)} {
				v, err := c.Encode(nextauth.V5CookieName, map[string]any{"sub": "u1", "sid": "s1", "nbf": tc.nbf})
				if err != nil {
					t.Fatal(err)
				}
				for _, dst := range []any{new(authgate.Token[Claims]), &map[string]any{}} {
					if err := c.Decode(nextauth.V5CookieName, v, dst); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
						t.Errorf("%T into %T: got %v, want %v", c, dst, err, tc.want)
					}
				}
			}
		})
	}
}

// TestEncodeWritesTheIDNextJSCallbacksRead: a Next.js app's callbacks read
// the user's id as token.id (set by its own jwt callback at sign-in); a
// token authgate mints carries it, equal to sub unless the app's claims
// have an id of their own.
func TestEncodeWritesTheIDNextJSCallbacksRead(t *testing.T) {
	type WithID struct {
		ID   string `json:"id"`
		Plan string `json:"plan,omitempty"`
	}
	for _, c := range []authgate.Codec{mustV4(t), mustV5(t)} {
		v, err := c.Encode(nextauth.V5CookieName, sampleToken())
		if err != nil {
			t.Fatal(err)
		}
		p := map[string]any{}
		if err := c.Decode(nextauth.V5CookieName, v, &p); err != nil || p["id"] != "user-42" || p["role"] != "admin" {
			t.Errorf("%T: payload %v (%v), want id = sub and the role", c, p, err)
		}

		tok := &authgate.Token[WithID]{Subject: "github:583231", ID: "AAAAAAAAAAAAAAAAAAAAAA", Claims: WithID{ID: "db-7"}}
		if v, err = c.Encode(nextauth.V5CookieName, tok); err != nil {
			t.Fatal(err)
		}
		p = map[string]any{}
		back := new(authgate.Token[WithID])
		if err := c.Decode(nextauth.V5CookieName, v, &p); err != nil || p["id"] != "db-7" {
			t.Errorf("%T: payload %v (%v), want the app's id", c, p, err)
		}
		if err := c.Decode(nextauth.V5CookieName, v, back); err != nil || back.Claims.ID != "db-7" || back.Subject != "github:583231" {
			t.Errorf("%T: decoded %+v (%v)", c, back, err)
		}
	}
}
