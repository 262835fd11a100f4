// Package deploy holds the deployment files of Market Insights Pro, none of them Go: the
// Dockerfile, Grafana provisioning, the Prometheus configurations and alert rules, nginx and
// the local services script. Its tests check them with the tools that read them (promtool).
package deploy
