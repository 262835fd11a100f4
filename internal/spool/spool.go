// Package spool keeps Kafka records on disk until the broker has acknowledged them, so that a
// producer that must never wait for Kafka (the API's user actions) loses nothing to a Kafka
// outage or a restart of its process.
//
// Append writes a record to the end of the current segment file at once (a write to the page
// cache, which survives the process) and never waits for Kafka; a background loop fsyncs what
// was appended every Options.SyncInterval (group commit, so that a request does not pay for an
// fsync), which makes it survive the machine. Run sends the records in the order they were
// appended, in batches, waiting for the broker's acknowledgement of each batch; it retries a
// failed batch with backoff until the broker takes it, then moves a cursor (kept in a file)
// past it and deletes the segments it has left behind. When the spool holds Options.MaxBytes,
// Append refuses records with ErrFull (counted in Stats and logged) rather than block.
//
// Delivery is at least once: a batch whose acknowledgement was lost, or that was sent but not
// yet recorded by the cursor when the process stopped, is sent again. Records carry event ids,
// so consumers absorb the duplicates.
package spool

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrFull is returned by Append when the spool holds Options.MaxBytes.
var ErrFull = errors.New("spool full")

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("spool closed")

// Producer sends a record and calls promise with the broker's answer (*kgo.Client is one).
type Producer interface {
	Produce(ctx context.Context, r *kgo.Record, promise func(*kgo.Record, error))
}

// Options configure a Spool; zero values take the documented defaults.
type Options struct {
	// Dir holds the segments, the cursor and a lock file; it is created when missing. One
	// process at a time may open it.
	Dir string
	// MaxBytes bounds the segments on disk (default 256 MiB); beyond it Append refuses records.
	MaxBytes int64
	// SegmentBytes is the size at which a segment is closed and a new one started (default
	// MaxBytes/16, between 64 KiB and 16 MiB).
	SegmentBytes int64
	// SyncInterval is how often appended records are fsync'd (default 100ms).
	SyncInterval time.Duration
	// BatchRecords is the most records sent in one batch (default 1000).
	BatchRecords int
	// MinBackoff and MaxBackoff bound the wait before a failed batch is sent again (default
	// 100ms, doubling up to 5s).
	MinBackoff, MaxBackoff time.Duration
	// Logger logs failures and drops; nil discards.
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 20
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = min(max(o.MaxBytes/16, 64<<10), 16<<20)
	}
	o.SegmentBytes = min(o.SegmentBytes, o.MaxBytes)
	if o.SyncInterval <= 0 {
		o.SyncInterval = 100 * time.Millisecond
	}
	if o.BatchRecords <= 0 {
		o.BatchRecords = 1000
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(5*time.Second, o.MinBackoff)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Stats are a spool's figures since it was opened.
type Stats struct {
	// Bytes is the size of the segments on disk.
	Bytes int64
	// Appended counts records appended; Sent counts records the broker acknowledged.
	Appended, Sent int64
	// Dropped counts records refused because the spool was full.
	Dropped int64
	// Corrupt counts damaged segment tails skipped (a torn write, a disk error).
	Corrupt int64
}

// segment is one file of the spool.
type segment struct {
	n    uint64 // its number, in the file name; later segments have greater numbers
	size int64
}

// Spool is an on-disk queue of records in front of a Producer; see the package documentation.
type Spool struct {
	p    Producer
	opts Options
	lock *os.File

	mu       sync.Mutex
	segs     []segment // oldest first; the last one is active (appended to)
	active   *os.File
	bytes    int64
	dirty    bool
	toSync   []*os.File // sealed segments to fsync and close
	closed   bool
	lastDrop time.Time
	drops    int64 // drops since the last log line

	notify chan struct{}

	// The sender's position: the next record to send is at offset off of segment seg.
	cursor position

	appended, sent, dropped, corrupt atomic.Int64
}

type position struct {
	seg uint64
	off int64
}

const (
	segSuffix  = ".seg"
	cursorFile = "cursor"
	lockFile   = "lock"
	headerLen  = 8 // length (uint32) and CRC-32C (uint32) of the payload
	maxRecord  = 16 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Open opens (or creates) the spool in o.Dir, recovers what it holds (a torn last record is cut
// off) and starts a new segment. Run sends what it holds; Close releases it.
func Open(p Producer, o Options) (*Spool, error) {
	o.defaults()
	if o.Dir == "" {
		return nil, errors.New("spool: Options.Dir is required")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("spool: create %s: %w", o.Dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(o.Dir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("spool: open the lock of %s: %w", o.Dir, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("spool: %s is in use by another process: %w", o.Dir, err)
	}
	s := &Spool{p: p, opts: o, lock: lock, notify: make(chan struct{}, 1)}
	if err := s.recover(); err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

// recover lists the segments, reads the cursor, deletes what the cursor has passed, cuts a torn
// tail off the last segment and opens a new active one.
func (s *Spool) recover() error {
	entries, err := os.ReadDir(s.opts.Dir)
	if err != nil {
		return fmt.Errorf("spool: list %s: %w", s.opts.Dir, err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), segSuffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return fmt.Errorf("spool: stat %s: %w", e.Name(), err)
		}
		s.segs = append(s.segs, segment{n: n, size: info.Size()})
	}
	slices.SortFunc(s.segs, func(a, b segment) int { return cmp.Compare(a.n, b.n) })
	s.cursor = s.readCursor()
	for len(s.segs) > 0 && s.segs[0].n < s.cursor.seg {
		if err := os.Remove(s.path(s.segs[0].n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool: remove a sent segment: %w", err)
		}
		s.segs = s.segs[1:]
	}
	if len(s.segs) > 0 && s.segs[0].n != s.cursor.seg {
		s.cursor = position{seg: s.segs[0].n}
	}
	if last := len(s.segs) - 1; last >= 0 {
		// The process may have stopped in the middle of an append: keep the whole records.
		good, err := validPrefix(s.path(s.segs[last].n))
		if err != nil {
			return err
		}
		if good < s.segs[last].size {
			s.corrupt.Add(1)
			s.opts.Logger.Warn("spool: cut a torn record off the last segment", "segment", s.path(s.segs[last].n),
				"size", s.segs[last].size, "kept", good)
			if err := os.Truncate(s.path(s.segs[last].n), good); err != nil {
				return fmt.Errorf("spool: cut the torn tail of %s: %w", s.path(s.segs[last].n), err)
			}
			s.segs[last].size = good
		}
	}
	for _, sg := range s.segs {
		s.bytes += sg.size
	}
	next := uint64(1)
	if len(s.segs) > 0 {
		next = s.segs[len(s.segs)-1].n + 1
	} else if s.cursor.seg > 0 {
		next = s.cursor.seg
	}
	if len(s.segs) == 0 {
		s.cursor = position{seg: next}
	}
	return s.startSegment(next)
}

// readCursor reads the cursor file; a missing or unreadable one starts at the oldest segment.
func (s *Spool) readCursor() position {
	b, err := os.ReadFile(filepath.Join(s.opts.Dir, cursorFile))
	if err != nil {
		return position{}
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return position{}
	}
	seg, err1 := strconv.ParseUint(f[0], 10, 64)
	off, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || off < 0 {
		return position{}
	}
	return position{seg: seg, off: off}
}

// writeCursor records the sender's position (write to a temporary file, then rename). Losing
// it only means sending some records again.
func (s *Spool) writeCursor(p position) error {
	tmp := filepath.Join(s.opts.Dir, cursorFile+".tmp")
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf("%d %d\n", p.seg, p.off)), 0o644); err != nil {
		return fmt.Errorf("spool: write the cursor: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.opts.Dir, cursorFile)); err != nil {
		return fmt.Errorf("spool: write the cursor: %w", err)
	}
	return nil
}

func (s *Spool) path(n uint64) string {
	return filepath.Join(s.opts.Dir, fmt.Sprintf("%016d%s", n, segSuffix))
}

// startSegment creates segment n and makes it active; s.mu is held (or s is not shared yet).
func (s *Spool) startSegment(n uint64) error {
	f, err := os.OpenFile(s.path(n), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("spool: create segment %s: %w", s.path(n), err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("spool: stat segment %s: %w", s.path(n), err)
	}
	if len(s.segs) == 0 || s.segs[len(s.segs)-1].n != n {
		s.segs = append(s.segs, segment{n: n, size: info.Size()})
	}
	s.active = f
	// The directory entry of a new segment must survive the machine too.
	if d, err := os.Open(s.opts.Dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// Append writes a record to the spool without waiting for Kafka or for an fsync. It returns
// ErrFull (and counts and logs the drop) when the spool holds MaxBytes, ErrClosed after Close.
func (s *Spool) Append(r *kgo.Record) error {
	frame, err := encode(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.bytes+int64(len(frame)) > s.opts.MaxBytes {
		s.dropped.Add(1)
		s.drops++
		if now := time.Now(); now.Sub(s.lastDrop) >= 10*time.Second {
			s.opts.Logger.Warn("spool full: dropping records", "dir", s.opts.Dir, "max_bytes", s.opts.MaxBytes,
				"dropped_since_last_log", s.drops, "dropped_total", s.dropped.Load())
			s.lastDrop, s.drops = now, 0
		}
		return fmt.Errorf("append to the spool in %s (%d of %d bytes): %w", s.opts.Dir, s.bytes, s.opts.MaxBytes, ErrFull)
	}
	act := &s.segs[len(s.segs)-1]
	if act.size > 0 && act.size+int64(len(frame)) > s.opts.SegmentBytes {
		s.toSync = append(s.toSync, s.active)
		if err := s.startSegment(act.n + 1); err != nil {
			return err
		}
		act = &s.segs[len(s.segs)-1]
	}
	if _, err := s.active.Write(frame); err != nil {
		// A partial write is cut off at the next Open; the record is not counted as appended.
		return fmt.Errorf("append to spool segment %s: %w", s.path(act.n), err)
	}
	act.size += int64(len(frame))
	s.bytes += int64(len(frame))
	s.dirty = true
	s.appended.Add(1)
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return nil
}

// Stats returns the spool's figures.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	b := s.bytes
	s.mu.Unlock()
	return Stats{Bytes: b, Appended: s.appended.Load(), Sent: s.sent.Load(), Dropped: s.dropped.Load(), Corrupt: s.corrupt.Load()}
}

// Run fsyncs what is appended and sends it to the producer, in order, until ctx ends; it
// returns when both loops have stopped. What is not sent stays for the next Run (or the next
// process). Call it once.
func (s *Spool) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.syncLoop(ctx) }()
	err := s.sendLoop(ctx)
	wg.Wait()
	return err
}

// syncLoop fsyncs the appended records every SyncInterval, and once more when ctx ends.
func (s *Spool) syncLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.sync()
			return
		case <-t.C:
			s.sync()
		}
	}
}

// sync fsyncs the active segment when it was appended to, and the sealed segments waiting for
// it (then closes them). The fsync runs outside the lock, so appends do not wait for it.
func (s *Spool) sync() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	var f *os.File
	if s.dirty {
		f, s.dirty = s.active, false
	}
	sealed := s.toSync
	s.toSync = nil
	s.mu.Unlock()
	for _, sf := range sealed {
		if err := sf.Sync(); err != nil {
			s.opts.Logger.Warn("spool: fsync a segment", "segment", sf.Name(), "err", err)
		}
		sf.Close()
	}
	if f != nil {
		if err := f.Sync(); err != nil && !errors.Is(err, os.ErrClosed) {
			s.opts.Logger.Warn("spool: fsync the active segment", "segment", f.Name(), "err", err)
		}
	}
}

// sendLoop sends batches from the cursor, retrying a failed one with backoff.
func (s *Spool) sendLoop(ctx context.Context) error {
	rd := &reader{s: s}
	defer rd.close()
	backoff := s.opts.MinBackoff
	failing := false
	for {
		batch, next, err := rd.read(s.cursor, s.opts.BatchRecords)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			if next != s.cursor {
				if err := s.advance(next, 0); err != nil {
					return err
				}
				continue
			}
			select {
			case <-ctx.Done():
				return nil
			case <-s.notify:
			}
			continue
		}
		err = s.produce(ctx, batch)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if !failing {
				s.opts.Logger.Warn("spool: Kafka does not take the spooled records; keeping them on disk and retrying",
					"dir", s.opts.Dir, "records", len(batch), "err", err)
				failing = true
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, s.opts.MaxBackoff)
			continue
		}
		if failing {
			s.opts.Logger.Info("spool: Kafka takes the spooled records again", "dir", s.opts.Dir)
			failing = false
		}
		backoff = s.opts.MinBackoff
		if err := s.advance(next, len(batch)); err != nil {
			return err
		}
	}
}

// produce sends a batch and returns the first failure once the broker answered every record,
// or nil at once when ctx ends: a client does not give up a record in flight when its context
// ends, and the spool keeps the batch anyway (the client may still deliver it before it is
// closed: sent twice, never lost).
func (s *Spool) produce(ctx context.Context, batch []*kgo.Record) error {
	var mu sync.Mutex
	left, first := len(batch), error(nil)
	done := make(chan error, 1)
	for _, r := range batch {
		s.p.Produce(ctx, r, func(_ *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			if left--; left == 0 {
				done <- first
			}
		})
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// advance moves the cursor past n sent records to p, records it, and deletes the segments
// before p's.
func (s *Spool) advance(p position, n int) error {
	s.sent.Add(int64(n))
	s.cursor = p
	if err := s.writeCursor(p); err != nil {
		s.opts.Logger.Warn("spool: the cursor was not written; records may be sent twice after a restart", "err", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.segs) > 1 && s.segs[0].n < p.seg {
		if err := os.Remove(s.path(s.segs[0].n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("spool: remove sent segment %s: %w", s.path(s.segs[0].n), err)
		}
		s.bytes -= s.segs[0].size
		s.segs = s.segs[1:]
	}
	return nil
}

// limit returns segment n's readable size and whether a later segment follows it.
func (s *Spool) limit(n uint64) (size int64, later bool, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sg := range s.segs {
		if sg.n == n {
			return sg.size, i < len(s.segs)-1, true
		}
		if sg.n > n {
			return 0, true, false
		}
	}
	return 0, false, false
}

// nextSegment returns the first segment after n.
func (s *Spool) nextSegment(n uint64) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sg := range s.segs {
		if sg.n > n {
			return sg.n, true
		}
	}
	return 0, false
}

// Close fsyncs and closes the segments and releases the directory. Call it after Run has
// returned; it is idempotent.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	files := append(s.toSync, s.active)
	s.toSync, s.active = nil, nil
	s.mu.Unlock()
	var errs []error
	for _, f := range files {
		if f == nil {
			continue
		}
		if err := f.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("spool: fsync %s: %w", f.Name(), err))
		}
		f.Close()
	}
	s.closeFiles()
	return errors.Join(errs...)
}

// closeFiles releases the lock.
func (s *Spool) closeFiles() {
	if s.active != nil {
		s.active.Close()
	}
	if s.lock != nil {
		_ = syscall.Flock(int(s.lock.Fd()), syscall.LOCK_UN)
		s.lock.Close()
		s.lock = nil
	}
}

// reader reads records from the segments for the sender.
type reader struct {
	s   *Spool
	seg uint64
	f   *os.File
	off int64
	buf []byte
}

// read returns up to max records from p on, and the position after them. At the end of a
// segment that a later one follows it moves on to the later one (returning no records but a
// new position when the segment had none left); a damaged record skips the rest of its segment.
func (r *reader) read(p position, max int) ([]*kgo.Record, position, error) {
	var out []*kgo.Record
	for len(out) < max {
		size, later, ok := r.s.limit(p.seg)
		if !ok {
			next, ok := r.s.nextSegment(p.seg)
			if !ok {
				return out, p, nil
			}
			p = position{seg: next}
			continue
		}
		if p.off >= size {
			if !later {
				return out, p, nil
			}
			next, _ := r.s.nextSegment(p.seg)
			p = position{seg: next}
			continue
		}
		rec, n, err := r.record(p, size)
		if err != nil {
			if errors.Is(err, errDamaged) {
				r.s.corrupt.Add(1)
				r.s.opts.Logger.Warn("spool: a damaged record; skipping the rest of its segment", "segment", r.s.path(p.seg), "offset", p.off, "err", err)
				p.off = size
				continue
			}
			return out, p, err
		}
		out = append(out, rec)
		p.off += n
	}
	return out, p, nil
}

var errDamaged = errors.New("damaged record")

// record reads the record at p (within size bytes of its segment) and its length on disk.
func (r *reader) record(p position, size int64) (*kgo.Record, int64, error) {
	if r.f == nil || r.seg != p.seg {
		r.close()
		f, err := os.Open(r.s.path(p.seg))
		if err != nil {
			return nil, 0, fmt.Errorf("spool: open segment %s: %w", r.s.path(p.seg), err)
		}
		r.f, r.seg, r.off = f, p.seg, -1
	}
	if size-p.off < headerLen {
		return nil, 0, fmt.Errorf("%w: %d bytes left, less than a header", errDamaged, size-p.off)
	}
	var hdr [headerLen]byte
	if _, err := r.f.ReadAt(hdr[:], p.off); err != nil {
		return nil, 0, fmt.Errorf("spool: read %s at %d: %w", r.s.path(p.seg), p.off, err)
	}
	n := int64(be32(hdr[:4]))
	if n > maxRecord || p.off+headerLen+n > size {
		return nil, 0, fmt.Errorf("%w: length %d", errDamaged, n)
	}
	if int64(cap(r.buf)) < n {
		r.buf = make([]byte, n)
	}
	buf := r.buf[:n]
	if _, err := r.f.ReadAt(buf, p.off+headerLen); err != nil && !(errors.Is(err, io.EOF) && int64(len(buf)) == n) {
		return nil, 0, fmt.Errorf("spool: read %s at %d: %w", r.s.path(p.seg), p.off, err)
	}
	if crc32.Checksum(buf, castagnoli) != be32(hdr[4:]) {
		return nil, 0, fmt.Errorf("%w: checksum", errDamaged)
	}
	rec, err := decode(buf)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errDamaged, err)
	}
	return rec, headerLen + n, nil
}

func (r *reader) close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
}

// validPrefix returns the length of the whole, undamaged records at the start of a segment.
func validPrefix(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("spool: read %s: %w", path, err)
	}
	var off int64
	for int64(len(b))-off >= headerLen {
		n := int64(be32(b[off : off+4]))
		if n > maxRecord || off+headerLen+n > int64(len(b)) {
			break
		}
		payload := b[off+headerLen : off+headerLen+n]
		if crc32.Checksum(payload, castagnoli) != be32(b[off+4:off+8]) {
			break
		}
		if _, err := decode(payload); err != nil {
			break
		}
		off += headerLen + n
	}
	return off, nil
}
