package fetch

import (
	"strings"
)

// robotsRules are the Allow and Disallow prefixes of the group that applies to the agent.
type robotsRules struct {
	allow, disallow []string
}

// allowed applies the longest matching rule; Allow wins ties; no match allows.
func (r *robotsRules) allowed(path string) bool {
	best, allow := -1, true
	for _, p := range r.disallow {
		if len(p) > best && robotsMatch(p, path) {
			best, allow = len(p), false
		}
	}
	for _, p := range r.allow {
		if len(p) >= best && robotsMatch(p, path) {
			best, allow = len(p), true
		}
	}
	return allow
}

// robotsMatch matches a robots.txt path pattern (a prefix, with * wildcards and a trailing $
// anchoring the end) against a path.
func robotsMatch(pattern, path string) bool {
	anchored := strings.HasSuffix(pattern, "$")
	pattern = strings.TrimSuffix(pattern, "$")
	var match func(pat, s string) bool
	match = func(pat, s string) bool {
		for {
			if pat == "" {
				return !anchored || s == ""
			}
			if pat[0] == '*' {
				for i := 0; i <= len(s); i++ {
					if match(pat[1:], s[i:]) {
						return true
					}
				}
				return false
			}
			if s == "" || s[0] != pat[0] {
				return false
			}
			pat, s = pat[1:], s[1:]
		}
	}
	return match(pattern, path)
}

// parseRobots returns the rules of the group naming the agent's product token, else of "*".
func parseRobots(text, userAgent string) *robotsRules {
	token := strings.ToLower(userAgent)
	if i := strings.IndexAny(token, "/ "); i >= 0 {
		token = token[:i]
	}
	type group struct {
		agents []string
		rules  robotsRules
	}
	var groups []*group
	var cur *group
	inRules := false
	for line := range strings.Lines(text) {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch k {
		case "user-agent":
			if cur == nil || inRules {
				cur = &group{}
				groups = append(groups, cur)
				inRules = false
			}
			cur.agents = append(cur.agents, strings.ToLower(v))
		case "allow", "disallow":
			if cur == nil {
				continue
			}
			inRules = true
			if v == "" {
				continue // "Disallow:" allows everything
			}
			if k == "allow" {
				cur.rules.allow = append(cur.rules.allow, v)
			} else {
				cur.rules.disallow = append(cur.rules.disallow, v)
			}
		}
	}
	var star *robotsRules
	out := &robotsRules{}
	matched := false
	for _, g := range groups {
		for _, a := range g.agents {
			switch {
			case a == "*":
				if star == nil {
					star = &robotsRules{}
				}
				star.allow = append(star.allow, g.rules.allow...)
				star.disallow = append(star.disallow, g.rules.disallow...)
			case token != "" && strings.Contains(token, a):
				matched = true
				out.allow = append(out.allow, g.rules.allow...)
				out.disallow = append(out.disallow, g.rules.disallow...)
			}
		}
	}
	if matched {
		return out
	}
	if star != nil {
		return star
	}
	return out
}
