package authgate

import (
	"net/http"
	"net/url"
	"strings"
)

// Bearer tokens: with [Config.AcceptBearer], a request without a session
// cookie may carry the session token in "Authorization: Bearer <token>",
// URL-encoded, as NextAuth's getToken reads it. It serves server-to-server
// calls (a Next.js server forwarding its user's token to a Go API).

// requestValue returns r's raw session value: the session cookie's (see
// sessionValue) or, when AcceptBearer is on and r carries no session
// cookie at all, the bearer token's, with bearer true. It returns
// ErrNoSession when there is neither.
func (a *Auth[T]) requestValue(r *http.Request) (raw string, bearer bool, err error) {
	raw, err = a.sessionValue(r)
	if err != ErrNoSession || !a.cfg.AcceptBearer {
		return raw, false, err
	}
	v, ok := bearerToken(r)
	if !ok {
		return "", false, ErrNoSession
	}
	limit := a.cfg.MaxCookieChunks * chunkSize
	if len(v) > 3*limit {
		return "", true, ErrInvalidSession
	}
	if strings.IndexByte(v, '%') >= 0 {
		u, err := url.PathUnescape(v)
		if err != nil {
			return "", true, ErrInvalidSession
		}
		v = u
	}
	if v == "" || len(v) > limit {
		return "", true, ErrInvalidSession
	}
	return v, true, nil
}

// bearerToken returns the token of r's single Authorization header when
// its scheme is Bearer (case-insensitive, as RFC 9110 says).
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header["Authorization"]
	if len(h) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimLeft(tok, " ")
	return tok, tok != ""
}

// hasBearer reports whether r would be read as a bearer request.
func (a *Auth[T]) hasBearer(r *http.Request) bool {
	if !a.cfg.AcceptBearer {
		return false
	}
	_, ok := bearerToken(r)
	return ok
}
