package main

// auth.go is the demo's whole auth wiring, the file to copy into your own
// app: one authgate.Config with an Authorize function over the users table
// and the two callbacks every role-based app writes (NextAuth's "jwt copies
// the role into the token, session copies it out"). pages.go mounts the
// result: auth.Handler() at /api/auth/, auth.Middleware around the pages,
// auth.RequireAuth and auth.RequireRole("admin") on the guarded ones.

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/authgate/authgate"
)

// Claims are the demo's own typed claims, carried in the session cookie
// (authgate's type parameter T): handlers read them as s.Claims.Note, with
// no type assertion. The session JSON shows them as "claims" once set.
type Claims struct {
	// UpdateTrigger and Note are written by the JWT callback when the client
	// calls update({note: "…"}) (useSession().update in next-auth/react), so
	// the example page can show that the call reached the server.
	UpdateTrigger string `json:"updateTrigger,omitempty"`
	Note          string `json:"note,omitempty"`
}

// newAuth builds the authgate instance for the demo's users.
func newAuth(store *Store, o Options) (*authgate.Auth[Claims], error) {
	return authgate.New(authgate.Config[Claims]{
		Secrets: []string{o.Secret},
		URL:     o.URL,
		// Our own login form replaces the built-in page; guards send
		// anonymous browsers to /login?callbackUrl=….
		Pages:        authgate.Pages{SignIn: "/login"},
		MaxAge:       o.MaxAge,
		UpdateAge:    o.UpdateAge,
		MaxLifetime:  o.MaxLifetime,
		Logger:       o.Logger,
		ErrorHandler: o.ErrorHandler,
		Now:          o.Now,
		Hasher:       o.Hasher,
		Limiter:      o.Limiter,
		Revocations:  o.Revocations,

		// Authorize checks a username and password from the sign-in form.
		// It returns nil (→ "CredentialsSignin", 401) for a wrong password
		// AND for an unknown user, after the same amount of work: passing ""
		// to PasswordMatches runs a dummy bcrypt comparison, so response
		// times do not reveal which usernames exist.
		Authorize: func(ctx context.Context, c *authgate.Credentials) (*authgate.User[Claims], error) {
			u, err := store.UserByUsername(ctx, c.Username())
			if errors.Is(err, ErrNoUser) {
				c.PasswordMatches("")
				return nil, nil
			}
			if err != nil {
				return nil, err // logged by authgate; the client sees CredentialsSignin
			}
			if !c.PasswordMatches(u.PasswordHash) {
				return nil, nil
			}
			return &authgate.User[Claims]{
				ID:    strconv.FormatInt(u.ID, 10),
				Name:  u.Username, // the session's user.name is the username
				Email: u.Email,
				Role:  u.Role,
			}, nil
		},

		Callbacks: authgate.Callbacks[Claims]{
			// JWT shapes what the cookie carries. authgate would copy ID and
			// Role by default too; the demo spells it out, as NextAuth apps do.
			JWT: func(ctx context.Context, p authgate.JWTParams[Claims]) (*authgate.Token[Claims], error) {
				switch p.Trigger {
				case authgate.TriggerSignIn:
					p.Token.Subject = p.User.ID
					p.Token.Role = p.User.Role
				case authgate.TriggerRefresh:
					// At most once per UpdateAge: reload the role, so that a
					// demotion reaches live sessions, and end the session of a
					// deleted user (an error fails closed: anonymous).
					u, err := store.UserByID(ctx, p.Token.Subject)
					if err != nil {
						return nil, err
					}
					p.Token.Role = u.Role
				case authgate.TriggerUpdate:
					// The client's data is untrusted: take only the note, never
					// a role or id from it.
					var data struct {
						Note string `json:"note"`
					}
					_ = json.Unmarshal(p.Data, &data) // bad or missing data: empty note
					p.Token.Claims.UpdateTrigger = string(p.Trigger)
					p.Token.Claims.Note = truncate(data.Note, 100)
				}
				return p.Token, nil
			},
			// Session builds what handlers and GET /api/auth/session see:
			// {"user":{"id","name","email","role"},"expires"}. It runs on every
			// request, so it only copies fields and does no I/O.
			Session: func(ctx context.Context, p authgate.SessionParams[Claims]) (*authgate.Session[Claims], error) {
				p.Session.User.ID = p.Token.Subject
				p.Session.User.Role = p.Token.Role
				return p.Session, nil
			},
		},
	})
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
