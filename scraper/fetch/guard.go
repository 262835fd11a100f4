package fetch

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/marketinsightspro/marketinsights/internal/netguard"
)

// Guard is the URL policy of the scraper: http and https only, an optional host allowlist, and
// no private, loopback, link-local, unspecified or multicast addresses unless AllowPrivate, so a
// job cannot make the scraper fetch internal services.
type Guard struct {
	// AllowHosts lists the allowed hosts: "www.amazon.com" matches exactly, ".amazon.com"
	// matches amazon.com and every subdomain. Empty allows every host.
	AllowHosts []string
	// AllowPrivate allows non-public addresses (the sandbox on loopback).
	AllowPrivate bool
	// Resolver resolves host names; nil uses net.DefaultResolver.
	Resolver *net.Resolver
}

// Check returns an error wrapping ErrForbiddenURL if raw may not be fetched. It resolves the host
// and refuses it if any of its addresses is not public (unless AllowPrivate).
func (g *Guard) Check(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: parse %q: %v", ErrForbiddenURL, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: %q: scheme %q is not http or https", ErrForbiddenURL, raw, u.Scheme)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return fmt.Errorf("%w: %q has no host", ErrForbiddenURL, raw)
	}
	if !g.hostAllowed(host) {
		return fmt.Errorf("%w: host %s is not in the allowlist %v", ErrForbiddenURL, host, g.AllowHosts)
	}
	if g.AllowPrivate {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return checkAddr(host, ip)
	}
	r := g.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%w: resolve host %s: %v", ErrForbiddenURL, host, err)
	}
	for _, a := range addrs {
		if err := checkAddr(host, a); err != nil {
			return err
		}
	}
	return nil
}

// Control is a net.Dialer Control func that refuses connections to non-public addresses
// (unless AllowPrivate), so a DNS answer that changes after Check cannot reach internal services.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	if g.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: dial %s: %v", ErrForbiddenURL, address, err)
	}
	return checkAddr(address, ap.Addr())
}

func (g *Guard) hostAllowed(host string) bool {
	if len(g.AllowHosts) == 0 {
		return true
	}
	for _, a := range g.AllowHosts {
		a = strings.ToLower(a)
		if strings.HasPrefix(a, ".") {
			if host == a[1:] || strings.HasSuffix(host, a) {
				return true
			}
		} else if host == a {
			return true
		}
	}
	return false
}

// checkAddr refuses non-public addresses, naming the host and the reason.
func checkAddr(host string, ip netip.Addr) error {
	why := netguard.NonPublicReason(ip)
	if why == "" {
		return nil
	}
	return fmt.Errorf("%w: host %s resolves to %s, a %s address (set AllowPrivate to allow it)", ErrForbiddenURL, host, ip.Unmap(), why)
}
