package auth

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"OKPeerWithoutProxies", "203.0.113.7:5000", nil, nil, "203.0.113.7"},
		{"OKSpoofedHeaderIgnoredWithoutProxies", "203.0.113.7:5000", []string{"198.51.100.1"}, nil, "203.0.113.7"},
		{"OKSpoofedHeaderIgnoredFromUntrustedPeer", "203.0.113.7:5000", []string{"198.51.100.1"}, proxies, "203.0.113.7"},
		{"OKForwardedByTrustedProxy", "10.0.0.2:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"OKRightMostUntrusted", "10.0.0.2:5000", []string{"192.0.2.66, 198.51.100.1, 10.0.0.3"}, proxies, "198.51.100.1"},
		{"OKSeveralHeaders", "10.0.0.2:5000", []string{"192.0.2.66", "198.51.100.1, 10.1.1.1"}, proxies, "198.51.100.1"},
		{"OKAllTrustedTakesLeftMost", "10.0.0.2:5000", []string{"10.9.9.9, 10.0.0.3"}, proxies, "10.9.9.9"},
		{"OKNoHeaderFromProxy", "10.0.0.2:5000", nil, proxies, "10.0.0.2"},
		{"OKGarbageStopsAtLastKnown", "10.0.0.2:5000", []string{"198.51.100.1, garbage"}, proxies, "10.0.0.2"},
		{"OKEntryWithPort", "10.0.0.2:5000", []string{"198.51.100.1:443"}, proxies, "198.51.100.1"},
		{"OKIPv6Bracketed", "[fd00::1]:5000", []string{"[2001:db8::1]:443"}, proxies, "2001:db8::1"},
		{"OKIPv4MappedPeerUnmapped", "[::ffff:203.0.113.7]:5000", nil, nil, "203.0.113.7"},
		{"OKIPv4MappedProxy", "[::ffff:10.0.0.2]:5000", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"ErrUnknownPeer", "pipe", nil, nil, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, tt.trusted).String(); got != tt.want {
				t.Errorf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}
