package authgate

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr returns the address sign-in attempts are throttled by: the
// host of RemoteAddr, or, when RemoteAddr is one of
// [Config.TrustedProxies], the right-most X-Forwarded-For entry that is not
// itself a trusted proxy. An unparsable value yields the raw RemoteAddr
// host, so it still throttles as one client.
func (a *Auth[T]) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if !a.trusted(addr) {
		return addr.String()
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			hop, err := parseHop(strings.TrimSpace(parts[j]))
			if err != nil {
				return addr.String() // a garbled chain: use the proxy itself
			}
			hop = hop.Unmap()
			if !a.trusted(hop) {
				return hop.String()
			}
			addr = hop
		}
	}
	return addr.String()
}

func (a *Auth[T]) trusted(addr netip.Addr) bool {
	for _, p := range a.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// parseHop parses one X-Forwarded-For entry: an address, or an address
// with a port ("1.2.3.4:5678", "[2001:db8::1]:443") as some proxies send.
func parseHop(s string) (netip.Addr, error) {
	if addr, err := netip.ParseAddr(s); err == nil {
		return addr, nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.Addr{}, err
	}
	return ap.Addr(), nil
}
