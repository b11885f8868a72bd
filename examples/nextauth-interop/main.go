// Command nextauth-interop is the Go half of a site shared between a
// Next.js app (NextAuth v4 or Auth.js v5) and a Go API: one origin, one
// session cookie, minted and read by either side.
//
// It serves, on -addr:
//
//	/api/auth/*, /api/authjs/*, /api/node/*  proxied to the Node app (-node), which
//	                                         runs the unmodified next-auth / @auth/core
//	GET  /api/go/me                          the session, read by authgate.Middleware
//	POST /api/go/signin                      authgate signs a demo user in (form username,
//	                                         password "pw-<username>"): Go mints the cookie
//	POST /api/go/signout                     authgate signs out
//	POST /api/go/signout-everywhere          authgate ends every session of the signed-in user
//
// Both sides share AUTH_SECRET (at least 32 bytes). Run it with
//
//	npm ci && AUTH_SECRET=… NEXTAUTH_URL=http://localhost:3000 PORT=3001 node next-app.mjs &
//	AUTH_SECRET=… go run . -addr :3000 -node http://127.0.0.1:3001 -format nextauth-v4
package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/nextauth"
)

// Claims are the app's own claims, which NextAuth keeps at the top level
// of its token ("plan"), as the Node app's jwt callback sets them.
type Claims struct {
	Plan string `json:"plan,omitempty"`
}

// Options configure the Go half.
type Options struct {
	// URL is the site's public origin, the same NEXTAUTH_URL the Node app
	// has.
	URL string
	// Secret is the AUTH_SECRET both sides share.
	Secret string
	// Format is "nextauth-v4" or "authjs-v5".
	Format string
	// Node is where the Node app listens.
	Node *url.URL
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// NewHandler returns the site's Go handler.
func NewHandler(o Options) (http.Handler, error) {
	var codec authgate.Codec
	var cookie string
	var err error
	switch o.Format {
	case "nextauth-v4":
		codec, err = nextauth.NewV4(o.Secret)
		cookie = nextauth.V4CookieName
	case "authjs-v5":
		codec, err = nextauth.NewV5(o.Secret)
		cookie = nextauth.V5CookieName
	default:
		return nil, fmt.Errorf("unknown format %q (want nextauth-v4 or authjs-v5)", o.Format)
	}
	if err != nil {
		return nil, err
	}
	auth, err := authgate.New(authgate.Config[Claims]{
		Secrets:           []string{o.Secret},
		URL:               o.URL,
		BasePath:          "/api/go-auth", // NextAuth owns /api/auth
		Codec:             codec,
		SessionCookieName: cookie,
		AcceptBearer:      true,
		Now:               o.Now,
		// Users sign in on the Next.js side (or through /api/go/signin);
		// authgate's own credentials form is not used here.
		Authorize: func(context.Context, *authgate.Credentials) (*authgate.User[Claims], error) {
			return nil, nil
		},
	})
	if err != nil {
		return nil, err
	}
	proxy := httputil.NewSingleHostReverseProxy(o.Node)
	mux := http.NewServeMux()
	for _, p := range []string{"/api/auth/", "/api/authjs/", "/api/node/"} {
		mux.Handle(p, proxy)
	}
	mux.Handle("/api/go-auth/", auth.Handler())
	mux.HandleFunc("GET /api/go/me", func(w http.ResponseWriter, r *http.Request) {
		s, ok := auth.Session(r)
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthenticated"})
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
	cop := http.NewCrossOriginProtection()
	mux.Handle("POST /api/go/signin", cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The Node app's demo users: password "pw-<name>".
		name, pw := r.FormValue("username"), r.FormValue("password")
		if name == "" || len(name) > 64 || subtle.ConstantTimeCompare([]byte(pw), []byte("pw-"+name)) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "CredentialsSignin"})
			return
		}
		u := &authgate.User[Claims]{ID: "u-" + name, Name: name, Email: name + "@example.com", Role: "user", Claims: Claims{Plan: "go"}}
		if strings.HasPrefix(name, "big") {
			u.Claims.Plan = strings.Repeat("g", 6000) // a chunked cookie
		}
		if err := auth.SignIn(w, r, u); err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, authgate.ErrAccessDenied) {
				status = http.StatusForbidden
			}
			writeJSON(w, status, map[string]string{"error": "signin"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"ok": name})
	})))
	mux.Handle("POST /api/go/signout", cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := auth.SignOut(w, r); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "signout"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})))
	mux.Handle("POST /api/go/signout-everywhere", cop.Handler(auth.RequireAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := auth.Session(r)
		if err := auth.SignOutEverywhere(r.Context(), s.User.ID); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "signout"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	}))))
	return auth.Middleware(mux), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	public := flag.String("url", "http://localhost:3000", "the site's public origin (NEXTAUTH_URL)")
	node := flag.String("node", "http://127.0.0.1:3001", "the Node app's address")
	format := flag.String("format", "nextauth-v4", "token format: nextauth-v4 or authjs-v5")
	flag.Parse()
	nu, err := url.Parse(*node)
	if err != nil {
		log.Fatal(err)
	}
	h, err := NewHandler(Options{URL: *public, Secret: os.Getenv("AUTH_SECRET"), Format: *format, Node: nu})
	if err != nil {
		log.Fatal(err)
	}
	slog.Info("nextauth-interop: listening", "addr", *addr, "format", *format)
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
