package notifications

import "errors"

// ErrInvalidSubscription is returned for a subscription change that cannot be applied (no id,
// no target or two targets, a webhook without a URL, an unknown action).
var ErrInvalidSubscription = errors.New("invalid subscription")

// ErrInvalidCause is returned for an anomaly or an analysis that cannot cause a notification
// (no id, no envelope, nothing it concerns).
var ErrInvalidCause = errors.New("invalid notification cause")

// ErrMisrouted is returned when a loop command reaches a key it does not belong to.
var ErrMisrouted = errors.New("command reached the wrong key")

// ErrTooManyFollowers is returned when a target already has the most subscriptions a table
// value may hold.
var ErrTooManyFollowers = errors.New("target has too many subscriptions")

// ErrForbiddenAddress is returned for a webhook URL that points at a loopback, private,
// link-local or otherwise non-public address while such addresses are not allowed.
var ErrForbiddenAddress = errors.New("webhook address is not public")

// ErrInvalidWebhookURL is returned for a webhook URL that is not an absolute http(s) URL.
var ErrInvalidWebhookURL = errors.New("invalid webhook URL")

// ErrBadSignature is returned by VerifySignature when the signature does not match.
var ErrBadSignature = errors.New("webhook signature does not match")

// ErrStaleTimestamp is returned by VerifySignature when the timestamp is outside the tolerance.
var ErrStaleTimestamp = errors.New("webhook timestamp outside the tolerance")
