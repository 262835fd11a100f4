// Package worker runs scrape jobs: franz-go consumers of the three priority topics in one group,
// a weighted choice among them (scraper/jobs), a fetcher behind the guard and the polite
// decorator, the page parsers, and producers of the observations and of every job's status. It
// also holds the recurring schedule of tracked keywords and the helpers that request a job and
// follow its status.
//
// Delivery is at least once: a request's offset is committed only after every event of its job
// (observations, the final status, a retry request or a dead letter) was produced; a job cut
// short by a shutdown or a rebalance is handed back uncommitted and runs again. Events carry
// deterministic ids (scraper/jobs.EventID), so a rerun that sees the same pages produces the
// same ids.
package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/marketinsightspro/marketinsights/scraper/fetch"
	"github.com/marketinsightspro/marketinsights/scraper/jobs"
	"github.com/marketinsightspro/marketinsights/topics"
)

// DefaultGroup is the consumer group of the workers.
const DefaultGroup = "scrape-workers"

// Topics are the names of the topics a worker reads and writes; tests give their own.
type Topics struct {
	// Requests are the priority topics, indexed by jobs.Queue (high, normal, low).
	Requests [jobs.NumQueues]string
	// Status is where ScrapeStatusChanged goes.
	Status string
	// SearchResults is where SearchResultsObserved goes.
	SearchResults string
	// Products is where ProductObserved goes.
	Products string
	// DeadLetters is where requests that failed for good go.
	DeadLetters string
}

// DefaultTopics are the catalog's names.
func DefaultTopics() Topics {
	return Topics{
		Requests:      [jobs.NumQueues]string{topics.ScrapeRequestsHigh, topics.ScrapeRequestsNormal, topics.ScrapeRequestsLow},
		Status:        topics.ScrapeStatus,
		SearchResults: topics.SearchResults,
		Products:      topics.ProductObservations,
		DeadLetters:   topics.DeadLetters,
	}
}

// BreakerStates tells the state of a host's circuit breaker ("closed", "half-open", "open");
// *fetch.Polite is one.
type BreakerStates interface {
	BreakerState(host string) string
}

// Config configures a Worker. Zero fields take the defaults of setDefaults.
type Config struct {
	// Topics to read and write (default DefaultTopics).
	Topics Topics
	// Group is the consumer group (default DefaultGroup).
	Group string
	// Fetcher gets the pages (required), normally a *fetch.Polite around a Chrome or HTTP fetcher.
	Fetcher fetch.Fetcher
	// Breakers tells the breaker state of hosts (default: the Fetcher, when it tells them, as
	// *fetch.Polite does; else always closed).
	Breakers BreakerStates
	// Concurrency is the number of jobs run at once (default 2).
	Concurrency int
	// PageParallelism is the number of product pages of one job fetched at once (default 2,
	// best the fetcher's tab count); search pages are fetched in order, one at a time.
	PageParallelism int
	// Weights are the shares of the priority queues (default 6:3:1).
	Weights jobs.Weights
	// QueueLimit is how many accepted requests a priority may hold in memory before its topic's
	// fetching pauses (default 2×Concurrency).
	QueueLimit int
	// Retry is the retry policy (zero fields from jobs.DefaultPolicy).
	Retry jobs.Policy
	// MaxPages bounds the search pages of a job (default 20); a request for more is refused.
	MaxPages int
	// MaxProductPages bounds the product pages of new or changed products a job fetches
	// (default 48; negative: none).
	MaxProductPages int
	// BaseURL, when set, is where every marketplace's pages are fetched from, with ?mp= naming
	// the marketplace (the sandbox); empty fetches https://www.<marketplace>.
	BaseURL string
	// Remember is how many products' card fingerprints and search pages' results are kept for
	// "changed" and for stale answers (default 10,000 products, 1,000 pages).
	RememberProducts int
	RememberPages    int
	// CancelLookback is how far back the worker reads the status topic for CANCELLED statuses
	// at start (default 1 h).
	CancelLookback time.Duration
	// CommitInterval is how often finished offsets are committed (default 1 s).
	CommitInterval time.Duration
	// ShutdownGrace is how long a shutdown waits for running jobs before handing them back
	// (default 10 s).
	ShutdownGrace time.Duration
	// Producer is written into every envelope (default "scraper/<hostname>").
	Producer string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger logs (default discards).
	Logger *slog.Logger
	// Registerer, if set, gets the worker's metrics.
	Registerer prometheus.Registerer
}

// ErrNoFetcher is returned by New without a fetcher.
var ErrNoFetcher = errors.New("worker: no fetcher")

func (c *Config) setDefaults() {
	def := DefaultTopics()
	for q := range jobs.NumQueues {
		if c.Topics.Requests[q] == "" {
			c.Topics.Requests[q] = def.Requests[q]
		}
	}
	if c.Topics.Status == "" {
		c.Topics.Status = def.Status
	}
	if c.Topics.SearchResults == "" {
		c.Topics.SearchResults = def.SearchResults
	}
	if c.Topics.Products == "" {
		c.Topics.Products = def.Products
	}
	if c.Topics.DeadLetters == "" {
		c.Topics.DeadLetters = def.DeadLetters
	}
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if b, ok := c.Fetcher.(BreakerStates); ok && c.Breakers == nil {
		c.Breakers = b
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 2
	}
	if c.PageParallelism <= 0 {
		c.PageParallelism = 2
	}
	if c.Weights == (jobs.Weights{}) {
		c.Weights = jobs.DefaultWeights
	}
	if c.QueueLimit <= 0 {
		c.QueueLimit = 2 * c.Concurrency
	}
	c.Retry = c.Retry.WithDefaults()
	if c.MaxPages <= 0 {
		c.MaxPages = 20
	}
	if c.MaxProductPages == 0 {
		c.MaxProductPages = 48
	}
	if c.RememberProducts <= 0 {
		c.RememberProducts = 10000
	}
	if c.RememberPages <= 0 {
		c.RememberPages = 1000
	}
	if c.CancelLookback <= 0 {
		c.CancelLookback = time.Hour
	}
	if c.CommitInterval <= 0 {
		c.CommitInterval = time.Second
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 10 * time.Second
	}
	if c.Producer == "" {
		host, _ := os.Hostname()
		c.Producer = "scraper/" + host
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *Config) validate() error {
	if c.Fetcher == nil {
		return ErrNoFetcher
	}
	if err := c.Weights.Validate(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	if c.BaseURL != "" {
		if _, err := jobs.ResolveSite("amazon.com", c.BaseURL); err != nil {
			return fmt.Errorf("worker: %w", err)
		}
	}
	return nil
}
