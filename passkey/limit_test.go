package passkey_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate"
)

// Every ceremony takes a unit of its address's budget in the app's
// Limiter when it begins: a flood of options requests (each writes a
// challenge) is answered 429 with Retry-After. A completed ceremony gives
// its unit back, so users who finish never run out.
func TestCeremoniesAreThrottledByAddress(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{auth: func(c *authgate.Config[claims]) {
		c.Limiter = authgate.NewMemoryLimiter(authgate.MemoryLimiterOptions{PerAddress: authgate.AttemptBudget{Burst: 3, Every: 1 << 40}})
	}})
	b, _ := registered(t, e) // one registration and one sign-in, both completed
	for i := range 3 {
		if r, _ := b.options("?action=authenticate"); r.status != 200 {
			t.Fatalf("abandoned ceremony %d: got %d %s", i+1, r.status, r.body)
		}
	}
	r, _ := b.options("?action=authenticate")
	if r.status != 429 || r.json()["error"] != authgate.CodeTooManyAttempts || r.header.Get("Retry-After") == "" {
		t.Errorf("the fourth abandoned ceremony: got %d %s (Retry-After %q), want 429 TooManyAttempts", r.status, r.body, r.header.Get("Retry-After"))
	}
	if !e.logs.has("passkey_throttled") {
		t.Error("the throttling is not logged")
	}
}

// The helper and the library are served as ES modules; the library is
// the npm package's bundle, byte for byte, at the version the example's
// lock file pins.
func TestTheBrowserHelperIsServed(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t, edits{})
	b := e.browser()
	helper := b.get("/api/auth/passkey/client.js")
	if helper.status != 200 || !strings.HasPrefix(helper.header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(helper.body, `from "./simplewebauthn-browser.js"`) || !strings.Contains(helper.body, "export async function signIn") {
		t.Errorf("client.js: %d %v", helper.status, helper.header)
	}
	lib := b.get("/api/auth/passkey/simplewebauthn-browser.js")
	if lib.status != 200 || !strings.HasSuffix(lib.body, "globalThis.SimpleWebAuthnBrowser;\n") || helper.header.Get("ETag") == "" {
		t.Errorf("simplewebauthn-browser.js: %d %q…", lib.status, lib.body[:min(len(lib.body), 80)])
	}
	vendored, err := os.ReadFile("client/simplewebauthn-browser.umd.min.js")
	if err != nil {
		t.Fatal(err)
	}
	npm := filepath.Join("..", "examples", "passkey-browser", "node_modules", "@simplewebauthn", "browser", "dist", "bundle", "index.umd.min.js")
	fromNPM, err := os.ReadFile(npm)
	switch {
	case err != nil && os.Getenv("CI") == "true":
		t.Fatalf("%v: ./test.sh installs examples/passkey-browser's packages", err)
	case err != nil:
		t.Skipf("%v: run ./test.sh (npm ci in examples/passkey-browser) to compare the vendored library", err)
	case !bytes.Equal(vendored, fromNPM):
		t.Errorf("client/simplewebauthn-browser.umd.min.js differs from %s: copy it over after changing the version", npm)
	}
}
