// Package nodejwt runs the unmodified token code of next-auth 4 and
// @auth/core (Auth.js 5) for the codecs' tests, through the script
// examples/nextauth-interop/jwt.mjs and the packages its package-lock.json
// pins (installed there with `npm ci`).
package nodejwt

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Node is one running jwt.mjs process. It is safe for concurrent use.
type Node struct {
	mu  sync.Mutex
	in  *json.Encoder
	out *bufio.Scanner
}

// Dir is examples/nextauth-interop.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "examples", "nextauth-interop")
}

// Require skips t (or, under CI=true, fails it) when node or the installed
// packages are missing.
func Require(tb testing.TB) {
	tb.Helper()
	miss := func(why string) {
		tb.Helper()
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s (CI=true: the real npm packages are required; .ci/run installs them)", why)
		}
		tb.Skipf("%s; run `npm ci` in examples/nextauth-interop to test against the real packages", why)
	}
	if _, err := exec.LookPath("node"); err != nil {
		miss("node is not installed")
	}
	for _, p := range []string{"next-auth/jwt/index.js", "@auth/core/jwt.js"} {
		if _, err := os.Stat(filepath.Join(Dir(), "node_modules", p)); err != nil {
			miss("node_modules/" + p + " is missing")
		}
	}
}

// Start starts jwt.mjs for the test and stops it when the test ends.
func Start(tb testing.TB) *Node {
	tb.Helper()
	Require(tb)
	cmd := exec.Command("node", "jwt.mjs")
	cmd.Dir = Dir()
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting node: %v", err)
	}
	tb.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return &Node{in: json.NewEncoder(stdin), out: sc}
}

// Call sends req and decodes the answer into resp.
func (n *Node) Call(req, resp any) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.in.Encode(req); err != nil {
		return err
	}
	if !n.out.Scan() {
		return fmt.Errorf("nodejwt: no answer: %v", n.out.Err())
	}
	return json.Unmarshal(n.out.Bytes(), resp)
}

// Result is jwt.mjs's answer.
type Result struct {
	Token   string         `json:"token"`
	Payload map[string]any `json:"payload"`
	Error   string         `json:"error"`
}

// Encode runs lib's ("v4" or "v5") encode.
func (n *Node) Encode(tb testing.TB, lib string, token map[string]any, secret any, salt string, maxAge int) string {
	tb.Helper()
	return n.EncodeAt(tb, lib, token, secret, salt, maxAge, time.Time{})
}

// EncodeAt runs lib's encode with the packages' clock at now (the real
// time when now is zero).
func (n *Node) EncodeAt(tb testing.TB, lib string, token map[string]any, secret any, salt string, maxAge int, now time.Time) string {
	tb.Helper()
	return n.token(tb, map[string]any{"lib": lib, "op": "encode", "token": token, "secret": secret, "salt": salt}, maxAge, now)
}

// RefreshAt runs what lib's session route does to a session token at
// now: decode, the jwt callback (returning the token unchanged) and
// encode, which gives the token a new iat, exp and jti.
func (n *Node) RefreshAt(tb testing.TB, lib, token string, secret any, salt string, maxAge int, now time.Time) string {
	tb.Helper()
	return n.token(tb, map[string]any{"lib": lib, "op": "refresh", "token": token, "secret": secret, "salt": salt}, maxAge, now)
}

func (n *Node) token(tb testing.TB, req map[string]any, maxAge int, now time.Time) string {
	tb.Helper()
	if maxAge > 0 {
		req["maxAge"] = maxAge
	}
	if !now.IsZero() {
		req["now"] = now.Unix()
	}
	var r Result
	if err := n.Call(req, &r); err != nil || r.Error != "" || r.Token == "" {
		tb.Fatalf("%s %s: %v %s", req["lib"], req["op"], err, r.Error)
	}
	return r.Token
}

// Decode runs lib's decode; it returns the payload, or the error's name.
func (n *Node) Decode(tb testing.TB, lib, token string, secret any, salt string) (map[string]any, string) {
	tb.Helper()
	var r Result
	if err := n.Call(map[string]any{"lib": lib, "op": "decode", "token": token, "secret": secret, "salt": salt}, &r); err != nil {
		tb.Fatalf("%s decode: %v", lib, err)
	}
	return r.Payload, r.Error
}

// GetToken runs lib's getToken on a request carrying cookies and an
// Authorization header.
func (n *Node) GetToken(tb testing.TB, lib string, cookies map[string]string, authorization string, secret any, secureCookie bool) map[string]any {
	tb.Helper()
	var r Result
	if err := n.Call(map[string]any{"lib": lib, "op": "getToken", "cookies": cookies, "authorization": authorization, "secret": secret, "secureCookie": secureCookie}, &r); err != nil || r.Error != "" {
		tb.Fatalf("%s getToken: %v %s", lib, err, r.Error)
	}
	return r.Payload
}
