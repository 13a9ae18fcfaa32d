package auth

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address access lists and brute-force counters apply
// to: the connection's peer, unless the peer is a configured trusted proxy.
// Then X-Forwarded-For is read from the right, skipping trusted proxies, and
// the first untrusted address is the client (addresses further left were
// written by the client itself and prove nothing). An unreadable entry stops
// the walk at the last address known to be genuine. The zero Addr means the
// peer is unknown; no access list allows it.
func (a *Authenticator) ClientIP(r *http.Request) netip.Addr {
	return clientIP(r, a.cfg.TrustedProxies)
}

func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseHostAddr(r.RemoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	client := peer
	values := r.Header.Values("X-Forwarded-For")
	for i := len(values) - 1; i >= 0; i-- {
		hops := strings.Split(values[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			hop := parseHostAddr(strings.TrimSpace(hops[j]))
			if !hop.IsValid() {
				return client
			}
			client = hop
			if !isTrusted(hop, trusted) {
				return client
			}
		}
	}
	return client
}

// parseHostAddr parses "ip", "ip:port" or "[ipv6]:port", unmapping
// IPv4-in-IPv6 so that lists written with IPv4 entries match.
func parseHostAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Masked().Contains(ip) {
			return true
		}
	}
	return false
}
