package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authgate/authgate/redisstore"
	"github.com/authgate/authgate/redisstore/redistest"
)

// TestConnectSaysWhatWentWrong: a wrong URL is quoted (its user name and
// password masked), and a Redis that refuses the PING is reported with its
// answer, not as unreachable.
func TestConnectSaysWhatWentWrong(t *testing.T) {
	ctx := context.Background()
	t.Run("an invalid URL is quoted without its password", func(t *testing.T) {
		for _, raw := range []string{"redis://:s3cret@localhost:6379/abc", "redis://admin:s3cret@local host:6379/0", "localhost:6379"} {
			_, err := redisstore.Connect(ctx, raw, 0)
			if err == nil || errors.Is(err, redisstore.ErrUnavailable) {
				t.Fatalf("Connect(%q) = %v, want an invalid-URL error", raw, err)
			}
			if msg := err.Error(); strings.Contains(msg, "s3cret") || strings.Contains(msg, "admin") || !strings.Contains(msg, "invalid redis URL") {
				t.Errorf("Connect(%q): %q must name the problem, without the user name or password", raw, msg)
			}
		}
		_, err := redisstore.Connect(ctx, "redis://:s3cret@localhost:6379/abc", 0)
		if !strings.Contains(err.Error(), `"redis://xxxxx@localhost:6379/abc"`) {
			t.Errorf("the error %q does not quote the URL with its password masked", err)
		}
	})

	srv := redistest.Start(t)
	admin, err := redisstore.Connect(ctx, srv.URL(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if err := admin.ConfigSet(ctx, "requirepass", "right-password").Err(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, url, want string }{
		{"no password for a Redis that needs one", "redis://" + srv.Addr + "/0", "NOAUTH"},
		{"a wrong password", "redis://:wrong-password@" + srv.Addr + "/0", "WRONGPASS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := redisstore.Connect(ctx, tt.url, 0)
			if err == nil || errors.Is(err, redisstore.ErrUnavailable) {
				t.Fatalf("Connect = %v, want Redis's answer, not ErrUnavailable", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want) || !strings.Contains(msg, srv.Addr) || strings.Contains(msg, "wrong-password") {
				t.Errorf("error %q: want Redis's %s answer and the address, without the password", msg, tt.want)
			}
		})
	}
	c, err := redisstore.Connect(ctx, "redis://:right-password@"+srv.Addr+"/0", 0)
	if err != nil {
		t.Fatalf("Connect with the right password: %v", err)
	}
	c.Close()
}
