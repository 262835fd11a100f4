package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	composecli "github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/goccy/go-yaml"

	"github.com/marketinsightspro/marketinsights/dashboards"
	"github.com/marketinsightspro/marketinsights/internal/config"
)

// binaryEnv returns every environment variable the binary reads: the env of every flag of every
// command, which for the shared settings is config.EnvName of the flag.
func binaryEnv(t *testing.T) map[string]bool {
	t.Helper()
	var c cli
	p, err := kong.New(&c, config.KongOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, f := range n.Flags {
			for _, e := range f.Envs {
				out[e] = true
			}
		}
		for _, ch := range n.Children {
			walk(ch)
		}
	}
	walk(p.Model.Node)
	for _, f := range p.Model.Flags {
		if f.Name != "help" && f.Name != "config" && !out[config.EnvName(f.Name)] {
			t.Errorf("--%s reads %v, not %s", f.Name, f.Envs, config.EnvName(f.Name))
		}
	}
	if len(out) < 15 {
		t.Fatalf("the binary reads only %d variables?", len(out))
	}
	return out
}

// loadCompose loads docker-compose.yml with the settings of .env.example, as `docker compose`
// would with that file copied to .env.
func loadCompose(t *testing.T) (*types.Project, string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := composecli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		composecli.WithWorkingDirectory(root), composecli.WithEnvFiles(filepath.Join(root, ".env.example")), composecli.WithDotEnv, composecli.WithName("marketinsights"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p, root
}

// TestComposeFile checks docker-compose.yml without Docker: the system's services use only
// MIP_* settings the binary reads, every long-running service has a port and a health check,
// the scalable roles can scale, and the files mounted into Prometheus, Grafana and nginx exist,
// with Grafana's provisioning pointing at the dashboards and the data sources they name.
func TestComposeFile(t *testing.T) {
	p, root := loadCompose(t)
	reads := binaryEnv(t)
	for _, want := range []string{"kafka", "clickhouse", "redis", "prometheus", "grafana", "init", "processor", "projector", "scraper", "api", "nginx"} {
		if _, ok := p.Services[want]; !ok {
			t.Errorf("no service %s", want)
		}
	}
	for name, s := range p.Services {
		ours := strings.HasPrefix(s.Image, "marketinsights")
		for key := range s.Environment {
			if ours && !strings.HasPrefix(key, config.EnvPrefix+"_") {
				t.Errorf("service %s sets %s: the binary reads only MIP_* variables", name, key)
			}
			if strings.HasPrefix(key, config.EnvPrefix+"_") && !reads[key] {
				t.Errorf("service %s sets %s, which the binary does not read", name, key)
			}
		}
		if ours && s.Environment["MIP_KAFKA_BROKERS"] == nil {
			t.Errorf("service %s does not point at the compose Kafka", name)
		}
		if s.Restart == "no" { // one-shot
			continue
		}
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
			t.Errorf("service %s has no health check", name)
		}
		if len(s.Ports) == 0 && len(s.Expose) == 0 {
			t.Errorf("service %s publishes and exposes no port", name)
		}
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind {
				if _, err := os.Stat(v.Source); err != nil {
					t.Errorf("service %s mounts %s, which does not exist", name, v.Source)
				}
			}
		}
	}
	// Every command our image runs is one the binary accepts (flags included).
	for name, s := range p.Services {
		if !strings.HasPrefix(s.Image, "marketinsights") || len(s.Entrypoint) > 0 || len(s.Command) == 0 {
			continue
		}
		var c cli
		parser, err := kong.New(&c, append(config.KongOptions(), kong.Exit(func(int) {}))...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parser.Parse(s.Command); err != nil {
			t.Errorf("service %s runs %q, which marketinsights refuses: %v", name, s.Command, err)
		}
	}
	for _, name := range []string{"processor", "projector", "scraper", "api"} {
		s := p.Services[name]
		if s.ContainerName != "" || slices.ContainsFunc(s.Ports, func(pc types.ServicePortConfig) bool { return pc.Published != "" }) {
			t.Errorf("service %s cannot scale: it has a container name or a published port", name)
		}
	}
	if api := p.Services["api"]; api.Deploy == nil || api.Deploy.Replicas == nil || *api.Deploy.Replicas != 2 {
		t.Errorf("api: want two replicas behind nginx")
	}
	if init := p.Services["init"]; !strings.Contains(strings.Join(init.Command, " "), "topics apply") || !strings.Contains(strings.Join(init.Command, " "), "migrate") {
		t.Errorf("init runs %q, want topics apply and migrate", init.Command)
	}
	nginx, err := os.ReadFile(filepath.Join(root, "deploy/nginx/nginx.conf"))
	if err != nil || !strings.Contains(string(nginx), "server api:8080") {
		t.Errorf("deploy/nginx/nginx.conf does not proxy to api:8080: %v", err)
	}
	checkGrafanaProvisioning(t, p.Services["grafana"], root)
}

// hostPath maps a path inside the service's container to the host through its bind mounts.
func hostPath(s types.ServiceConfig, inContainer string) (string, bool) {
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		if rel, ok := strings.CutPrefix(inContainer, v.Target); ok && (rel == "" || rel[0] == '/') {
			return filepath.Join(v.Source, rel), true
		}
	}
	return "", false
}

func checkGrafanaProvisioning(t *testing.T, g types.ServiceConfig, root string) {
	t.Helper()
	dir, ok := hostPath(g, "/etc/grafana/provisioning")
	if !ok {
		t.Fatal("grafana mounts no provisioning folder")
	}
	var ds struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(dir, "datasources/datasources.yml"), &ds)
	uids := map[string]string{}
	for _, d := range ds.Datasources {
		uids[d.UID] = d.Type
	}
	if uids[dashboards.ClickHouse] != "grafana-clickhouse-datasource" || uids[dashboards.Prometheus] != "prometheus" {
		t.Errorf("provisioned data sources %v; the dashboards need uid %s (ClickHouse plugin) and %s (Prometheus)", uids, dashboards.ClickHouse, dashboards.Prometheus)
	}
	if v := g.Environment["GF_INSTALL_PLUGINS"]; v == nil || !strings.Contains(*v, "grafana-clickhouse-datasource") {
		t.Error("grafana does not install the ClickHouse plugin")
	}
	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join(dir, "dashboards/dashboards.yml"), &prov)
	if len(prov.Providers) == 0 {
		t.Fatal("no dashboard provider")
	}
	for _, pr := range prov.Providers {
		host, ok := hostPath(g, pr.Options.Path)
		if !ok {
			t.Errorf("dashboard provider path %s is not mounted into grafana", pr.Options.Path)
			continue
		}
		for _, d := range dashboards.All() {
			if _, err := os.Stat(filepath.Join(host, d.File)); err != nil {
				t.Errorf("dashboard provider path %s (%s on the host) lacks %s", pr.Options.Path, host, d.File)
			}
		}
	}
	if home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != nil {
		if host, ok := hostPath(g, *home); !ok {
			t.Errorf("home dashboard %s is not mounted", *home)
		} else if _, err := os.Stat(host); err != nil {
			t.Errorf("home dashboard: %v", err)
		}
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
