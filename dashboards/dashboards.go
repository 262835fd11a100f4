// Package dashboards defines the Grafana dashboards of Market Insights Pro as Go values and
// renders them as the JSON files committed beside this package (`go generate ./dashboards/`),
// which deploy/grafana provisions. Market data panels query ClickHouse through Grafana's
// ClickHouse plugin (grafana-clickhouse-datasource); pipeline panels query Prometheus.
package dashboards

//go:generate go run ./gen

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Data source kinds, and the uids under which deploy/grafana provisions them.
const (
	ClickHouse = "clickhouse"
	Prometheus = "prometheus"

	clickHousePlugin = "grafana-clickhouse-datasource"
)

// Dashboard is one Grafana dashboard.
type Dashboard struct {
	// File is the JSON file's name in this folder.
	File        string
	UID         string
	Title       string
	Description string
	Tags        []string
	// From is the default start of the time range, e.g. "now-24h".
	From      string
	Refresh   string
	Variables []Variable
	Panels    []Panel
}

// Variable is a dashboard template variable.
type Variable struct {
	Name  string
	Label string
	// Datasource is ClickHouse or Prometheus for a query variable, "" for a constant list.
	Datasource string
	// Query is the SQL (ClickHouse) or label_values(...) (Prometheus) listing the values.
	Query string
	// Multi allows several values; IncludeAll adds "All", which interpolates AllValue.
	Multi      bool
	IncludeAll bool
	AllValue   string
}

// Panel is one panel: a visualization of the results of its queries.
type Panel struct {
	Title       string
	Description string
	// Type is a Grafana visualization: timeseries, table, stat, barchart, piechart, bargauge.
	Type       string
	Datasource string
	Queries    []Query
	// Unit is Grafana's unit of the values, e.g. "s", "short", "currencyUSD", "percentunit".
	Unit string
	// W and H are the panel's width (of 24) and height; panels flow left to right, top to bottom.
	W, H int
}

// Query is one query of a panel.
type Query struct {
	// SQL is the ClickHouse query, with the plugin's macros and ${variable} references.
	SQL string
	// Table asks the ClickHouse plugin for a table rather than a time series.
	Table bool
	// Expr is the PromQL expression and Legend its series name template, e.g. "{{group}}".
	Expr   string
	Legend string
}

// All returns every dashboard.
func All() []Dashboard {
	return []Dashboard{marketOverview(), productDrilldown(), pipelineHealth(), scraping()}
}

// JSON renders the dashboard as Grafana's dashboard JSON (schema version 39), indented.
func (d Dashboard) JSON() ([]byte, error) {
	var vars []any
	for _, v := range d.Variables {
		vars = append(vars, v.json())
	}
	var panels []any
	x, y, rowH := 0, 0, 0
	for i, p := range d.Panels {
		if x+p.W > 24 {
			x, y, rowH = 0, y+rowH, 0
		}
		panels = append(panels, p.json(i+1, x, y))
		x += p.W
		rowH = max(rowH, p.H)
	}
	doc := map[string]any{
		"uid":           d.UID,
		"title":         d.Title,
		"description":   d.Description,
		"tags":          d.Tags,
		"timezone":      "utc",
		"editable":      true,
		"graphTooltip":  1,
		"schemaVersion": 39,
		"version":       1,
		"refresh":       d.Refresh,
		"time":          map[string]string{"from": d.From, "to": "now"},
		"templating":    map[string]any{"list": orEmpty(vars)},
		"annotations":   map[string]any{"list": []any{}},
		"panels":        panels,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("render dashboard %s: %w", d.UID, err)
	}
	return buf.Bytes(), nil
}

func orEmpty(xs []any) []any {
	if xs == nil {
		return []any{}
	}
	return xs
}

func datasource(kind string) map[string]string {
	if kind == ClickHouse {
		return map[string]string{"type": clickHousePlugin, "uid": ClickHouse}
	}
	return map[string]string{"type": "prometheus", "uid": Prometheus}
}

func (v Variable) json() map[string]any {
	m := map[string]any{
		"name":        v.Name,
		"label":       v.Label,
		"multi":       v.Multi,
		"includeAll":  v.IncludeAll,
		"current":     map[string]any{},
		"hide":        0,
		"skipUrlSync": false,
	}
	if v.AllValue != "" {
		m["allValue"] = v.AllValue
	}
	m["type"] = "query"
	m["datasource"] = datasource(v.Datasource)
	m["refresh"] = 2 // on time range change
	m["sort"] = 1
	m["definition"] = v.Query
	if v.Datasource == ClickHouse {
		m["query"] = v.Query
	} else {
		m["query"] = map[string]any{"query": v.Query, "refId": "PrometheusVariableQueryEditor-VariableQuery", "qryType": 1}
	}
	return m
}

func (p Panel) json(id, x, y int) map[string]any {
	var targets []any
	for i, q := range p.Queries {
		t := map[string]any{"refId": string(rune('A' + i)), "datasource": datasource(p.Datasource)}
		if p.Datasource == ClickHouse {
			t["editorType"] = "sql"
			t["rawSql"] = q.SQL
			if q.Table {
				t["format"], t["queryType"] = 1, "table"
			} else {
				t["format"], t["queryType"] = 0, "timeseries"
			}
		} else {
			t["expr"] = q.Expr
			t["legendFormat"] = q.Legend
			t["range"] = p.Type != "stat" && p.Type != "bargauge"
			t["instant"] = !t["range"].(bool)
		}
		targets = append(targets, t)
	}
	unit := p.Unit
	if unit == "" {
		unit = "short"
	}
	return map[string]any{
		"id":          id,
		"type":        p.Type,
		"title":       p.Title,
		"description": p.Description,
		"datasource":  datasource(p.Datasource),
		"gridPos":     map[string]int{"x": x, "y": y, "w": p.W, "h": p.H},
		"targets":     targets,
		"fieldConfig": map[string]any{"defaults": map[string]any{"unit": unit}, "overrides": []any{}},
		"options":     map[string]any{},
	}
}
