package notifications

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Webhook request headers.
//
// The signature scheme: the deliverer sets X-MIP-Timestamp to the attempt's time in Unix
// seconds (decimal ASCII) and X-MIP-Signature to "sha256=" followed by the lower-case hex
// HMAC-SHA256, keyed with the signing secret, of the bytes
//
//	<X-MIP-Timestamp value> "." <request body>
//
// A receiver recomputes it over the raw body, compares in constant time, and rejects a
// timestamp more than a few minutes from its clock, so a captured request cannot be replayed
// later; it deduplicates on X-MIP-Notification-Id, which is the same on every attempt and
// every redelivery of one notification. [VerifySignature] does all of this. Each attempt is
// signed afresh (new timestamp), so a retry an hour later still verifies.
const (
	// HeaderSignature carries "sha256=<hex HMAC-SHA256>".
	HeaderSignature = "X-MIP-Signature"
	// HeaderTimestamp carries the signing time in Unix seconds.
	HeaderTimestamp = "X-MIP-Timestamp"
	// HeaderNotificationID carries the notification id, the receiver's idempotency key.
	HeaderNotificationID = "X-MIP-Notification-Id"
	// HeaderAttempt carries the attempt number, 1 for the first (not signed).
	HeaderAttempt = "X-MIP-Attempt"
	// signaturePrefix starts the signature header's value.
	signaturePrefix = "sha256="
)

// DefaultSignatureTolerance is how far a receiver should accept a timestamp from its clock.
const DefaultSignatureTolerance = 5 * time.Minute

// Sign returns the X-MIP-Signature value of body signed at unix time ts with secret.
func Sign(secret []byte, ts int64, body []byte) string {
	var tsb [20]byte
	mac := hmac.New(sha256.New, secret)
	mac.Write(strconv.AppendInt(tsb[:0], ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	var sum [sha256.Size]byte
	var out [len(signaturePrefix) + 2*sha256.Size]byte
	copy(out[:], signaturePrefix)
	hex.Encode(out[len(signaturePrefix):], mac.Sum(sum[:0]))
	return string(out[:])
}

// VerifySignature checks a webhook request as a receiver should: signature is the
// X-MIP-Signature header, timestamp the X-MIP-Timestamp header, body the raw request body. It
// returns ErrStaleTimestamp when the timestamp is more than tolerance away from now and
// ErrBadSignature when the signature does not match.
func VerifySignature(secret []byte, signature, timestamp string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", timestamp, ErrStaleTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("timestamp %d is %v from now: %w", ts, d.Round(time.Second), ErrStaleTimestamp)
	}
	if !hmac.Equal([]byte(strings.TrimSpace(signature)), []byte(Sign(secret, ts, body))) {
		return ErrBadSignature
	}
	return nil
}

// SubscriptionSecret derives the signing secret of one subscription from the master secret: the
// lower-case hex of HMAC-SHA256(master, "mip-webhook-secret" NUL subscriptionID), whose 64
// ASCII bytes are the key as they are. With per-subscription secrets
// (DeliveryConfig.PerSubscriptionSecrets) a subscriber who knows its own secret cannot forge
// another subscriber's notifications; the API shows each owner this value.
func SubscriptionSecret(master []byte, subscriptionID string) []byte {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte("mip-webhook-secret\x00"))
	mac.Write([]byte(subscriptionID))
	return []byte(hex.EncodeToString(mac.Sum(nil)))
}
