package authgate_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/authgate"
)

const base = "https://app.example"

// hostile are callbackUrl values that must never lead off the base origin.
var hostile = []string{
	"https://evil.example",
	"https://evil.example/path",
	"http://app.example",        // right host, wrong scheme
	"https://app.example:8443/", // right host, other port
	"https://app.example.evil.example/",
	"https://evil.example/https://app.example",
	"https://app.example@evil.example/",
	"https://user:pass@app.example/",
	"//evil.example",
	"//evil.example/path",
	"///evil.example",
	"////evil.example",
	"/\\evil.example",
	"\\\\evil.example",
	"\\/evil.example",
	"/\t/evil.example",
	"/\n/evil.example",
	"/\r/evil.example",
	"\x00/evil.example",
	" //evil.example",
	"\t//evil.example",
	"https:evil.example",
	"https:/evil.example",
	"https:///evil.example",
	"http:\\\\evil.example",
	"javascript:alert(1)",
	"JavaScript:alert(1)",
	"data:text/html,<script>alert(1)</script>",
	"vbscript:msgbox(1)",
	"file:///etc/passwd",
	"ftp://evil.example",
	"/\u2215evil.example",       // division slash
	"/\uff0fevil.example",       // fullwidth solidus
	"https://evil\u3002example", // ideographic full stop
	"https://app\u2024example",  // one dot leader
	"evil.example",
	"evil.example/path",
	".evil.example",
	"@evil.example",
	"https://evil.example\\@app.example/",
	"https://evil.example#@app.example",
	"https://evil.example?@app.example",
	"/" + strings.Repeat("a", 3000),
	"https://app.example/" + strings.Repeat("a", 3000),
	"%2F%2Fevil.example",
	"https%3A%2F%2Fevil.example",
	"http://[::1]/",
	"http://127.0.0.1/",
	"HTTPS://EVIL.EXAMPLE/",
	"",
}

func TestSameOriginRefusesHostileURLs(t *testing.T) {
	t.Parallel()
	if len(hostile) < 40 {
		t.Fatalf("only %d hostile values; the table must keep at least 40", len(hostile))
	}
	for _, raw := range hostile {
		t.Run(url.PathEscape(raw[:min(len(raw), 40)]), func(t *testing.T) {
			got, err := authgate.SameOrigin(context.Background(), authgate.RedirectParams{URL: raw, BaseURL: base})
			if err != nil {
				t.Fatalf("SameOrigin(%q): error %v", raw, err)
			}
			assertOnOrigin(t, raw, got)
		})
	}
}

func TestSameOriginKeepsLocalURLs(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/dashboard", base + "/dashboard"},
		{"/dashboard?tab=1#top", base + "/dashboard?tab=1#top"},
		{"/", base + "/"},
		{base + "/x/y?z=1", base + "/x/y?z=1"},
		{"HTTPS://APP.EXAMPLE/Case", base + "/Case"},
		{"/%2F%2Fevil.example", base + "/%2F%2Fevil.example"}, // stays an encoded path
		{"/a%20b", base + "/a%20b"},
		{"/path;with=params", base + "/path;with=params"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, _ := authgate.SameOrigin(context.Background(), authgate.RedirectParams{URL: tt.in, BaseURL: base})
			if got != tt.want {
				t.Fatalf("SameOrigin(%q): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestHostileCallbackURLThroughSignIn checks the whole path: a hostile
// callbackUrl in a real sign-in never comes back as the JSON url.
func TestHostileCallbackURLThroughSignIn(t *testing.T) {
	t.Parallel()
	a := newApp(t, nil)
	for _, raw := range hostile[:12] {
		c := a.client()
		res := c.postForm("/api/auth/callback/credentials", url.Values{
			"username": {"alice"}, "password": {"alice-password"}, "csrfToken": {c.csrf()},
			"callbackUrl": {raw}, "json": {"true"}})
		if res.StatusCode != 200 || !strings.Contains(res.body, `"url":"`+a.url) {
			t.Errorf("callbackUrl %q: got %d %s, want a URL on %s", raw, res.StatusCode, res.body, a.url)
		}
	}
}

// assertOnOrigin fails unless got is an absolute URL on base's origin
// as a browser would parse it.
func assertOnOrigin(t *testing.T, in, got string) {
	t.Helper()
	u, err := url.Parse(got)
	if err != nil || u.Scheme != "https" || u.Host != "app.example" || u.User != nil || u.Opaque != "" {
		t.Fatalf("SameOrigin(%q) = %q: not on %s", in, got, base)
	}
	if !strings.HasPrefix(got, base+"/") && got != base {
		t.Fatalf("SameOrigin(%q) = %q: does not start with %s/", in, got, base)
	}
	for i := 0; i < len(got); i++ {
		if got[i] <= 0x20 || got[i] >= 0x7f || got[i] == '\\' {
			t.Fatalf("SameOrigin(%q) = %q: byte %#x at %d", in, got, got[i], i)
		}
	}
	if strings.HasPrefix(got[len(base):], "//") {
		t.Fatalf("SameOrigin(%q) = %q: path starts with //", in, got)
	}
}

func FuzzRedirect(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Add("/dashboard?x=1#y")
	f.Add(base + "/ok")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := authgate.SameOrigin(context.Background(), authgate.RedirectParams{URL: raw, BaseURL: base})
		if err != nil {
			t.Fatal(err)
		}
		assertOnOrigin(t, raw, got)
	})
}
