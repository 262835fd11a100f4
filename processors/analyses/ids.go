package analyses

import (
	"strconv"

	"github.com/google/uuid"
)

// Namespaces of the name-based (version 5) UUIDs the saga derives its ids from.
var (
	nsJob    = uuid.MustParse("3c0f6d2e-71a4-4d55-9b0e-5a2f8c41d701")
	nsScrape = uuid.MustParse("3c0f6d2e-71a4-4d55-9b0e-5a2f8c41d702")
	nsEvent  = uuid.MustParse("3c0f6d2e-71a4-4d55-9b0e-5a2f8c41d703")
	nsRouted = uuid.MustParse("3c0f6d2e-71a4-4d55-9b0e-5a2f8c41d704")
	nsTick   = uuid.MustParse("3c0f6d2e-71a4-4d55-9b0e-5a2f8c41d705")
)

// JobID returns the id of the scrape job of an analysis' attempt: a UUIDv5 of both, so a
// redelivered request or a replay asks for the same job.
func JobID(analysisID string, attempt int32) string {
	return nameID(nsJob, analysisID, strconv.Itoa(int(attempt)))
}

// nameID returns the version 5 UUID of the parts joined by NUL in namespace ns.
func nameID(ns uuid.UUID, parts ...string) string {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return uuid.NewSHA1(ns, b).String()
}
