package notifications

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"

	"github.com/marketinsightspro/marketinsights/internal/netguard"
)

// IsPublicAddr reports whether a webhook may be sent to addr when non-public addresses are
// not allowed (see netguard.NonPublicReason).
func IsPublicAddr(addr netip.Addr) bool { return netguard.IsPublic(addr) }

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
