package authgate

import "time"

// Tokens another application mints: see [CodecInfo.Shared].

// sharedDefaults fills in the claims a token minted by another app (a
// Next.js app with NextAuth) lacks, as [CodecInfo.Shared] documents: no
// "aud" means this deployment, no "auth_time" means signed in at "iat" for
// the time rules, and an unknown sign-in time for revocation marks. It
// depends only on the token, so the result may be cached.
func (a *Auth[T]) sharedDefaults(tok *Token[T]) {
	if tok.Audience == "" {
		tok.Audience = a.audience
	}
	if tok.AuthTime == 0 {
		tok.AuthTime = tok.IssuedAt
		tok.unknownAuthTime = true
	}
}

// revocationAuthTime is the sign-in time tok is checked against revocation
// marks with: its auth_time, or the zero time, which every mark covers,
// when the token came without one (its iat moves forward whenever the
// other app re-issues it, so it would slip past a mark).
func revocationAuthTime[T any](tok *Token[T]) time.Time {
	if tok.unknownAuthTime {
		return time.Time{}
	}
	return time.Unix(tok.AuthTime, 0)
}

// revocationExpiry is how long a revocation of tok must be kept at now:
// until no copy of the session can be valid. authgate's own copies are
// re-issued only while not revoked, so none outlives now + MaxAge; with a
// shared codec the other app keeps re-issuing copies (it does not consult
// the store), so the revocation lasts to the session's absolute end, and
// for a token without auth_time, whose end moves with each re-issue, as
// long as any store keeps it (MaxLifetime from now). A database
// session's row is deleted with it (dbsession.go), so only the caches that
// may still serve it, for dbCacheTTL, need the revocation. Each is
// extended by the clock-skew allowance: another instance's clock may be
// behind.
func (a *Auth[T]) revocationExpiry(tok *Token[T], now time.Time) time.Time {
	end := tok.AuthTime + int64(a.cfg.MaxLifetime/time.Second)
	if tok.unknownAuthTime {
		end = now.Unix() + int64(a.cfg.MaxLifetime/time.Second)
	}
	if !a.shared {
		end = min(end, now.Unix()+int64(a.cfg.MaxAge/time.Second))
	}
	if a.cfg.DatabaseSessions {
		end = min(end, now.Add(dbCacheTTL).Unix())
	}
	return time.Unix(end, 0).Add(clockSkew)
}

// validSessionID reports whether id has the shape of a session id:
// authgate's own (22 base64url characters), or with a shared codec 1 to 64
// characters of the base64url alphabet (NextAuth's UUIDs).
func (a *Auth[T]) validSessionID(id string) bool {
	if !a.shared {
		return len(id) == sessionIDLen
	}
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
