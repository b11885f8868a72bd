package nextauth

import (
	"reflect"
	"testing"
	"time"

	"github.com/authgate/authgate"
)

type fastClaims struct {
	Plan string `json:"plan,omitempty"`
}

// FuzzFastDecode checks that fastDecode, whenever it accepts a payload,
// reads exactly what encoding/json (slowDecode) reads from it.
func FuzzFastDecode(f *testing.F) {
	for _, s := range []string{
		`{"sub":"u1","name":"Alice","email":"a@x","role":"admin","jti":"AAAAAAAAAAAAAAAAAAAAAA","sid":"AAAAAAAAAAAAAAAAAAAAAA","iat":1,"exp":2,"auth_time":1,"aud":"http://localhost:3000"}`,
		`{"sub":"u1","picture":null,"iat":-0,"exp":9223372036854775807}`,
		`{"sub":"u1","sub":"u2"}`, `{"Sub":"u1"}`, `{"sub":"a\u0041"}`, `{"iat":1.5}`, `{"iat":01}`, `{"iat":"1"}`,
		`{"sid":null}`, `{"sid":""}`, `{"sid":"a","sid":"b"}`, `{"sub":"u1"} x`, `{"sub":"u1",}`, `{}`, ` { } `,
		`{"plan":"pro","sub":"u"}`, `{"roles":["a"]}`, `{"iat":99999999999999999999}`, "{\"sub\":\"\xff\"}",
		`{"sub":"u1","id":"u1"}`, `{"id":7}`, `{"id":null}`, `{"Role":"admin","JTI":"x"}`, `{"nbf":1}`,
	} {
		f.Add([]byte(s))
	}
	ti := infoFor(reflect.TypeFor[authgate.Token[fastClaims]]())
	f.Fuzz(func(t *testing.T, b []byte) {
		fast := new(authgate.Token[fastClaims])
		ok, fastSID := fastDecode(b, reflect.ValueOf(fast).Elem(), ti)
		if !ok {
			return
		}
		slow := new(authgate.Token[fastClaims])
		slowSID, err := slowDecode(b, reflect.ValueOf(slow).Elem(), ti, time.Now)
		if err != nil {
			t.Fatalf("fastDecode accepted %q, encoding/json refused it: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) || fastSID != slowSID {
			t.Fatalf("%q: fastDecode read %+v (sid %v), encoding/json %+v (sid %v)", b, fast, fastSID, slow, slowSID)
		}
	})
}

func TestFastDecodeTakesAuthgatesOwnTokens(t *testing.T) {
	b := []byte(`{"aud":"http://localhost:3000","auth_time":1,"email":"a@x","exp":2,"iat":1,"id":"u1","jti":"AAAAAAAAAAAAAAAAAAAAAA","name":"Alice","role":"admin","sid":"AAAAAAAAAAAAAAAAAAAAAA","sub":"u1"}`)
	tok := new(authgate.Token[struct{}])
	if ok, _ := fastDecode(b, reflect.ValueOf(tok).Elem(), infoFor(reflect.TypeFor[authgate.Token[struct{}]]())); !ok {
		t.Fatal("fastDecode gave up on authgate's own payload")
	}
	if tok.Subject != "u1" || tok.ExpiresAt != 2 || tok.ID != "AAAAAAAAAAAAAAAAAAAAAA" {
		t.Errorf("got %+v", tok)
	}
}
