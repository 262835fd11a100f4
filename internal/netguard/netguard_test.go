package netguard

import (
	"net/netip"
	"testing"
)

func TestNonPublicReason(t *testing.T) {
	for addr, want := range map[string]string{
		"8.8.8.8": "", "2606:4700:4700::1111": "", "127.0.0.1": "loopback", "::1": "loopback",
		"10.1.2.3": "private", "192.168.0.1": "private", "fd00::1": "private", "169.254.169.254": "link-local",
		"fe80::1": "link-local", "0.0.0.0": "unspecified", "::": "unspecified", "239.1.2.3": "multicast",
		"100.64.0.1": "shared (carrier-grade NAT)", "192.0.2.1": "documentation", "240.0.0.1": "reserved",
		"::ffff:127.0.0.1": "loopback", "64:ff9b::a00:1": "private", "2002:a9fe:a9fe::": "link-local",
		"64:ff9b::808:808": "",
	} {
		if got := NonPublicReason(netip.MustParseAddr(addr)); got != want {
			t.Errorf("NonPublicReason(%s) = %q, want %q", addr, got, want)
		}
	}
}
