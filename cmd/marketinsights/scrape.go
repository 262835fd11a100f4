package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/marketinsightspro/marketinsights/internal/config"
	"github.com/marketinsightspro/marketinsights/internal/kafkaclient"
	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
	"github.com/marketinsightspro/marketinsights/scraper/fetch"
	"github.com/marketinsightspro/marketinsights/scraper/jobs"
	"github.com/marketinsightspro/marketinsights/scraper/worker"
	"github.com/marketinsightspro/marketinsights/topics"
)

type scrapeCmd struct {
	Run     scrapeRunCmd     `cmd:"" default:"withargs" help:"Run scrape workers on the priority topics, and the schedule of --track keywords (the default)."`
	Enqueue scrapeEnqueueCmd `cmd:"" help:"Request one search job of a keyword and print its id; --follow prints its status until it ends."`
}

// trackFlags are the recurring schedule's settings, shared by `scrape run` and `demo`.
type trackFlags struct {
	Track       []string      `placeholder:"KEYWORD,..." help:"Keywords to scrape on a schedule, every --every (each at its own jittered offset)."`
	Every       time.Duration `default:"15m" help:"Period of a tracked keyword's scrape."`
	Jitter      time.Duration `default:"5m" help:"Spread of the tracked keywords' offsets within the period (deterministic per keyword)."`
	TrackPages  int           `default:"3" help:"Search pages of a tracked keyword's job."`
	Marketplace string        `default:"amazon.com" help:"Marketplace of the tracked keywords."`
}

type scrapeRunCmd struct {
	trackFlags
	Workers     bool   `default:"true" negatable:"" help:"Run workers; --no-workers only schedules the tracked keywords."`
	MetricsAddr string `default:"127.0.0.1:9466" placeholder:"HOST:PORT" help:"Serve /metrics, /healthz and /readyz here (empty: off)."`
}

func (c *scrapeRunCmd) Run(e *env) error {
	if !c.Workers && len(c.Track) == 0 {
		return usageError{errors.New("nothing to run: --no-workers and no --track keywords")}
	}
	reg := newRegistry()
	sc, err := startScraper(e, e.cfg.Kafka, e.cfg.Scrape, c.trackFlags, c.Workers, reg)
	if err != nil {
		return err
	}
	stopMetrics, err := serveMetrics(e, c.MetricsAddr, reg, nil)
	if err != nil {
		e.log.Error("metrics", "err", err)
		return errors.Join(err, sc.wait())
	}
	defer stopMetrics()
	return sc.wait()
}

// runningScraper is a started worker and scheduler; wait blocks until both stopped after e.ctx ends.
type runningScraper struct {
	wait   func() error
	groups []string // the workers' consumer group, for the lag metrics
}

// startScraper builds the fetchers and starts a worker (when workers) and the schedule of the
// tracked keywords (when any) on e.ctx.
func startScraper(e *env, kcfg config.Kafka, sc config.Scrape, tf trackFlags, workers bool, reg prometheus.Registerer) (*runningScraper, error) {
	weights, err := jobs.ParseWeights(sc.Weights)
	if err != nil {
		return nil, usageError{err}
	}
	var runs []func(context.Context) error
	var groups []string
	var closers []func() error
	if workers {
		fs, err := worker.NewFetchers(e.ctx, worker.FetcherConfig{Kind: sc.Fetcher, Tabs: sc.Tabs, PageTimeout: sc.PageTimeout,
			UserAgent: sc.UserAgent, AllowHosts: sc.AllowHosts, AllowPrivate: sc.AllowPrivate, Robots: sc.Robots,
			Rate: sc.Rate, Burst: max(1, int(sc.Rate))})
		if err != nil {
			if errors.Is(err, fetch.ErrNoChromium) {
				return nil, fmt.Errorf("%w (or use --scrape-fetcher http)", err)
			}
			return nil, err
		}
		closers = append(closers, fs.Close)
		if reg != nil {
			if err := reg.Register(worker.NewBreakerCollector(fs.Polite)); err != nil {
				fs.Close()
				return nil, fmt.Errorf("register the breaker state metric: %w", err)
			}
		}
		maxProducts := sc.MaxProductPages
		if maxProducts == 0 {
			maxProducts = -1
		}
		w, err := worker.New(kcfg, worker.Config{Group: sc.Group, Fetcher: fs.Polite, Breakers: fs.Polite,
			Concurrency: sc.Concurrency, PageParallelism: sc.Tabs, Weights: weights, MaxProductPages: maxProducts, BaseURL: sc.BaseURL,
			Retry:  jobs.Policy{MaxAttempts: sc.Attempts, BaseBackoff: sc.Backoff, MaxBackoff: sc.MaxBackoff, BlockedBackoff: sc.BlockedBackoff},
			Logger: e.log.With("role", "scrape"), Registerer: reg})
		if err != nil {
			fs.Close()
			return nil, err
		}
		runs = append(runs, w.Run)
		group := sc.Group
		if group == "" {
			group = worker.DefaultGroup
		}
		groups = append(groups, group)
	}
	if len(tf.Track) > 0 {
		cl, err := kafkaclient.New(kcfg, e.log)
		if err != nil {
			for _, c := range closers {
				c()
			}
			return nil, err
		}
		closers = append(closers, func() error { cl.Close(); return nil })
		s := &worker.Scheduler{Client: cl, Schedule: jobs.Schedule{Every: tf.Every, Jitter: tf.Jitter}, Pages: tf.TrackPages,
			Producer: "scheduler", Logger: e.log.With("role", "schedule")}
		if err := s.Schedule.Validate(); err != nil {
			return nil, usageError{fmt.Errorf("--every %v --jitter %v: %w", tf.Every, tf.Jitter, err)}
		}
		for _, k := range tf.Track {
			s.Keywords = append(s.Keywords, worker.Tracked{Keyword: k, Marketplace: tf.Marketplace})
		}
		runs = append(runs, s.Run)
		e.log.Info("tracking keywords", "keywords", tf.Track, "every", tf.Every, "jitter", tf.Jitter, "pages", tf.TrackPages)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	errs := make(chan error, len(runs))
	var wg sync.WaitGroup
	for _, run := range runs {
		wg.Go(func() {
			if err := run(ctx); err != nil {
				errs <- err
				cancel()
			}
		})
	}
	return &runningScraper{groups: groups, wait: func() error {
		wg.Wait()
		cancel()
		close(errs)
		var all []error
		for err := range errs {
			all = append(all, err)
		}
		for i := len(closers) - 1; i >= 0; i-- {
			if err := closers[i](); err != nil {
				all = append(all, err)
			}
		}
		return errors.Join(all...)
	}}, nil
}

type scrapeEnqueueCmd struct {
	Keyword     string        `required:"" help:"Keyword to search."`
	Pages       int           `default:"3" help:"Search pages to fetch (the product pages of new or changed products follow)."`
	Priority    string        `default:"normal" enum:"high,normal,low" help:"Queue: ${enum}."`
	Marketplace string        `default:"amazon.com" help:"Marketplace domain (or an http(s) URL, which the guard must allow)."`
	Timeout     time.Duration `default:"0s" help:"Deadline from now after which the job is dropped (0: none)."`
	JobID       string        `name:"job-id" help:"Job id (default: a new UUIDv7)."`
	Follow      bool          `help:"Print the job's statuses as JSON lines until it ends; exit 1 unless it SUCCEEDED or was answered STALE."`
}

func (c *scrapeEnqueueCmd) Run(e *env) error {
	q, err := jobs.ParseQueue(c.Priority)
	if err != nil {
		return usageError{err}
	}
	if c.Pages < 1 {
		return usageError{fmt.Errorf("--pages %d: want at least 1", c.Pages)}
	}
	if _, err := jobs.ResolveSite(c.Marketplace, ""); err != nil {
		return usageError{err}
	}
	now := time.Now()
	rq := worker.Request{JobID: c.JobID, Keyword: c.Keyword, Marketplace: c.Marketplace, Pages: c.Pages, Queue: q, RequestedBy: "cli", Producer: "cli"}
	if c.Timeout > 0 {
		rq.Deadline = now.Add(c.Timeout)
	}
	req := worker.NewRequest(rq, now)
	opts := []kgo.Opt{}
	if c.Follow {
		opts = append(opts, kgo.ConsumeTopics(topics.ScrapeStatus), kgo.ConsumeResetOffset(kgo.NewOffset().AfterMilli(now.Add(-time.Second).UnixMilli())))
	}
	cl, err := kafkaclient.New(e.cfg.Kafka, nil, opts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := worker.Enqueue(e.ctx, cl, worker.DefaultTopics(), req); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "requested job %s (%s, %d pages of %q on %s)\n", req.JobId, worker.DefaultTopics().Requests[q], c.Pages, req.Keyword, req.Marketplace)
	if !c.Follow {
		fmt.Fprintln(e.stdout, req.JobId)
		return nil
	}
	last, err := worker.Follow(e.ctx, cl, topics.ScrapeStatus, req.JobId, func(s *marketv1.ScrapeStatusChanged) {
		if b, err := topics.MarshalJSON(s); err == nil {
			fmt.Fprintln(e.stdout, string(b))
		}
	})
	if err != nil {
		return fmt.Errorf("follow job %s: %w", req.JobId, err)
	}
	switch last.GetStatus() {
	case marketv1.ScrapeStatus_SCRAPE_STATUS_SUCCEEDED, marketv1.ScrapeStatus_SCRAPE_STATUS_STALE:
		return nil
	}
	return fmt.Errorf("job %s ended %s: %s", req.JobId, last.GetStatus(), last.GetReason())
}
