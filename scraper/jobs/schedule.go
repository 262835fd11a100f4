package jobs

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Schedule is the recurring scrape of tracked keywords: each keyword gets one slot every Every,
// shifted by an offset in [0, Jitter) drawn from the keyword itself, so keywords spread over the
// period and every scheduler (on any machine, after any restart) computes the same slots and the
// same job ids.
type Schedule struct {
	// Every is the period of a keyword's scrape (positive).
	Every time.Duration
	// Jitter bounds the keyword's offset within the period (0: none; capped at Every).
	Jitter time.Duration
}

// Validate refuses a period that is not positive and a negative jitter.
func (s Schedule) Validate() error {
	if s.Every <= 0 {
		return fmt.Errorf("schedule: every %v: want a positive period", s.Every)
	}
	if s.Jitter < 0 {
		return fmt.Errorf("schedule: jitter %v: want zero or a positive duration", s.Jitter)
	}
	return nil
}

// Offset is the keyword's fixed shift within the period, a hash of marketplace and keyword.
func (s Schedule) Offset(marketplace, keyword string) time.Duration {
	j := min(s.Jitter, s.Every)
	if j <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(marketplace + "\x00" + NormalizeKeyword(keyword)))
	return time.Duration(h.Sum64() % uint64(j))
}

// Slot returns the start of the keyword's slot that contains now: the latest instant
// k·Every + Offset (k an integer, counted from the Unix epoch) not after now.
func (s Schedule) Slot(marketplace, keyword string, now time.Time) time.Time {
	off := s.Offset(marketplace, keyword)
	n := now.UnixNano() - int64(off)
	k := n / int64(s.Every)
	if n < 0 && n%int64(s.Every) != 0 {
		k--
	}
	return time.Unix(0, k*int64(s.Every)+int64(off)).UTC()
}

// Next returns the start of the keyword's first slot after t.
func (s Schedule) Next(marketplace, keyword string, t time.Time) time.Time {
	return s.Slot(marketplace, keyword, t).Add(s.Every)
}

// scheduleNamespace is the UUIDv5 namespace of scheduled job ids.
var scheduleNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:marketinsights:scrape:schedule:v1"))

// ScheduledJobID is the id of a keyword's scheduled job in the slot starting at slot: the
// UUIDv5 of marketplace, normalised keyword, pages and slot, so two schedulers request the same
// job (the same record key) and the worker runs it once.
func ScheduledJobID(marketplace, keyword string, pages int, slot time.Time) string {
	return uuid.NewSHA1(scheduleNamespace, []byte(marketplace+"\x00"+NormalizeKeyword(keyword)+"\x00"+
		strconv.Itoa(pages)+"\x00"+strconv.FormatInt(slot.UnixNano(), 10))).String()
}

// eventNamespace is the UUIDv5 namespace of the events a job produces.
var eventNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:marketinsights:scrape:events:v1"))

// EventID is the deterministic id of an event a job produces: the UUIDv5 of the job id, the
// attempt, what kind of event it is and parts that tell it from its siblings (URL, ASIN, the
// content's hash...). A redelivered job that sees the same pages produces the same ids.
func EventID(jobID string, attempt int32, kind string, parts ...string) string {
	b := make([]byte, 0, 128)
	b = append(b, jobID...)
	b = binary.BigEndian.AppendUint32(append(b, 0), uint32(attempt))
	b = append(append(b, 0), kind...)
	for _, p := range parts {
		b = append(append(b, 0), p...)
	}
	return uuid.NewSHA1(eventNamespace, b).String()
}
