package authgate

// Tokens another application mints: see [CodecInfo.Shared].

// sharedDefaults fills in the claims a token minted by another app (a
// Next.js app with NextAuth) lacks, as [CodecInfo.Shared] documents: no
// "aud" means this deployment, no "auth_time" means signed in at "iat". It
// depends only on the token, so the result may be cached.
func (a *Auth[T]) sharedDefaults(tok *Token[T]) {
	if tok.Audience == "" {
		tok.Audience = a.audience
	}
	if tok.AuthTime == 0 {
		tok.AuthTime = tok.IssuedAt
	}
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
