package jobs

import (
	"fmt"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Queue is one of the three priority queues, in the order the worker serves them.
type Queue int

const (
	// High holds jobs a user waits for (analyses).
	High Queue = iota
	// Normal holds scheduled tracking.
	Normal
	// Low holds backfill and bulk refreshes.
	Low
	// NumQueues is the number of queues.
	NumQueues
)

// String names the queue as the topics and flags do: high, normal, low.
func (q Queue) String() string {
	switch q {
	case High:
		return "high"
	case Normal:
		return "normal"
	case Low:
		return "low"
	}
	return fmt.Sprintf("Queue(%d)", int(q))
}

// QueueOf is the queue of a priority; unspecified is normal.
func QueueOf(p marketv1.Priority) Queue {
	switch p {
	case marketv1.Priority_PRIORITY_HIGH:
		return High
	case marketv1.Priority_PRIORITY_LOW:
		return Low
	}
	return Normal
}

// Priority is the contract's priority of a queue.
func (q Queue) Priority() marketv1.Priority {
	switch q {
	case High:
		return marketv1.Priority_PRIORITY_HIGH
	case Low:
		return marketv1.Priority_PRIORITY_LOW
	}
	return marketv1.Priority_PRIORITY_NORMAL
}

// ParseQueue reads "high", "normal" or "low".
func ParseQueue(s string) (Queue, error) {
	for q := range NumQueues {
		if q.String() == s {
			return q, nil
		}
	}
	return 0, fmt.Errorf("priority %q: want high, normal or low", s)
}

// Weights are the shares of the queues when all have work: 6:3:1 serves six high jobs, three
// normal and one low in every ten.
type Weights [NumQueues]int

// DefaultWeights are 6:3:1.
var DefaultWeights = Weights{6, 3, 1}

// Validate refuses a negative weight and a high or low weight of zero (zero for low would starve
// it; zero for high would make "high first" false).
func (w Weights) Validate() error {
	for q, v := range w {
		if v < 0 || v > 1000 {
			return fmt.Errorf("weight of %s is %d: want 0-1000", Queue(q), v)
		}
	}
	if w[High] == 0 || w[Low] == 0 {
		return fmt.Errorf("weights %d:%d:%d: high and low need a positive weight (zero starves a queue)", w[High], w[Normal], w[Low])
	}
	return nil
}

// ParseWeights reads "6:3:1" (high:normal:low).
func ParseWeights(s string) (Weights, error) {
	var w Weights
	if _, err := fmt.Sscanf(s, "%d:%d:%d", &w[High], &w[Normal], &w[Low]); err != nil {
		return w, fmt.Errorf("weights %q: want high:normal:low such as 6:3:1", s)
	}
	if err := w.Validate(); err != nil {
		return w, err
	}
	return w, nil
}

// String writes the weights as high:normal:low.
func (w Weights) String() string { return fmt.Sprintf("%d:%d:%d", w[High], w[Normal], w[Low]) }

// Picker chooses the next queue to serve by smooth weighted round robin (nginx's): every pick
// adds each non-empty queue's weight to its credit, serves the queue with the most credit (the
// higher priority on ties) and takes the sum of the weights from it. Over any stretch in which
// the same queues have work, each is served in proportion to its weight, evenly spread: with
// 6:3:1 and all queues full, low is served once in every ten picks. An empty queue earns no
// credit, so a queue that was idle does not burst when work arrives. Not safe for concurrent use.
type Picker struct {
	w      Weights
	credit [NumQueues]int
}

// NewPicker returns a picker with the given weights (see Weights.Validate).
func NewPicker(w Weights) *Picker { return &Picker{w: w} }

// Pick returns the queue to serve given which queues have work; false when none has.
func (p *Picker) Pick(nonEmpty [NumQueues]bool) (Queue, bool) {
	total, best := 0, Queue(-1)
	for q := range NumQueues {
		if !nonEmpty[q] {
			continue
		}
		w := max(p.w[q], 0)
		if w == 0 && best >= 0 {
			continue
		}
		p.credit[q] += w
		total += w
		if best < 0 || p.credit[q] > p.credit[best] {
			best = q
		}
	}
	if best < 0 {
		return 0, false
	}
	p.credit[best] -= total
	return best, true
}
