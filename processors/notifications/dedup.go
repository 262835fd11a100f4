package notifications

import "sync"

// idSet is a bounded set of notification ids that forgets the oldest-added id first; safe for
// concurrent use.
type idSet struct {
	mu   sync.Mutex
	max  int
	ring []string
	next int
	set  map[string]struct{}
}

func newIDSet(max int) *idSet {
	return &idSet{max: max, ring: make([]string, 0, min(max, 4096)), set: make(map[string]struct{}, min(max, 4096))}
}

// Add remembers id; it reports whether id was new.
func (s *idSet) Add(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.set[id]; ok {
		return false
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, id)
	} else {
		delete(s.set, s.ring[s.next])
		s.ring[s.next] = id
		s.next = (s.next + 1) % s.max
	}
	s.set[id] = struct{}{}
	return true
}

// Contains reports whether id is remembered.
func (s *idSet) Contains(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.set[id]
	return ok
}

// Len returns the number of ids remembered.
func (s *idSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.set)
}
