package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	rproj "github.com/marketinsightspro/marketinsights/projections/redis"
)

// Event is a message the WebSocket sends: a change of the read model (the Redis change
// message's fields), an analysis' new status, or hello when the connection opens.
type Event struct {
	rproj.Change
	// Analysis is the analysis' status (kind "analysis").
	Analysis *AnalysisStatus `json:"analysis,omitempty"`
}

// KindAnalysis and KindHello are the WebSocket's own kinds of events.
const (
	KindAnalysis = "analysis"
	KindHello    = "hello"
)

// wsBuffer is how many events a client may lag behind before it is dropped.
const wsBuffer = 64

// Hub fans events out to WebSocket clients, each following one keyword (or every keyword).
type Hub struct {
	mu      sync.Mutex
	clients map[*wsClient]struct{}
	m       *Metrics
	wg      sync.WaitGroup
	closed  bool
}

type wsClient struct {
	keyword string
	send    chan []byte
	drop    chan struct{}
	once    sync.Once
}

// NewHub returns an empty hub.
func NewHub(m *Metrics) *Hub { return &Hub{clients: map[*wsClient]struct{}{}, m: m} }

// wants reports whether a client following keyword gets ev: generation changes go to all;
// keyword, window and analysis events to the keyword's followers and to those following all
// keywords; anomalies and products of the keyword to its followers.
func wants(keyword string, ev *Event) bool {
	switch ev.Kind {
	case rproj.KindGeneration:
		return true
	case rproj.KindKeyword, rproj.KindWindow:
		return keyword == "" || keyword == ev.Keyword
	case rproj.KindAnomaly:
		return keyword == "" || keyword == ev.Keyword
	case KindAnalysis:
		return keyword == "" || (ev.Analysis != nil && ev.Analysis.Keyword == keyword)
	default:
		return false
	}
}

// Broadcast sends ev to every client that wants it; a client whose buffer is full is dropped
// (it reconnects and reloads).
func (h *Hub) Broadcast(ev Event) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		if !wants(c.keyword, &ev) {
			continue
		}
		select {
		case c.send <- b:
		default:
			c.once.Do(func() { close(c.drop) })
			delete(h.clients, c)
			h.m.WSDropped.Inc()
		}
	}
}

// Clients returns the number of connected clients.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// Close disconnects every client and waits for their goroutines.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	for c := range h.clients {
		c.once.Do(func() { close(c.drop) })
		delete(h.clients, c)
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// serve runs one WebSocket connection until the client leaves, falls behind, or the hub closes.
func (h *Hub) serve(w http.ResponseWriter, r *http.Request, keyword string, origins []string) {
	opts := &websocket.AcceptOptions{OriginPatterns: origins}
	conn, err := websocket.Accept(w, r, opts)
	if err != nil {
		return // Accept wrote the error
	}
	c := &wsClient{keyword: keyword, send: make(chan []byte, wsBuffer), drop: make(chan struct{})}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		conn.Close(websocket.StatusGoingAway, "server stopping")
		return
	}
	h.clients[c] = struct{}{}
	h.wg.Add(1)
	h.mu.Unlock()
	h.m.WSClients.Inc()
	defer func() {
		h.mu.Lock()
		delete(h.clients, c)
		h.mu.Unlock()
		h.m.WSClients.Dec()
		h.wg.Done()
	}()
	ctx := conn.CloseRead(context.WithoutCancel(r.Context()))
	hello, _ := json.Marshal(Event{Change: rproj.Change{Kind: KindHello, Keyword: keyword}})
	if err := write(ctx, conn, hello); err != nil {
		return
	}
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case b := <-c.send:
			if err := write(ctx, conn, b); err != nil {
				return
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
		case <-c.drop:
			conn.Close(websocket.StatusTryAgainLater, "fell behind or server stopping: reconnect and reload")
			return
		case <-ctx.Done():
			conn.Close(websocket.StatusNormalClosure, "")
			return
		}
	}
}

// write sends one text message within 10 s.
func write(ctx context.Context, conn *websocket.Conn, b []byte) error {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := conn.Write(wctx, websocket.MessageText, b); err != nil {
		if !errors.Is(err, context.Canceled) {
			conn.Close(websocket.StatusGoingAway, "write failed")
		}
		return err
	}
	return nil
}
