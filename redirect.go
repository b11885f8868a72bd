package authgate

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
)

// maxRedirectLen bounds a redirect target; longer values are refused.
const maxRedirectLen = 2048

// SameOrigin is the default [Callbacks.Redirect]: it allows a path that
// starts with exactly one '/', or an absolute http(s) URL whose scheme, host
// and port equal p.BaseURL, and answers p.BaseURL for anything else. The
// URL it returns is always absolute and on the base origin, rebuilt from
// the parsed path (still percent-encoded, so "/%2F%2Fevil.com" stays a
// path), query and fragment.
//
// It refuses backslashes, control characters, non-ASCII bytes (look-alikes
// of '/' and '.'), user info, scheme-relative "//host" URLs, opaque URLs
// such as "https:evil.com", other schemes, and values over 2 KiB. It never
// returns an error; the error result lets custom callbacks that wrap it
// report faults.
func SameOrigin(_ context.Context, p RedirectParams) (string, error) {
	if u, ok := sameOrigin(p.URL, p.BaseURL); ok {
		return u, nil
	}
	return p.BaseURL, nil
}

// sameOrigin validates raw against origin (lower-case "scheme://host").
func sameOrigin(raw, origin string) (string, bool) {
	if raw == "" || len(raw) > maxRedirectLen || !cleanURLBytes(raw) {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil {
		return "", false
	}
	if strings.HasPrefix(raw, "/") {
		// A path: exactly one leading slash and nothing that made the
		// parser see a scheme or host.
		if strings.HasPrefix(raw, "//") || u.Scheme != "" || u.Host != "" {
			return "", false
		}
	} else {
		scheme := strings.ToLower(u.Scheme)
		if (scheme != "http" && scheme != "https") || u.Host == "" ||
			scheme+"://"+strings.ToLower(u.Host) != origin {
			return "", false
		}
	}
	return origin + rebuildPath(u), true
}

// rebuildPath renders the path, query and fragment of u from their
// escaped forms; the path always starts with '/'.
func rebuildPath(u *url.URL) string {
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if strings.HasPrefix(p, "//") {
		// Only reachable from an absolute URL such as http://host//evil;
		// keep it a path on our origin (it already is), but collapse so no
		// later relative resolution can read it as a host.
		p = "/" + strings.TrimLeft(p, "/")
	}
	if u.RawQuery != "" || u.ForceQuery {
		p += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		p += "#" + u.EscapedFragment()
	}
	return p
}

// cleanURLBytes reports whether s is printable ASCII without backslashes or
// spaces.
func cleanURLBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// redirectURL resolves a requested destination through the Redirect
// callback (default [SameOrigin]) and checks what it returns: an absolute
// http(s) URL with a host and no user info or control characters, else the
// origin. The result is safe to put in a Location header or a JSON "url".
func (a *Auth[T]) redirectURL(ctx context.Context, raw string) string {
	if a.cfg.Callbacks.Redirect == nil {
		if u, ok := sameOrigin(raw, a.origin); ok {
			return u
		}
		return a.origin
	}
	out, err := a.cfg.Callbacks.Redirect(ctx, RedirectParams{URL: raw, BaseURL: a.origin})
	if err != nil {
		a.logDecision(ctx, slog.LevelError, "authgate: redirect callback failed",
			slog.String("event", "redirect_error"), slog.String("reason", err.Error()))
		return a.origin
	}
	if !validAbsolute(out) {
		return a.origin
	}
	return out
}

// validAbsolute reports whether s is an absolute http(s) URL with a host,
// no user info, and only clean bytes.
func validAbsolute(s string) bool {
	if s == "" || len(s) > maxRedirectLen || !cleanURLBytes(s) {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return (scheme == "http" || scheme == "https") && !strings.HasPrefix(u.Host, ".")
}
