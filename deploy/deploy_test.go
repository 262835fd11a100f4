package deploy

import (
	"os/exec"
	"strings"
	"testing"
)

// promtool runs promtool with args and returns its output; a missing promtool fails the test
// with the command that installs it.
func promtool(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Fatalf("promtool not found (%v): install Prometheus with `deploy/local/services up prometheus` (Debian: apt-get install prometheus)", err)
	}
	out, err := exec.Command("promtool", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestAlertRulesCheck(t *testing.T) {
	out := promtool(t, "check", "rules", "prometheus/alerts.yml")
	if !strings.Contains(out, "SUCCESS: 9 rules found") {
		t.Errorf("promtool check rules:\n%s", out)
	}
}

func TestAlertRulesUnitTests(t *testing.T) {
	out := promtool(t, "test", "rules", "prometheus/alerts_test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules:\n%s", out)
	}
}

func TestPrometheusConfigs(t *testing.T) {
	promtool(t, "check", "config", "prometheus/prometheus.yml")
	// The compose configuration names the rules by their path in the container.
	promtool(t, "check", "config", "--syntax-only", "prometheus/prometheus.compose.yml")
}
