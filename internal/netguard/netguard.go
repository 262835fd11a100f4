// Package netguard classifies IP addresses as public or not, for the checks that keep outbound
// requests (scraper fetches, webhooks) away from internal services (SSRF).
package netguard

import "net/netip"

// nonPublic are ranges that are not public besides those netip classifies (loopback, private,
// link-local, multicast, unspecified): "this network", shared address space (carrier-grade NAT),
// IETF protocol assignments, documentation, benchmarking, reserved and broadcast, IPv6
// documentation and site-local.
var nonPublic = []struct {
	prefix netip.Prefix
	why    string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "\"this network\""},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared (carrier-grade NAT)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignment"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("fec0::/10"), "site-local"},
}

// IPv6 prefixes that carry an IPv4 address: NAT64 in the last 32 bits, 6to4 in bits 16-48.
var (
	nat64  = netip.MustParsePrefix("64:ff9b::/96")
	sixTo4 = netip.MustParsePrefix("2002::/16")
)

// NonPublicReason returns why addr is not a public address ("loopback", "private",
// "link-local", ...), or "" when it is public. IPv4-mapped, NAT64 and 6to4 addresses are judged
// by the IPv4 address they carry.
func NonPublicReason(addr netip.Addr) string {
	addr = addr.Unmap().WithZone("")
	switch {
	case !addr.IsValid():
		return "invalid"
	case addr.IsLoopback():
		return "loopback"
	case addr.IsPrivate():
		return "private"
	case addr.IsLinkLocalUnicast(), addr.IsLinkLocalMulticast():
		return "link-local"
	case addr.IsUnspecified():
		return "unspecified"
	case addr.IsMulticast(), addr.IsInterfaceLocalMulticast():
		return "multicast"
	}
	for _, r := range nonPublic {
		if r.prefix.Contains(addr) {
			return r.why
		}
	}
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64.Contains(addr):
			return NonPublicReason(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		case sixTo4.Contains(addr):
			return NonPublicReason(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return ""
}

// IsPublic reports whether addr is a public address.
func IsPublic(addr netip.Addr) bool { return NonPublicReason(addr) == "" }
