package worker

import (
	"sync"
)

// tp is a topic partition.
type tp struct {
	topic     string
	partition int32
}

// offsets tracks, per partition, the records accepted and the records done, so that only an
// offset below which every record is done is committed: jobs finish out of order, and a record
// waiting for its retry's backoff holds back the commits of its partition. A partition's
// generation changes when it is revoked, so a job of a revoked partition finishing late is
// ignored (its new owner runs it again).
type offsets struct {
	mu    sync.Mutex
	gen   uint64
	parts map[tp]*partOffsets
}

type partOffsets struct {
	gen       uint64
	pending   map[int64]bool // accepted offsets, true once done
	next      int64          // one past the highest offset accepted
	epoch     int32          // leader epoch of the highest offset accepted
	committed int64          // last offset committed (or -1)
}

func newOffsets() *offsets { return &offsets{parts: map[tp]*partOffsets{}} }

// accept records an offset as in progress and returns the partition's generation.
func (o *offsets) accept(p tp, offset int64, epoch int32) uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	ps, ok := o.parts[p]
	if !ok {
		o.gen++
		ps = &partOffsets{gen: o.gen, pending: map[int64]bool{}, committed: -1}
		o.parts[p] = ps
	}
	ps.pending[offset] = false
	if offset+1 > ps.next {
		ps.next, ps.epoch = offset+1, epoch
	}
	return ps.gen
}

// done marks an offset finished; false when the partition was revoked since (gen differs).
func (o *offsets) done(p tp, gen uint64, offset int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	ps, ok := o.parts[p]
	if !ok || ps.gen != gen {
		return false
	}
	if _, ok := ps.pending[offset]; ok {
		ps.pending[offset] = true
	}
	return true
}

// committable returns, for every partition whose committable offset moved since the last call
// (markCommitted), the offset to commit: the lowest offset not done, else one past the highest
// accepted.
func (o *offsets) committable(only map[tp]bool) map[tp]commitPoint {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[tp]commitPoint{}
	for p, ps := range o.parts {
		if only != nil && !only[p] {
			continue
		}
		at := ps.next
		for off, done := range ps.pending {
			if !done && off < at {
				at = off
			}
		}
		for off, done := range ps.pending {
			if done && off < at {
				delete(ps.pending, off)
			}
		}
		if at > ps.committed {
			out[p] = commitPoint{offset: at, epoch: ps.epoch, gen: ps.gen}
		}
	}
	return out
}

// commitPoint is an offset to commit.
type commitPoint struct {
	offset int64
	epoch  int32
	gen    uint64
}

// markCommitted records that the points were committed.
func (o *offsets) markCommitted(points map[tp]commitPoint) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for p, c := range points {
		if ps, ok := o.parts[p]; ok && ps.gen == c.gen && c.offset > ps.committed {
			ps.committed = c.offset
		}
	}
}

// forget drops partitions (revoked or lost): their jobs finishing later are ignored.
func (o *offsets) forget(ps []tp) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range ps {
		delete(o.parts, p)
	}
}

// inFlight is the number of accepted records not done.
func (o *offsets) inFlight() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, ps := range o.parts {
		for _, done := range ps.pending {
			if !done {
				n++
			}
		}
	}
	return n
}
