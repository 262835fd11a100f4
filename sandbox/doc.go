// Package sandbox is a simulated marketplace website for the demo, the tests and the benchmarks.
//
// A Market is a catalog of products across categories and search keywords, generated from a seed,
// whose state (prices, reviews, ratings, ranks, stock, sellers, which products a keyword lists)
// is a pure function of the seed and the simulated time, so the state at any time is reproducible.
// Anomalies (price drops and spikes, review spikes, rating drops, stock-outs, seller-count jumps)
// are injected on a schedule that is itself a function of the seed.
//
// A Server renders the market as Amazon-like pages with the markup of Amazon's real pages: search
// result pages (/s?k=...&page=N, list and grid layouts) and product pages (/dp/ASIN), in several
// marketplace locales (by Host header or ?mp=). It serves the ground truth as JSON under /_truth,
// and injects faults on demand (latency, 429 with Retry-After, 503, a robot-check page served with
// status 200, truncated or malformed HTML), configured at construction or through /_faults.
//
// Start runs a Server on a listener for tests and for the `marketinsights sandbox` command.
package sandbox
