package anomalies

import (
	"crypto/sha1"
	"encoding/binary"
	"time"

	"github.com/google/uuid"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// anomalyNamespace is the UUIDv5 namespace of anomaly ids.
var anomalyNamespace = uuid.NewSHA1(uuid.NameSpaceURL, []byte("urn:marketinsights:anomaly-detector:anomaly"))

// anomalyID is the deterministic id of the anomaly of kind that the change with dedup key dedup
// revealed on product asin: a UUIDv5, the same on every redelivery and replay.
func anomalyID(asin string, kind marketv1.AnomalyKind, dedup string) uuid.UUID {
	return uuid.NewSHA1(anomalyNamespace, []byte(asin+"\x00"+kind.String()+"\x00"+dedup))
}

// eventID is the deterministic envelope id of the event of anomaly id: a UUIDv7 (time-ordered by
// the anomaly's event time, as envelopes want) whose other bits come from the anomaly id.
func eventID(id uuid.UUID, eventTime time.Time) string {
	h := sha1.Sum(id[:])
	var u uuid.UUID
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], uint64(max(eventTime.UnixMilli(), 0)))
	copy(u[0:6], ts[2:8])
	copy(u[6:], h[:10])
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // RFC 4122 variant
	return u.String()
}
