// Command rrproxy is the small round-robin reverse proxy in front of two or
// more authgate instances in the load test (scripts/redis-load.sh): each
// request goes to the next backend in turn, as a load balancer without
// sticky sessions would send it. It is for loopback load tests only.
//
//	rrproxy -addr 127.0.0.1:18080 -backends http://127.0.0.1:18081,http://127.0.0.1:18082
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18080", "listen `address`")
	backends := flag.String("backends", "", "comma-separated backend `URLs`")
	flag.Parse()
	var targets []*url.URL
	for _, b := range strings.Split(*backends, ",") {
		u, err := url.Parse(strings.TrimSpace(b))
		if err != nil || u.Scheme == "" || u.Host == "" {
			fmt.Fprintf(os.Stderr, "rrproxy: bad backend %q\n", b)
			os.Exit(2)
		}
		targets = append(targets, u)
	}
	if len(targets) == 0 {
		fmt.Fprintln(os.Stderr, "rrproxy: -backends is required")
		os.Exit(2)
	}
	var next atomic.Uint64
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			t := targets[(next.Add(1)-1)%uint64(len(targets))]
			r.SetURL(t)
			r.SetXForwarded()
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute},
	}
	srv := &http.Server{Addr: *addr, Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
