package dashboards

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// TimeRange is what Grafana passes with a query: the dashboard's time range and the panel's
// interval (the range divided by the panel's width in data points, at least 1 s).
type TimeRange struct {
	From, To time.Time
	Interval time.Duration
}

// macros are the ClickHouse plugin's macros that the dashboards use, expanded as the plugin's
// pkg/macros does (grafana/clickhouse-datasource v4): times are whole UTC seconds.
var macros = map[string]func(r TimeRange, args []string) (string, error){
	"fromTime": func(r TimeRange, _ []string) (string, error) { return toDateTime(r.From), nil },
	"toTime":   func(r TimeRange, _ []string) (string, error) { return toDateTime(r.To), nil },
	"timeFilter": func(r TimeRange, args []string) (string, error) {
		if len(args) != 1 || args[0] == "" {
			return "", fmt.Errorf("$__timeFilter: expected 1 argument, received %d", len(args))
		}
		return fmt.Sprintf("%s >= %s AND %s <= %s", args[0], toDateTime(r.From), args[0], toDateTime(r.To)), nil
	},
	"interval_s": func(r TimeRange, _ []string) (string, error) {
		return fmt.Sprintf("%d", int(max(r.Interval.Seconds(), 1))), nil
	},
}

func toDateTime(t time.Time) string { return fmt.Sprintf("toDateTime(%d)", t.Unix()) }

// ExpandMacros replaces the plugin's macros in sql the way the plugin's query layer (grafana/sqlds)
// does: each $__name, optionally followed by (comma-separated arguments), is replaced by the
// macro's expansion. A $__ reference that is not one of the macros above is an error, so a
// query cannot use a macro these tests do not check.
func ExpandMacros(sql string, r TimeRange) (string, error) {
	names := make([]string, 0, len(macros))
	for name := range macros {
		names = append(names, name)
	}
	// Longest first, so that a name that is a prefix of another (as the plugin's timeFilter is
	// of timeFilter_ms) cannot take the other's place.
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	for _, name := range names {
		re := regexp.MustCompile(`\$__` + name + `\b(?:\((.*?)\))?`)
		var err error
		sql = re.ReplaceAllStringFunc(sql, func(m string) string {
			sub := re.FindStringSubmatch(m)
			var args []string
			if sub[1] != "" {
				for _, a := range strings.Split(sub[1], ",") {
					args = append(args, strings.TrimSpace(a))
				}
			}
			out, merr := macros[name](r, args)
			if merr != nil && err == nil {
				err = merr
			}
			return out
		})
		if err != nil {
			return "", err
		}
	}
	if i := strings.Index(sql, "$__"); i >= 0 {
		return "", fmt.Errorf("unknown macro at %q", sql[i:min(len(sql), i+30)])
	}
	return sql, nil
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::([a-z]+))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Interpolate replaces the dashboard's variables in q as Grafana does before the data source
// sees the query. selected maps a variable to its selected values; a variable with IncludeAll
// that is missing from selected (or nil) is "All", which inserts its AllValue unformatted.
// ${name} inserts the values joined by commas, ${name:singlequote} each value in single quotes
// (a quote inside escaped with a backslash), joined by commas. Any other reference, or one to
// an unknown or unselected variable, is an error.
func (d Dashboard) Interpolate(q string, selected map[string][]string) (string, error) {
	var err error
	out := varRef.ReplaceAllStringFunc(q, func(m string) string {
		sub := varRef.FindStringSubmatch(m)
		if sub[3] != "" {
			if !strings.HasPrefix(m, "$__") && err == nil {
				err = fmt.Errorf("write variable references as ${%s}: %s", sub[3], m)
			}
			return m
		}
		name, format := sub[1], sub[2]
		i := slices.IndexFunc(d.Variables, func(v Variable) bool { return v.Name == name })
		if i < 0 {
			if err == nil {
				err = fmt.Errorf("unknown variable %s", m)
			}
			return m
		}
		v := d.Variables[i]
		values, ok := selected[name]
		if !ok || values == nil {
			if !v.IncludeAll || v.AllValue == "" {
				if err == nil {
					err = fmt.Errorf("no value selected for %s", m)
				}
				return m
			}
			return v.AllValue
		}
		switch format {
		case "":
			return strings.Join(values, ",")
		case "singlequote":
			quoted := make([]string, len(values))
			for i, s := range values {
				quoted[i] = "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
			}
			return strings.Join(quoted, ",")
		}
		if err == nil {
			err = fmt.Errorf("unsupported format %s", m)
		}
		return m
	})
	return out, err
}
