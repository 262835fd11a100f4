package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Running is a sandbox Server listening on an address.
type Running struct {
	// URL is the base URL of the site, e.g. "http://127.0.0.1:41234".
	URL string
	// Addr is the listening address.
	Addr string
	// Server is the handler, for its market, clock and faults.
	Server *Server

	srv       *http.Server
	stop      context.CancelFunc // cancels the requests' base context
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Start builds a Server from opts and serves it on addr ("" or "127.0.0.1:0" picks a free
// loopback port) until Close is called or ctx is done.
func Start(ctx context.Context, addr string, opts Options) (*Running, error) {
	s, err := NewServer(opts)
	if err != nil {
		return nil, err
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sandbox: listen on %s: %w", addr, err)
	}
	base, stop := context.WithCancel(context.Background())
	r := &Running{
		Addr:   ln.Addr().String(),
		URL:    "http://" + ln.Addr().String(),
		Server: s,
		srv: &http.Server{
			Handler:           s,
			ReadHeaderTimeout: 10 * time.Second,
			// Requests in an injected latency end when the server closes.
			BaseContext: func(net.Listener) context.Context { return base },
		},
		stop: stop,
		done: make(chan struct{}),
	}
	go func() {
		defer close(r.done)
		if err := r.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox server stopped", "err", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			r.Close()
		case <-r.done:
		}
	}()
	s.log.Info("sandbox marketplace listening", "url", r.URL, "seed", s.market.seed,
		"products", len(s.market.products), "keywords", len(s.market.keywords), "epoch", formatTime(s.market.Epoch()))
	return r, nil
}

// Close stops the server, waiting up to five seconds for requests in flight. It is idempotent.
func (r *Running) Close() error {
	r.closeOnce.Do(func() {
		r.stop()
		// net/http counts a connection that was dialled but never sent a request as idle only
		// after 5 s (the client's transport dials such spares), so the grace must be longer.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.srv.Shutdown(ctx); err != nil {
			r.closeErr = fmt.Errorf("sandbox: shutdown: %w", err)
			r.srv.Close()
		}
		<-r.done
	})
	return r.closeErr
}

// Done is closed when the server has stopped.
func (r *Running) Done() <-chan struct{} { return r.done }
