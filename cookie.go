package authgate

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// chunkSize is NextAuth's CHUNK_SIZE: 4096 minus room for the cookie's name
// and attributes. A longer session value is split into name.0, name.1, …
const chunkSize = 3933

// cookieIter walks the cookies of a request's Cookie headers without
// allocating. It does not unquote or validate values; the codec does.
type cookieIter struct {
	lines []string
	cur   string
}

func newCookieIter(r *http.Request) cookieIter {
	return cookieIter{lines: r.Header["Cookie"]}
}

func (it *cookieIter) next() (name, value string, ok bool) {
	for {
		for it.cur == "" {
			if len(it.lines) == 0 {
				return "", "", false
			}
			it.cur, it.lines = it.lines[0], it.lines[1:]
		}
		var part string
		part, it.cur, _ = strings.Cut(it.cur, ";")
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		name, value, _ = strings.Cut(part, "=")
		if len(value) > 1 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		return name, value, true
	}
}

// cookieValue returns the value of the single cookie called name. It
// reports false when the cookie is absent or appears more than once (a
// duplicate can be planted by a sibling domain, so neither copy is trusted).
func cookieValue(r *http.Request, name string) (string, bool) {
	it := newCookieIter(r)
	var v string
	n := 0
	for {
		k, val, ok := it.next()
		if !ok {
			break
		}
		if k == name {
			v = val
			n++
		}
	}
	return v, n == 1
}

// hasSessionCookie reports whether the request carries any session cookie
// (whole or chunked), without allocating.
func (a *Auth[T]) hasSessionCookie(r *http.Request) bool {
	it := newCookieIter(r)
	for {
		k, _, ok := it.next()
		if !ok {
			return false
		}
		if a.isSessionCookieName(k) {
			return true
		}
	}
}

// isSessionCookieName reports whether name is the session cookie or one of
// its chunks (name.0, name.1, …).
func (a *Auth[T]) isSessionCookieName(name string) bool {
	if !strings.HasPrefix(name, a.sessionCookie) {
		return false
	}
	rest := name[len(a.sessionCookie):]
	return rest == "" || chunkIndex(rest) >= 0
}

// chunkIndex parses ".N" and returns N, or -1.
func chunkIndex(s string) int {
	if len(s) < 2 || len(s) > 3 || s[0] != '.' {
		return -1
	}
	n, err := strconv.Atoi(s[1:])
	if err != nil || n < 0 || (len(s) == 3 && s[1] == '0') {
		return -1
	}
	return n
}

// errAmbiguousCookies reports session cookies that contradict each other:
// two of one name, or a whole cookie beside chunks. A browser sends two
// cookies of one name when a sibling domain planted one with Domain= (only
// a __Secure- name can be planted so: the NextAuth names of a shared
// codec). Neither copy is trusted, and neither is cleared: an expiring
// Set-Cookie without Domain removes only the host-only copy, which would
// leave the planted one to be read alone on the next request.
var errAmbiguousCookies = fmt.Errorf("%w: ambiguous session cookies (a name twice, or a whole cookie beside chunks)", ErrInvalidSession)

// sessionValue returns the raw session value: the single cookie, or its
// chunks joined in order. It returns ErrNoSession when there is none,
// errAmbiguousCookies when the cookies contradict each other, and
// ErrInvalidSession when they are incomplete (a gap, an empty chunk, too
// many chunks) or too long.
func (a *Auth[T]) sessionValue(r *http.Request) (string, error) {
	it := newCookieIter(r)
	var whole string
	wholeN, chunkN := 0, 0
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		if k == a.sessionCookie {
			whole = v
			wholeN++
		} else if a.isSessionCookieName(k) {
			chunkN++
		}
	}
	limit := a.cfg.MaxCookieChunks * chunkSize
	switch {
	case wholeN == 0 && chunkN == 0:
		return "", ErrNoSession
	case wholeN == 1 && chunkN == 0:
		if len(whole) > limit {
			return "", ErrInvalidSession
		}
		return whole, nil
	case wholeN > 0:
		return "", errAmbiguousCookies
	case chunkN > a.cfg.MaxCookieChunks:
		return "", ErrInvalidSession
	}
	parts := make([]string, chunkN)
	total := 0
	it = newCookieIter(r)
	for {
		k, v, ok := it.next()
		if !ok {
			break
		}
		if k == a.sessionCookie || !a.isSessionCookieName(k) {
			continue
		}
		i := chunkIndex(k[len(a.sessionCookie):])
		switch {
		case i < chunkN && parts[i] != "":
			return "", errAmbiguousCookies // one chunk twice
		case i >= chunkN || v == "":
			return "", ErrInvalidSession // a gap or an empty chunk
		}
		parts[i] = v
		total += len(v)
	}
	if total > limit {
		return "", ErrInvalidSession
	}
	return strings.Join(parts, ""), nil
}

// sessionCookies splits value into the session cookie, or into chunks
// name.0, name.1, … when it is longer than chunkSize.
func (a *Auth[T]) sessionCookies(value string, expires, now time.Time) ([]*http.Cookie, error) {
	n := (len(value) + chunkSize - 1) / chunkSize
	if n > a.cfg.MaxCookieChunks {
		return nil, ErrSessionTooLarge
	}
	maxAge := max(int(expires.Sub(now).Seconds()), 1)
	cookies := make([]*http.Cookie, n)
	for i := range n {
		name := a.sessionCookie
		if n > 1 {
			name += "." + strconv.Itoa(i)
		}
		cookies[i] = a.cookie(name, value[i*chunkSize:min(len(value), (i+1)*chunkSize)], expires, maxAge)
	}
	return cookies, nil
}

// setSessionCookies writes value as the session cookie (chunked when
// needed) and deletes any session cookie the request carried that the new
// set does not overwrite.
func (a *Auth[T]) setSessionCookies(w http.ResponseWriter, r *http.Request, value string, expires, now time.Time) error {
	cookies, err := a.sessionCookies(value, expires, now)
	if err != nil {
		return err
	}
	keep := make(map[string]bool, len(cookies))
	for _, c := range cookies {
		keep[c.Name] = true
	}
	a.deleteSessionCookies(w, r, keep)
	for _, c := range cookies {
		http.SetCookie(w, c)
	}
	w.Header().Add("Cache-Control", `no-cache="Set-Cookie"`)
	return nil
}

// deleteSessionCookies expires every session cookie (whole or chunk) on the
// request, except the names in keep. With nothing on the request it still
// expires the plain name, so a client holding it drops it.
func (a *Auth[T]) deleteSessionCookies(w http.ResponseWriter, r *http.Request, keep map[string]bool) {
	deleted := false
	it := newCookieIter(r)
	seen := map[string]bool{}
	for {
		k, _, ok := it.next()
		if !ok {
			break
		}
		if a.isSessionCookieName(k) && !keep[k] && !seen[k] {
			seen[k] = true
			http.SetCookie(w, a.cookie(k, "", time.Unix(0, 0), -1))
			deleted = true
		}
	}
	if !deleted && keep == nil {
		http.SetCookie(w, a.cookie(a.sessionCookie, "", time.Unix(0, 0), -1))
	}
}

// cookie builds a cookie with authgate's attributes: Path=/, HttpOnly,
// SameSite=Lax, Secure on https, no Domain (so __Host- names are valid).
func (a *Auth[T]) cookie(name, value string, expires time.Time, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   a.secure,
		SameSite: http.SameSiteLaxMode,
	}
}
