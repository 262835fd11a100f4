package notifications

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// nonPublic are address ranges a webhook must not reach besides those netip classifies
// (loopback, private, link-local, multicast, unspecified): "this network", shared address space
// (carrier-grade NAT), IETF protocol assignments, documentation, benchmarking, reserved and
// broadcast, IPv6 documentation and site-local.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fec0::/10"),
}

// embedsIPv4 are IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64) or in
// bits 16-48 (6to4); the embedded address is checked too.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// IsPublicAddr reports whether a webhook may be sent to addr when non-public addresses are
// not allowed: not loopback, private, link-local, multicast, unspecified, nor in a reserved,
// documentation or shared range (IPv4-mapped, NAT64 and 6to4 addresses are judged by the IPv4
// address they carry).
func IsPublicAddr(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	if !addr.IsValid() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() || addr.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(addr) {
			return false
		}
	}
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64.Contains(addr):
			return IsPublicAddr(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixTo4.Contains(addr):
			return IsPublicAddr(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return true
}

// CheckWebhookURL checks a webhook URL without resolving it: an absolute http(s) URL whose
// host, when it is an IP address or "localhost", is public (unless allowPrivate). The API can
// call it when a subscription is made; the deliverer checks again every address it connects
// to, after name resolution, so a name that resolves to a private address is refused too.
func CheckWebhookURL(raw string, allowPrivate bool) error {
	u, err := parseWebhookURL(raw)
	if err != nil {
		return err
	}
	if allowPrivate {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("host %q: %w", host, ErrForbiddenAddress)
	}
	if addr, err := netip.ParseAddr(host); err == nil && !IsPublicAddr(addr) {
		return fmt.Errorf("address %s: %w", addr, ErrForbiddenAddress)
	}
	return nil
}

// dialGuard refuses connections to non-public addresses at dial time, after name resolution,
// so DNS cannot point a webhook at an internal service.
type dialGuard struct{ allowPrivate bool }

// control is a net.Dialer Control function.
func (g dialGuard) control(_, address string, _ syscall.RawConn) error {
	if g.allowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, ErrForbiddenAddress)
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || !IsPublicAddr(addr) {
		return fmt.Errorf("dial %s: %w", address, ErrForbiddenAddress)
	}
	return nil
}
