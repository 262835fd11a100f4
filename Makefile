# Market Insights Pro. The README's two commands: `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
BUF       := $(GO) tool -modfile=tools/go.mod buf
SERVICES  := deploy/local/services
BIN       := bin/marketinsights
# Packages and flags of the suite; override for a subset, e.g. make test PKG=./topics/...
PKG       ?= ./...
TESTFLAGS ?= -race -count=1 -timeout 20m
KAFKA_BROKERS ?= 127.0.0.1:29092

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

.PHONY: demo
demo: build ## Start the local services and run the whole system on embedded defaults (Ctrl-C stops it).
	$(SERVICES) up
	$(BIN) demo

.PHONY: test
test: services-test proto-check build ## Start the services the tests need, check the contracts, vet, run every test, run the demo's self-check.
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) $(PKG)
	$(GO) test -count=1 -run TestPipelineRecoversSameState ./processors/  # 100k events: too slow under -race
	$(BIN) demo --check --log-level warn

.PHONY: test-kafka
test-kafka: services-test ## Run the suite against Apache Kafka 4.x (fetched by Maven) instead of the embedded broker.
	$(SERVICES) up kafka
	MIP_TEST_KAFKA_BROKERS=$(KAFKA_BROKERS) $(GO) test $(TESTFLAGS) $(PKG)
	MIP_TEST_KAFKA_BROKERS=$(KAFKA_BROKERS) $(GO) test -count=1 -run TestPipelineRecoversSameState ./processors/

.PHONY: build
build: ## Build bin/marketinsights.
	$(GO) build -o $(BIN) ./cmd/marketinsights

.PHONY: web
# The built stylesheet's inputs; its first line records their sha256, which web's tests compare.
WEB_CSS_INPUTS := src/styles.css static/index.html static/app.js package-lock.json
web: ## Build the report page's assets from npm (web/package-lock.json): Tailwind CSS into web/static/app.css, Chart.js into web/static/vendor.
	cd web && npm ci --no-audit --no-fund
	cd web && tmp=$$(mktemp) && trap 'rm -f "$$tmp"' EXIT && \
	  npx --no-install tailwindcss --input src/styles.css --output "$$tmp" --minify && \
	  { printf '/* Built by make web from web/src/styles.css with Tailwind; inputs sha256 %s */\n' \
	      "$$(cat $(WEB_CSS_INPUTS) | sha256sum | cut -c1-64)"; cat "$$tmp"; } > static/app.css
	cp web/node_modules/chart.js/dist/chart.umd.min.js web/static/vendor/chart.umd.min.js
	cp web/node_modules/chart.js/LICENSE.md web/static/vendor/chart.js.LICENSE.md

.PHONY: services
services: ## Start ClickHouse, Redis, Prometheus (and install Chromium) on loopback, data under .data/.
	$(SERVICES) up

.PHONY: services-test
services-test:  # prometheus: the dashboards' and alerts' tests run Debian's prometheus and promtool; chromium: the scraper's
	$(SERVICES) up clickhouse redis prometheus chromium

.PHONY: services-down
services-down: ## Stop every local service.
	$(SERVICES) down

.PHONY: proto
proto: ## Regenerate the Go code of schemas/ and the descriptor snapshot (after a reviewed contract change).
	$(BUF) lint
	$(BUF) generate
	$(BUF) build -o schemas/descriptor.binpb

.PHONY: proto-check
proto-check: ## Lint the contracts, refuse breaking changes, check the generated code is current.
	$(BUF) lint
	$(BUF) breaking --against schemas/descriptor.binpb
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(BUF) generate -o "$$tmp" && \
	  for f in "$$tmp"/schemas/market/v1/*.pb.go; do \
	    cmp -s "$$f" "schemas/market/v1/$$(basename "$$f")" || { echo "schemas/market/v1/$$(basename "$$f") is stale: run make proto"; exit 1; }; \
	  done
	@$(BUF) build -o - | cmp -s - schemas/descriptor.binpb || { echo "schemas/descriptor.binpb differs from the contracts: a reviewed, non-breaking change needs make proto"; exit 1; }

.PHONY: docs
docs: ## Regenerate docs/topics.md and docs/asyncapi.yaml from the catalog, and dashboards/*.json.
	$(GO) generate ./topics/ ./dashboards/

.PHONY: clean
clean: ## Remove build output (not .data/).
	rm -rf bin
