// Command authgate-demo is the authgate demo app: a small site with a login
// form, a dashboard, a devices page, an admin page and a JSON API, whose
// users live in a SQLite file (or PostgreSQL) through authgate's sqlstore.
// It is the code to read first: auth.go holds the whole auth wiring;
// store.go the users; pages.go the pages.
//
// Run it with no arguments (go run ./cmd/authgate-demo) and open
// http://localhost:3000. See usage below, or run it with -h.
package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/authgate/authgate"
)

const usage = `authgate-demo: the authgate demo app (users in SQLite or PostgreSQL, sessions in cookies or the database).

Usage:
  authgate-demo                        the same as "serve" with its defaults
  authgate-demo serve [-db FILE | -database URL] [-addr HOST:PORT] [-static DIR] [-redis URL]
                      [-session-strategy jwt|database]
                      [-session-max-age D] [-session-update-age D] [-session-max-lifetime D]
                      [-oidc-issuer URL -oidc-client-id ID | -dev-oidc]
                      [-token-format authgate|nextauth-v4|authjs-v5]
                      [-smtp smtp://user:pass@host:port [-email-from ADDRESS]]
  authgate-demo adduser [-db FILE | -database URL] -username NAME [-email EMAIL] [-role user|admin] < password

Defaults: -db authgate-demo.db, -addr localhost:3000, -role user,
-session-strategy jwt, -token-format authgate. Durations D are Go durations
such as 30m, 12h or 720h.

-database postgres://user:pass@host/db (or DATABASE_URL) keeps the users and
sessions in PostgreSQL instead of the -db file. -session-strategy database
keeps each session in the database and puts only an opaque token in the
cookie; jwt keeps the session in its encrypted cookie. Either way /devices
lists where you are signed in and signs a device out.

-token-format nextauth-v4 reads and writes the session cookie exactly as a
Next.js app with next-auth 4 and the same AUTH_SECRET does
(next-auth.session-token, __Secure- on https); authjs-v5 likewise for Auth.js
v5 (authjs.session-token). The default, authgate, is authgate's own cookie.

serve first checks its settings, takes the port and reaches Redis and the
providers; a mistake stops it with a message naming the flag or variable,
before anything is written. Then it creates the database and its users table
if needed. When the table is empty it creates two demo users, alice (role
admin) and bob (role user), and prints their random passwords once. It stops
gracefully on SIGINT or SIGTERM. -dev-oidc adds "Sign in with OpenID Connect"
through a development provider on loopback that signs everyone in as jane.doe.
-smtp (or SMTP_URL) adds "E-mail me a link" and "Forgot password?" to the
login page, mailing from -email-from (default "authgate demo
<no-reply@HOST>"); smtp:// needs STARTTLS except on a loopback host,
smtps:// is TLS from the start. Without it, and only when AUTH_URL is a
loopback address (local mode), the links are written to the log instead,
with a warning; with any other AUTH_URL they are off.
Pages: /login, /dashboard (signed in), /devices (your signed-in devices),
/admin (role admin), /api/me (JSON), and the NextAuth-compatible endpoints
under /api/auth/. A database made by an older demo (a table users) is moved
into sqlstore's tables at start; the old table is kept as
users_before_sqlstore.

adduser reads the password from the first line of standard input, hashes it
with bcrypt and adds the user (-email is optional; -role is user or admin).
A duplicate username, an invalid password (empty, or over 72 bytes) or an
unknown role is refused with a message and exit status 1, and nothing is
written.

Environment (serve and adduser):
  DATABASE_URL the same as -database (the flag wins).

Environment (serve):
  AUTH_SECRET  at least 32 bytes of random data (e.g. openssl rand -base64 32).
               Unset: a random secret per process, so sessions end on restart.
  AUTH_URL     the public origin, e.g. https://demo.example.com. Unset:
               http://HOST:PORT from -addr (0.0.0.0 and :: become localhost).
               Browse the demo at exactly this origin: cookies are per host.
  REDIS_URL    the same as -redis, e.g. redis://127.0.0.1:6379/0 (the flag
               wins). With it, sign-in throttling and sign-outs are shared
               by every demo process using that Redis (give them the same
               AUTH_SECRET and AUTH_URL, the load balancer's); without it
               they stay in this process. An unreachable Redis stops the
               start with a message.
  OIDC_CLIENT_SECRET  with -oidc-issuer and -oidc-client-id: "Sign in with
               OpenID Connect" (provider id oidc; register the redirect URI
               AUTH_URL/api/auth/callback/oidc at the issuer).
  GITHUB_ID, GITHUB_SECRET  an OAuth app's credentials: "Sign in with GitHub"
               (callback URL AUTH_URL/api/auth/callback/github).
  SMTP_URL     the same as -smtp, e.g. smtp://user:pass@smtp.example.com:587
               (the flag wins; the password is never printed).
               Users who sign in with a provider get the role user.

Exit status: 0 on success, 1 on failure, 2 on a usage error.
`

// self is how the user started the demo, for the commands its hints show:
// "go run ./cmd/authgate-demo" under go run, else the program as typed.
var self = "authgate-demo"

func main() {
	self = invocation(os.Args[0])
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is main with its inputs and outputs passed in, so that tests can drive
// it; it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr, getenv)
	case "adduser":
		return addUser(ctx, args, stdin, stdout, stderr, getenv)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "authgate-demo: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// newFlagSet returns a flag set whose -h prints the whole usage text.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("authgate-demo "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fmt.Fprintf(stderr, "\nFlags of %s:\n", name)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; it returns the exit status to end with, or -1 to
// go on.
func parseFlags(fs *flag.FlagSet, args []string) int {
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		return 2
	case fs.NArg() > 0:
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2
	}
	return -1
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := newFlagSet("serve", stderr)
	dbFlags := addDatabaseFlags(fs)
	addr := fs.String("addr", "localhost:3000", "listen address `host:port` (port 0 picks a free port)")
	strategy := fs.String("session-strategy", "jwt", "where sessions live: `jwt` (in the encrypted cookie) or database (the cookie holds an opaque token)")
	static := fs.String("static", "", "serve the files of `dir` at / (e.g. examples/nextauth-react/dist)")
	maxAge := fs.Duration("session-max-age", 0, "idle timeout of a session (Config.MaxAge; 0: 720h)")
	updateAge := fs.Duration("session-update-age", 0, "how often an active session is re-issued (Config.UpdateAge; 0: 24h, or half a shorter -session-max-age)")
	maxLifetime := fs.Duration("session-max-lifetime", 0, "absolute lifetime from sign-in (Config.MaxLifetime; 0: 2160h)")
	redisURL := fs.String("redis", "", "share sign-in limits and revocations through the Redis at `URL` (default $REDIS_URL; unset: in memory)")
	oidcIssuer := fs.String("oidc-issuer", "", "OpenID Connect issuer `URL` for \"Sign in with OpenID Connect\" (with -oidc-client-id and OIDC_CLIENT_SECRET)")
	oidcClientID := fs.String("oidc-client-id", "", "the demo's client `ID` at the -oidc-issuer")
	format := fs.String("token-format", "authgate", "session token `format`: authgate, nextauth-v4 or authjs-v5")
	smtpURL := fs.String("smtp", "", "send sign-in and password reset links through the SMTP server at `URL` (smtp://user:pass@host:port; default $SMTP_URL)")
	emailFrom := fs.String("email-from", "", "the `address` links are mailed from (with -smtp)")
	devOIDC := fs.Bool("dev-oidc", false, "add \"Sign in with OpenID Connect\" through a development provider started on loopback, which signs everyone in as jane.doe without a password")
	require2FA := fs.String("require-2fa", "", "comma-separated `roles` whose users see /admin only after signing in with a second factor (e.g. admin; those without one are sent to /account/2fa)")
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "authgate-demo: "+format+"\n", a...)
		return 1
	}

	// Every setting is checked, the port taken and Redis and the providers
	// reached before anything is written or printed: a failed start never
	// swallows the demo users' one-time passwords.
	opts := Options{
		Secret:          getenv("AUTH_SECRET"),
		URL:             strings.TrimSuffix(getenv("AUTH_URL"), "/"),
		MaxAge:          *maxAge,
		UpdateAge:       *updateAge,
		MaxLifetime:     *maxLifetime,
		TokenFormat:     *format,
		SessionStrategy: *strategy,
		StaticDir:       *static,
		Logger:          logger,
	}
	for _, role := range strings.Split(*require2FA, ",") {
		if role = strings.TrimSpace(role); role != "" {
			opts.RequireSecondFactor = append(opts.RequireSecondFactor, role)
		}
	}
	if err := checkSettings(opts); err != nil {
		return fail("%v", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail("%v", listenError(*addr, err))
	}
	defer ln.Close()
	if opts.URL == "" {
		opts.URL = defaultURL(*addr, ln.Addr())
	}
	// -smtp: the mailer is checked now (it connects at the first mail).
	if *smtpURL == "" {
		*smtpURL = getenv("SMTP_URL")
	}
	mailer, err := newMailer(EmailOptions{SMTPURL: *smtpURL, From: *emailFrom}, opts.URL, logger)
	if err != nil {
		return fail("%v", err)
	}
	if opts.Secret == "" {
		opts.Secret = randomSecret()
		logger.Warn("AUTH_SECRET is not set: using a random secret for this process, so every session ends when it restarts")
	}
	oauth := OAuthOptions{
		OIDCIssuer: *oidcIssuer, OIDCClientID: *oidcClientID, OIDCClientSecret: getenv("OIDC_CLIENT_SECRET"),
		GitHubID: getenv("GITHUB_ID"), GitHubSecret: getenv("GITHUB_SECRET"),
	}
	if *devOIDC {
		if oauth.OIDCIssuer != "" || oauth.OIDCClientID != "" {
			return fail("-dev-oidc and -oidc-issuer both configure the provider oidc: give one of them")
		}
		stopIdP, err := startDevOIDC(&oauth, logger)
		if err != nil {
			return fail("-dev-oidc: %v", err)
		}
		defer stopIdP()
	}
	if opts.Providers, err = buildProviders(ctx, oauth); err != nil {
		return fail("%v", err)
	}
	redisFrom := "-redis"
	if *redisURL == "" {
		*redisURL, redisFrom = getenv("REDIS_URL"), "REDIS_URL"
	}
	if *redisURL != "" {
		closeRedis, err := useRedis(ctx, *redisURL, &opts, logger)
		if err != nil {
			return fail("%s: %v", redisFrom, err)
		}
		defer closeRedis()
	}
	if opts.Email, err = newEmail(ctx, mailer, opts.Redis); err != nil {
		return fail("-smtp: %v", err)
	}
	db := dbFlags.resolve(getenv)
	store, err := OpenStore(ctx, db.dsn, logger)
	if err != nil {
		return fail("%s: %v", db.from, err)
	}
	defer store.Close()
	handler, err := newApp(store, opts)
	if err != nil {
		return fail("%v", err)
	}

	// Everything is ready: now the demo users, once.
	seeded, err := store.SeedDemoUsers(ctx)
	if err != nil {
		return fail("create the demo users: %v", err)
	}
	if seeded != nil {
		PrintDemoUsers(stdout, seeded)
	} else if err := printExistingUsers(ctx, stdout, store, db); err != nil {
		return fail("read the users: %v", err)
	}

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "authgate-demo: serving %s (listening on %s, database %s, sessions: %s)\n", opts.URL, ln.Addr(), db.name(), cmp.Or(opts.SessionStrategy, "jwt"))

	select {
	case err := <-served:
		return fail("%v", err)
	case <-ctx.Done():
	}
	stop() // a second Ctrl-C ends the process at once
	logger.Info("shutting down: finishing the requests in flight (up to 10s)")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fail("shutdown: %v", err)
	}
	if opts.Email != nil {
		opts.Email.Wait(shutdownCtx) // password reset mails still being sent
	}
	return 0
}

// defaultURL is the public URL when AUTH_URL is unset: the -addr host as
// typed (so "localhost" stays "localhost"), with the port actually bound.
func defaultURL(addr string, bound net.Addr) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	_, port, _ := net.SplitHostPort(bound.String())
	return "http://" + net.JoinHostPort(host, port)
}

// randomSecret returns 256 random bits for a process without AUTH_SECRET.
func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return base64.StdEncoding.EncodeToString(b)
}

func addUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := newFlagSet("adduser", stderr)
	dbFlags := addDatabaseFlags(fs)
	username := fs.String("username", "", "the new user's `name` (required; stored lower-case)")
	email := fs.String("email", "", "the new user's `email` address")
	role := fs.String("role", "user", "the new user's `role`: "+strings.Join(KnownRoles, " or "))
	if code := parseFlags(fs, args); code >= 0 {
		return code
	}
	if *username == "" {
		fmt.Fprintln(stderr, "authgate-demo adduser: -username is required")
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "authgate-demo adduser: %v; nothing was written\n", err)
		return 1
	}

	// The password is the first line of standard input, without its line
	// ending, so that `echo "$PW" | authgate-demo adduser …` works.
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fail(fmt.Errorf("read the password: %w", err))
	}
	in := NewUserInput{Username: *username, Email: *email, Role: *role,
		Password: strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")}
	// Validate before opening the database, so bad input creates no file.
	if err := in.Validate(); err != nil {
		return fail(err)
	}
	db := dbFlags.resolve(getenv)
	store, err := OpenStore(ctx, db.dsn, nil)
	if err != nil {
		return fail(fmt.Errorf("%s: %w", db.from, err))
	}
	defer store.Close()
	u, err := store.AddUser(ctx, in)
	if errors.Is(err, ErrDuplicateUser) {
		return fail(fmt.Errorf("user %q already exists in %s", in.Username, db.name()))
	}
	if err != nil {
		return fail(err)
	}
	fmt.Fprintf(stdout, "authgate-demo adduser: added user %q (id %s, role %s) to %s\n", u.Username, u.ID, u.Role, db.name())
	return 0
}

// printExistingUsers says, when serve starts on a database that already has
// users, who they are and how to get a password again: the demo never
// stores a password in clear, so it cannot show it a second time.
func printExistingUsers(ctx context.Context, w io.Writer, store *Store, db database) error {
	users, err := store.Users(ctx)
	if err != nil {
		return err
	}
	names := make([]string, len(users))
	for i, u := range users {
		name := u.Username
		if name == "" {
			name = "id " + u.ID // signs in with a provider only
		}
		names[i] = name + " (" + u.Role + ")"
	}
	fmt.Fprintf(w, "authgate-demo: %d users in %s: %s. Their passwords were shown once, when the database was created.\n", len(users), db.name(), strings.Join(names, ", "))
	if db.file != "" {
		fmt.Fprintf(w, "  Lost one? Stop the demo and delete %s to start over with new demo users, or add a user of your own:\n", db.file)
	} else {
		fmt.Fprintf(w, "  Lost one? Add a user of your own:\n")
	}
	fmt.Fprintf(w, "  printf '%%s\\n' 'a long passphrase' | %s adduser %s -username NAME -role admin\n", self, db.flag())
	return nil
}

// checkSettings checks what serve reads from the environment and the
// flags, and names the variable or flag in its message, so that a mistake
// stops the start before anything is written or printed.
func checkSettings(o Options) error {
	if n := len(o.Secret); n > 0 && n < 32 {
		return fmt.Errorf("AUTH_SECRET is %d bytes; it needs at least 32 (make one with: openssl rand -base64 32)", n)
	}
	if o.URL != "" {
		u, err := url.Parse(o.URL)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "":
			return fmt.Errorf("AUTH_URL %q is not an http or https URL; give the origin browsers use, such as http://localhost:3000", o.URL)
		case u.Hostname() == "":
			return fmt.Errorf("AUTH_URL %q has no host; give the origin browsers use, such as http://localhost:3000", o.URL)
		case u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "":
			return fmt.Errorf("AUTH_URL %q must be an origin only, such as https://demo.example.com (no path, query or user info)", o.URL)
		}
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"-session-max-age", o.MaxAge}, {"-session-update-age", o.UpdateAge}, {"-session-max-lifetime", o.MaxLifetime}} {
		if d.v < 0 || (d.v > 0 && d.v < time.Second && d.flag != "-session-update-age") {
			return fmt.Errorf("%s %v: give a duration of at least 1s, such as 30m or 720h (0 keeps the default)", d.flag, d.v)
		}
	}
	if maxAge := cmp.Or(o.MaxAge, authgate.DefaultMaxAge); o.UpdateAge > maxAge {
		return fmt.Errorf("-session-update-age %v exceeds -session-max-age %v: sessions would end before they are re-issued", o.UpdateAge, maxAge)
	}
	if o.TokenFormat != "" && !slices.Contains(TokenFormats, o.TokenFormat) {
		return fmt.Errorf("-token-format %q: want one of %s", o.TokenFormat, strings.Join(TokenFormats, ", "))
	}
	switch o.SessionStrategy {
	case "", "jwt":
	case "database":
		if o.TokenFormat != "" && o.TokenFormat != "authgate" {
			return fmt.Errorf("-session-strategy database puts an opaque token in the cookie; -token-format %s applies to -session-strategy jwt only", o.TokenFormat)
		}
	default:
		return fmt.Errorf("-session-strategy %q: want jwt or database", o.SessionStrategy)
	}
	return nil
}

// databaseFlags are -db and -database, which serve and adduser share.
type databaseFlags struct{ file, url *string }

func addDatabaseFlags(fs *flag.FlagSet) databaseFlags {
	return databaseFlags{
		file: fs.String("db", "authgate-demo.db", "SQLite database `file` (created if missing)"),
		url:  fs.String("database", "", "PostgreSQL `URL` (postgres://user:pass@host/db) instead of the -db file (default $DATABASE_URL)"),
	}
}

// database is the database the demo opens, and where that choice came
// from, for messages.
type database struct {
	dsn  string
	from string // "-db", "-database" or "DATABASE_URL"
	file string // the SQLite file, or ""
}

// resolve picks the database: -database, else DATABASE_URL, else -db.
func (f databaseFlags) resolve(getenv func(string) string) database {
	switch {
	case *f.url != "":
		return database{dsn: *f.url, from: "-database"}
	case getenv("DATABASE_URL") != "":
		return database{dsn: getenv("DATABASE_URL"), from: "DATABASE_URL"}
	}
	return database{dsn: *f.file, from: "-db", file: *f.file}
}

// name is the database as messages show it (a URL without its password).
func (d database) name() string {
	if d.file != "" {
		return d.file
	}
	return redactURL(d.dsn)
}

// flag is how a hint names this database on a command line.
func (d database) flag() string {
	if d.file != "" {
		return "-db " + d.file
	}
	return "-database '" + redactURL(d.dsn) + "'"
}

// listenError says why -addr could not be listened on, in the demo's words.
func listenError(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("-addr %s: the port is in use (is the demo already running?); stop that program, or choose another port, such as -addr localhost:3001", addr)
	}
	return fmt.Errorf("-addr %s: %w", addr, err)
}

// invocation returns the command that started this program: the path as
// typed, or "go run ./cmd/authgate-demo" for a binary that go run built in
// its temporary folder.
func invocation(arg0 string) string {
	if strings.Contains(filepath.ToSlash(arg0), "/go-build") {
		return "go run ./cmd/authgate-demo"
	}
	return arg0
}
