package redisstore

import (
	"testing"
	"time"
)

// FuzzParseMessage feeds arbitrary channel payloads to the parser (anyone
// who can publish on the channel controls them): it must never panic, and
// every entry the store writes must read back as itself.
func FuzzParseMessage(f *testing.F) {
	s := &RevocationStore{prefix: DefaultKeyPrefix, maxLifetime: 90 * 24 * time.Hour}
	for _, e := range []entry{
		{id: "Zk3WJrLwqJtVx8WcZp1a0Q", subject: "user-1", at: 1764596400000, until: 1764600000000},
		{id: "sid", subject: "a:b:c", at: -1, until: 1},
		{id: "sid", subject: "1,2:3", until: 1},
		{user: true, id: "user-1", at: 1764600000123},
		{user: true, id: "#" + hashKey("x"), at: 0},
	} {
		f.Add(message(s.keyOf(e), e.value()))
	}
	f.Add("")
	f.Add("99999999999999999999:x")
	f.Add("-1:x")
	f.Add("3:authgate:r:s:x")
	f.Add("15:authgate:r:s:sid1764600000000:user-1") // without the sign-in time, as written before it was stored
	f.Fuzz(func(t *testing.T, payload string) {
		e, ok := s.parseMessage(payload)
		if !ok {
			return
		}
		if got, ok := s.parseMessage(message(s.keyOf(e), e.value())); !ok || got != e {
			t.Fatalf("%q parsed as %+v, which reads back as %+v (%v)", payload, e, got, ok)
		}
	})
}
