package products

import (
	"crypto/sha1"
	"encoding/hex"

	"github.com/google/uuid"
)

// changeNamespace is the UUIDv5 namespace of the change events' ids.
var changeNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("https://github.com/marketinsightspro/marketinsights/processors/products#ProductStateChanged"))

// ChangeEventID returns the event id of the ProductStateChanged caused by the observation with
// event id observationID: a UUIDv5 of it, so a replay emits the same ids.
func ChangeEventID(observationID string) string {
	// uuid.NewSHA1(changeNamespace, []byte(observationID)).String(), without its allocations.
	var buf [16 + 64]byte
	sum := sha1.Sum(append(append(buf[:0], changeNamespace[:]...), observationID...))
	sum[6] = sum[6]&0x0f | 0x50 // version 5
	sum[8] = sum[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	hex.Encode(s[0:8], sum[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], sum[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], sum[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], sum[8:10])
	s[23] = '-'
	hex.Encode(s[24:36], sum[10:16])
	return string(s[:])
}
