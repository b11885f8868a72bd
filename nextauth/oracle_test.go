package nextauth_test

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"testing"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/nextauth"
	jose "github.com/go-jose/go-jose/v4"
)

// go-jose is an independent JWE implementation: it checks the codecs'
// wire format (header, key derivation, AAD, tag) from the other side,
// without node.

func key(t *testing.T, salt, info string, n int) []byte {
	t.Helper()
	k, err := hkdf.Key(sha256.New, []byte(secret), []byte(salt), info, n)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGoJoseDecryptsOurTokens(t *testing.T) {
	v5info := "Auth.js Generated Encryption Key (" + nextauth.V5CookieName + ")"
	for _, tc := range []struct {
		name  string
		codec authgate.Codec
		enc   jose.ContentEncryption
		key   []byte
	}{
		{"v4", mustV4(t), jose.A256GCM, key(t, "", "NextAuth.js Generated Encryption Key", 32)},
		{"v5", mustV5(t), jose.A256CBC_HS512, key(t, nextauth.V5CookieName, v5info, 64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.codec.Encode(nextauth.V5CookieName, sampleToken())
			if err != nil {
				t.Fatal(err)
			}
			obj, err := jose.ParseEncryptedCompact(v, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{tc.enc})
			if err != nil {
				t.Fatalf("go-jose parse: %v", err)
			}
			pt, err := obj.Decrypt(tc.key)
			if err != nil {
				t.Fatalf("go-jose decrypt: %v", err)
			}
			var p map[string]any
			if err := json.Unmarshal(pt, &p); err != nil {
				t.Fatal(err)
			}
			checkFlat(t, p)
		})
	}
}

func TestWeDecryptGoJoseTokens(t *testing.T) {
	v5info := "Auth.js Generated Encryption Key (" + nextauth.V5CookieName + ")"
	payload, _ := json.Marshal(map[string]any{"sub": "user-42", "plan": "pro", "jti": "x-1", "sid": "s-1", "iat": 1, "exp": 2})
	for _, tc := range []struct {
		name  string
		codec authgate.Codec
		enc   jose.ContentEncryption
		key   []byte
	}{
		{"v4", mustV4(t), jose.A256GCM, key(t, "", "NextAuth.js Generated Encryption Key", 32)},
		{"v5 A256CBC-HS512 without kid", mustV5(t), jose.A256CBC_HS512, key(t, nextauth.V5CookieName, v5info, 64)},
		{"v5 A256GCM without kid", mustV5(t), jose.A256GCM, key(t, nextauth.V5CookieName, v5info, 32)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc, err := jose.NewEncrypter(tc.enc, jose.Recipient{Algorithm: jose.DIRECT, Key: tc.key}, nil)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := enc.Encrypt(payload)
			if err != nil {
				t.Fatal(err)
			}
			v, err := obj.CompactSerialize()
			if err != nil {
				t.Fatal(err)
			}
			got := new(authgate.Token[Claims])
			if err := tc.codec.Decode(nextauth.V5CookieName, v, got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if got.Subject != "user-42" || got.Claims.Plan != "pro" || got.ID != "s-1" {
				t.Errorf("got %+v", got)
			}
		})
	}
	t.Run("zip DEF is refused even when the token is genuine", func(t *testing.T) {
		k := key(t, "", "NextAuth.js Generated Encryption Key", 32)
		enc, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: k}, &jose.EncrypterOptions{Compression: jose.DEFLATE})
		if err != nil {
			t.Fatal(err)
		}
		obj, _ := enc.Encrypt(payload)
		v, _ := obj.CompactSerialize()
		if err := mustV4(t).Decode(nextauth.V4CookieName, v, new(authgate.Token[Claims])); err == nil {
			t.Fatal("decoded a compressed token")
		}
	})
}
