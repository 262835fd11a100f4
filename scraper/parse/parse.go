// Package parse reads marketplace pages (Amazon search results and product detail pages) into the
// observation contracts of market.v1. The parsers are pure: HTML in, values out, no network and no
// clock. They are tolerant: a field the page does not show, or shows in a form they cannot read, is
// left absent (never zero) and named in Warnings; a robot-check page is reported as Blocked, never as
// an empty result.
package parse

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/PuerkitoBio/goquery"
	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"
)

// maxPageBytes bounds what a parser reads: real pages are 1-3 MB.
const maxPageBytes = 32 << 20

// Options tell a parser where a page came from.
type Options struct {
	// Marketplace is the domain the page was fetched from ("amazon.de"); it chooses the currency of
	// prices without a sign and the decimal separator. Empty: taken from BaseURL, else from the page.
	Marketplace string
	// BaseURL is the URL the page was fetched from; relative links and image URLs are resolved
	// against it. Empty: "https://www.<marketplace>/".
	BaseURL string
}

// env is what both parsers share while reading one page.
type env struct {
	doc         *goquery.Document
	marketplace string
	base        *url.URL
	warnings    []string
	// firstResult is the number of the first result a search page shows ("17-32 of ..." gives 17).
	firstResult int64
}

// load reads and parses a page, bounded by maxPageBytes.
func load(r io.Reader) (*goquery.Document, []byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxPageBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read page: %w", err)
	}
	if len(raw) > maxPageBytes {
		return nil, nil, fmt.Errorf("read page: larger than %d bytes", maxPageBytes)
	}
	doc, err := goquery.NewDocumentFromReader(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, fmt.Errorf("parse HTML: %w", err)
	}
	return doc, raw, nil
}

// newEnv resolves the marketplace and base URL of a parsed page.
func newEnv(doc *goquery.Document, opts Options) *env {
	e := &env{doc: doc}
	e.marketplace = normaliseMarketplace(opts.Marketplace)
	if e.marketplace == "" && opts.BaseURL != "" {
		e.marketplace = normaliseMarketplace(opts.BaseURL)
	}
	if e.marketplace == "" {
		e.marketplace = pageMarketplace(doc)
	}
	if opts.BaseURL != "" {
		if u, err := url.Parse(opts.BaseURL); err == nil && u.IsAbs() {
			e.base = u
		}
	}
	if e.base == nil && e.marketplace != "" {
		e.base = &url.URL{Scheme: "https", Host: "www." + e.marketplace, Path: "/"}
	}
	return e
}

// warnf records something the parser could not read.
func (e *env) warnf(format string, args ...any) {
	e.warnings = append(e.warnings, fmt.Sprintf(format, args...))
}

// resolve makes a link absolute against the page's base URL; "" for empty, data: or javascript: links.
func (e *env) resolve(ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.HasPrefix(ref, "data:") || strings.HasPrefix(ref, "javascript:") {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	if u.IsAbs() {
		return u.String()
	}
	if e.base == nil {
		return ref
	}
	return e.base.ResolveReference(u).String()
}

// amazonHostRe picks the marketplace out of a link on the page.
var amazonHostRe = regexp.MustCompile(`^(?:https?:)?//(?:www\.)?(amazon\.[a-z.]+?)(?:[:/?#]|$)`)

// pageMarketplace infers the marketplace from the page: its canonical or og:url link, else the
// language of its <html> element. "" when neither tells.
func pageMarketplace(doc *goquery.Document) string {
	for _, m := range []cascadia.Selector{selCanonical, selOGURL} {
		for _, n := range doc.FindMatcher(m).Nodes {
			ref := attr(n, "href")
			if ref == "" {
				ref = attr(n, "content")
			}
			if mm := amazonHostRe.FindStringSubmatch(strings.ToLower(ref)); mm != nil {
				if _, ok := marketplaces[mm[1]]; ok {
					return mm[1]
				}
			}
		}
	}
	if n := doc.FindMatcher(selHTML).Nodes; len(n) > 0 {
		if mp, ok := langMarketplaces[strings.ToLower(strings.TrimSpace(attr(n[0], "lang")))]; ok {
			return mp
		}
	}
	return ""
}

var (
	selCanonical = cascadia.MustCompile(`link[rel="canonical"]`)
	selOGURL     = cascadia.MustCompile(`meta[property="og:url"]`)
	selHTML      = cascadia.MustCompile(`html`)
)

// attr returns an attribute of a node, "" when absent.
func attr(n *html.Node, name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// hasClass reports whether a node's class list contains c.
func hasClass(n *html.Node, c string) bool {
	for _, f := range strings.Fields(attr(n, "class")) {
		if f == c {
			return true
		}
	}
	return false
}

// textOf returns the visible text of nodes: text nodes concatenated in document order (no separator,
// as a split price "$" "35" "." "99" must join), script and style skipped, whitespace collapsed.
func textOf(nodes ...*html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
			return
		case html.ElementNode:
			switch n.Data {
			case "script", "style", "noscript", "template":
				return
			case "br":
				b.WriteByte(' ')
			}
		case html.CommentNode:
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		if n != nil {
			walk(n)
		}
	}
	return clean(b.String())
}

// spacedTextOf is textOf with a space between text nodes, for prose where elements separate words.
func spacedTextOf(nodes ...*html.Node) string {
	var parts []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			if t := strings.TrimSpace(n.Data); t != "" {
				parts = append(parts, t)
			}
			return
		case html.ElementNode:
			switch n.Data {
			case "script", "style", "noscript", "template":
				return
			}
		case html.CommentNode:
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range nodes {
		if n != nil {
			walk(n)
		}
	}
	return clean(strings.Join(parts, " "))
}

// cleaner drops marks that are invisible but break matching.
var cleaner = strings.NewReplacer("\u200e", "", "\u200f", "", "\u200b", "", "\ufeff", "", "\u00a0", " ", "\u202f", " ")

// clean removes invisible marks and collapses whitespace.
func clean(s string) string {
	return strings.Join(strings.Fields(cleaner.Replace(s)), " ")
}

// first returns the first node under root matching m, or nil.
func first(root *html.Node, m cascadia.Matcher) *html.Node {
	if root == nil {
		return nil
	}
	return cascadia.Query(root, m)
}

// all returns every node under root matching m.
func all(root *html.Node, m cascadia.Matcher) []*html.Node {
	if root == nil {
		return nil
	}
	return cascadia.QueryAll(root, m)
}

// closest returns the nearest ancestor of n (n included) matching m, or nil.
func closest(n *html.Node, m cascadia.Matcher) *html.Node {
	for ; n != nil; n = n.Parent {
		if n.Type == html.ElementNode && m.Match(n) {
			return n
		}
	}
	return nil
}

// within reports whether n is inside (or is) an element matching m, stopping at root.
func within(n, root *html.Node, m cascadia.Matcher) bool {
	for ; n != nil && n != root; n = n.Parent {
		if n.Type == html.ElementNode && m.Match(n) {
			return true
		}
	}
	return false
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// Read runs the parser named by kind ("search" or "product") on a page; it is what the
// `marketinsights parse search|product FILE.html` command calls before Render.
func Read(kind string, r io.Reader, opts Options) (Page, error) {
	switch kind {
	case "search":
		p, err := Search(r, opts)
		if err != nil {
			return nil, err
		}
		return p, nil
	case "product":
		p, err := Product(r, opts)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	return nil, fmt.Errorf("parse: unknown page kind %q (want search or product)", kind)
}
