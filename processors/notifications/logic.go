package notifications

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

// Key prefixes of the notifier table and loop.
const (
	// PrefixASIN starts the key of an ASIN's followers: "asin:<ASIN>".
	PrefixASIN = "asin:"
	// PrefixKeyword starts the key of a keyword's followers: "keyword:<normalized keyword>".
	PrefixKeyword = "keyword:"
	// PrefixSubscription starts the key of a subscription's own entry: "subscription:<id>".
	PrefixSubscription = "subscription:"
)

// Namespaces of the name-based (version 5) UUIDs this package derives. They are part of the
// contract: NotificationID values computed elsewhere must use the same ones.
var (
	// NotificationNamespace is the namespace of notification ids.
	NotificationNamespace = uuid.MustParse("6f1d3c2a-8b4e-4f7a-9c51-2e0b7d9a4c13")
	// commandNamespace is the namespace of loop command and tombstone event ids.
	commandNamespace = uuid.MustParse("b52e9f04-1c7d-4a86-8e3b-97d0c6a1f258")
)

// NormalizeKeyword returns the form keywords are matched in: lower case, inner white space
// collapsed to one space, trimmed.
func NormalizeKeyword(k string) string {
	return strings.Join(strings.Fields(strings.ToLower(k)), " ")
}

// ASINKey returns the table key of an ASIN's followers.
func ASINKey(asin string) string { return PrefixASIN + strings.ToUpper(strings.TrimSpace(asin)) }

// KeywordKey returns the table key of a keyword's followers.
func KeywordKey(keyword string) string { return PrefixKeyword + NormalizeKeyword(keyword) }

// SubscriptionKey returns the table key of a subscription's own entry.
func SubscriptionKey(id string) string { return PrefixSubscription + id }

// IsTargetKey reports whether key is the key of a followed target (an ASIN or a keyword).
func IsTargetKey(key string) bool {
	return strings.HasPrefix(key, PrefixASIN) || strings.HasPrefix(key, PrefixKeyword)
}

// TargetKey returns the key of what s follows: its ASIN or its keyword, exactly one of which
// must be set.
func TargetKey(s *marketv1.Subscription) (string, error) {
	asin := strings.TrimSpace(s.GetAsin())
	kw := NormalizeKeyword(s.GetKeyword())
	switch {
	case asin != "" && kw != "":
		return "", fmt.Errorf("subscription %q follows both ASIN %q and keyword %q: %w", s.GetSubscriptionId(), asin, kw, ErrInvalidSubscription)
	case asin != "":
		return ASINKey(asin), nil
	case kw != "":
		return KeywordKey(kw), nil
	default:
		return "", fmt.Errorf("subscription %q follows neither an ASIN nor a keyword: %w", s.GetSubscriptionId(), ErrInvalidSubscription)
	}
}

// ValidateSubscription checks what the notifier relies on in an upserted subscription: an id,
// exactly one target, a known channel and, for webhooks, an absolute http(s) URL. Whether the
// URL's address is public is checked by the deliverer, which knows whether private ones are
// allowed.
func ValidateSubscription(s *marketv1.Subscription) error {
	if s == nil {
		return fmt.Errorf("subscription missing: %w", ErrInvalidSubscription)
	}
	if s.GetSubscriptionId() == "" {
		return fmt.Errorf("subscription_id missing: %w", ErrInvalidSubscription)
	}
	if _, err := TargetKey(s); err != nil {
		return err
	}
	switch s.GetChannel() {
	case marketv1.Channel_CHANNEL_IN_APP:
	case marketv1.Channel_CHANNEL_WEBHOOK:
		if _, err := parseWebhookURL(s.GetWebhookUrl()); err != nil {
			return fmt.Errorf("subscription %q: %w: %w", s.GetSubscriptionId(), ErrInvalidSubscription, err)
		}
	default:
		return fmt.Errorf("subscription %q: channel %v: %w", s.GetSubscriptionId(), s.GetChannel(), ErrInvalidSubscription)
	}
	return nil
}

// parseWebhookURL parses an absolute http or https URL.
func parseWebhookURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("webhook_url missing: %w", ErrInvalidWebhookURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidWebhookURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q: scheme must be http or https: %w", raw, ErrInvalidWebhookURL)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("%q: no host: %w", raw, ErrInvalidWebhookURL)
	}
	return u, nil
}

// ValidateChange checks a subscription change read from the subscriptions topic under key and
// fills the subscription id from the key when the value lacks it.
func ValidateChange(ch *marketv1.SubscriptionChanged, key string) error {
	if err := marketv1.ValidateEnvelope(ch.GetEnvelope()); err != nil {
		return fmt.Errorf("subscription change: %w: %w", ErrInvalidSubscription, err)
	}
	if ch.Subscription == nil {
		ch.Subscription = &marketv1.Subscription{}
	}
	if ch.Subscription.SubscriptionId == "" {
		ch.Subscription.SubscriptionId = key
	}
	switch ch.GetAction() {
	case marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_UPSERTED:
		return ValidateSubscription(ch.Subscription)
	case marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED:
		if ch.Subscription.SubscriptionId == "" {
			return fmt.Errorf("deletion without subscription id: %w", ErrInvalidSubscription)
		}
		return nil
	default:
		return fmt.Errorf("subscription %q: action %v: %w", ch.Subscription.SubscriptionId, ch.GetAction(), ErrInvalidSubscription)
	}
}

// TombstoneChange is the deletion a Kafka tombstone (a nil value) of the subscriptions topic
// stands for: subscription key deleted at the record's timestamp.
func TombstoneChange(key string, ts time.Time, producer string) *marketv1.SubscriptionChanged {
	id := uuid.NewSHA1(commandNamespace, fmt.Appendf(nil, "tombstone\x00%s\x00%d", key, ts.UnixNano()))
	return &marketv1.SubscriptionChanged{
		Envelope: &marketv1.Envelope{EventId: id.String(), EventTime: timestamppb.New(ts), Producer: producer,
			SchemaVersion: marketv1.SchemaVersion, CorrelationId: key},
		Action:       marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED,
		Subscription: &marketv1.Subscription{SubscriptionId: key},
	}
}

// ValidateAnomaly checks what the notifier relies on in an anomaly: an envelope, an id and an
// ASIN or a keyword to route it by.
func ValidateAnomaly(a *marketv1.AnomalyDetected) error {
	if err := marketv1.ValidateEnvelope(a.GetEnvelope()); err != nil {
		return fmt.Errorf("anomaly: %w: %w", ErrInvalidCause, err)
	}
	if a.GetAnomalyId() == "" {
		return fmt.Errorf("anomaly_id missing: %w", ErrInvalidCause)
	}
	if len(AnomalyTargets(a)) == 0 {
		return fmt.Errorf("anomaly %q concerns neither an ASIN nor a keyword: %w", a.GetAnomalyId(), ErrInvalidCause)
	}
	return nil
}

// AnomalyTargets returns the keys an anomaly is matched at: its ASIN's and its keyword's.
func AnomalyTargets(a *marketv1.AnomalyDetected) []string {
	var keys []string
	if strings.TrimSpace(a.GetAsin()) != "" {
		keys = append(keys, ASINKey(a.GetAsin()))
	}
	if NormalizeKeyword(a.GetKeyword()) != "" {
		keys = append(keys, KeywordKey(a.GetKeyword()))
	}
	return keys
}

// ValidateAnalysis checks a completed analysis: an envelope, an analysis id and a keyword.
func ValidateAnalysis(ev *marketv1.AnalysisEvent) error {
	if err := marketv1.ValidateEnvelope(ev.GetEnvelope()); err != nil {
		return fmt.Errorf("analysis event: %w: %w", ErrInvalidCause, err)
	}
	if ev.GetAnalysisId() == "" {
		return fmt.Errorf("analysis_id missing: %w", ErrInvalidCause)
	}
	if NormalizeKeyword(ev.GetCompleted().GetKeyword()) == "" {
		return fmt.Errorf("analysis %q completed without a keyword: %w", ev.GetAnalysisId(), ErrInvalidCause)
	}
	return nil
}

// IsStale reports whether an event is older than maxAge at now (never when maxAge <= 0), so
// that replaying old history does not notify anybody.
func IsStale(env *marketv1.Envelope, now time.Time, maxAge time.Duration) bool {
	return maxAge > 0 && env.GetEventTime().AsTime().Before(now.Add(-maxAge))
}

// AnomalyNotificationID is the notification id of subscription subID for anomaly anomalyID:
// the version 5 UUID in NotificationNamespace of "anomaly" NUL subID NUL anomalyID.
func AnomalyNotificationID(subID, anomalyID string) string {
	return notificationID("anomaly", subID, anomalyID)
}

// AnalysisNotificationID is the notification id of subscription subID for analysis analysisID:
// the version 5 UUID in NotificationNamespace of "analysis" NUL subID NUL analysisID.
func AnalysisNotificationID(subID, analysisID string) string {
	return notificationID("analysis", subID, analysisID)
}

func notificationID(kind, subID, causeID string) string {
	// uuid.NewSHA1, without its allocations: SHA-1 of namespace and name, version 5, RFC 4122 variant.
	var buf [256]byte
	b := append(buf[:0], NotificationNamespace[:]...)
	b = append(b, kind...)
	b = append(b, 0)
	b = append(b, subID...)
	b = append(b, 0)
	b = append(b, causeID...)
	sum := sha1.Sum(b)
	var u uuid.UUID
	copy(u[:], sum[:16])
	u[6] = (u[6] & 0x0f) | 0x50
	u[8] = (u[8] & 0x3f) | 0x80
	return u.String()
}

// commandEnvelope is the envelope of a loop command sent to key because of the event with
// envelope cause: its event id derives from the cause's and the key, so a redelivered cause
// produces the same command.
func commandEnvelope(cause *marketv1.Envelope, key, producer string) *marketv1.Envelope {
	id := uuid.NewSHA1(commandNamespace, []byte(cause.GetEventId()+"\x00"+key))
	return &marketv1.Envelope{
		EventId:       id.String(),
		EventTime:     cause.GetEventTime(),
		Producer:      producer,
		SchemaVersion: marketv1.SchemaVersion,
		CorrelationId: cause.GetCorrelationId(),
		CausationId:   cause.GetEventId(),
	}
}

// versionOf returns the version of a subscription change.
func versionOf(ch *marketv1.SubscriptionChanged) *marketv1.SubscriptionVersion {
	return &marketv1.SubscriptionVersion{
		SubscriptionId: ch.GetSubscription().GetSubscriptionId(),
		EventTime:      ch.GetEnvelope().GetEventTime(),
		EventId:        ch.GetEnvelope().GetEventId(),
		Deleted:        ch.GetAction() == marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED,
	}
}

// CompareVersions orders two versions by event time, then event id (-1, 0, +1). A nil version
// is older than any other.
func CompareVersions(a, b *marketv1.SubscriptionVersion) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	at, bt := a.GetEventTime(), b.GetEventTime()
	if c := cmpInt(at.GetSeconds(), bt.GetSeconds()); c != 0 {
		return c
	}
	if c := cmpInt(int64(at.GetNanos()), int64(bt.GetNanos())); c != 0 {
		return c
	}
	return strings.Compare(a.GetEventId(), b.GetEventId())
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Routed is a subscription change routed to the key of a target.
type Routed struct {
	// Key is the target key ("asin:<ASIN>" or "keyword:<keyword>").
	Key string
	// Change is what to apply there: the upsert, or a deletion carrying only the id.
	Change *marketv1.SubscriptionChanged
}

// Route applies a validated subscription change at the subscription's own entry (key
// "subscription:<id>") and returns the entry's new state and the changes to apply at targets:
// an upsert at the target the subscription follows now and a deletion at the one it stopped
// following. A change older than the entry's (event time, then event id) changes nothing; the
// entry's own change again (a redelivery) routes the same changes again, which targets ignore
// when already applied. st is not modified.
func Route(st *marketv1.NotifierState, ch *marketv1.SubscriptionChanged) (*marketv1.NotifierState, []Routed, error) {
	v := versionOf(ch)
	var cur *marketv1.SubscriptionVersion
	if len(st.GetVersions()) > 0 {
		cur = st.GetVersions()[0]
	}
	switch c := CompareVersions(v, cur); {
	case cur != nil && c < 0:
		return st, nil, nil
	case cur != nil && c == 0:
		return st, routesOf(st, ch.GetEnvelope()), nil
	}
	newTarget := ""
	if !v.Deleted {
		t, err := TargetKey(ch.GetSubscription())
		if err != nil {
			return st, nil, err
		}
		newTarget = t
	}
	oldTarget := ""
	if subs := st.GetSubscriptions(); len(subs) > 0 {
		if t, err := TargetKey(subs[0]); err == nil {
			oldTarget = t
		}
	}
	next := &marketv1.NotifierState{Versions: []*marketv1.SubscriptionVersion{v}}
	if !v.Deleted {
		next.Subscriptions = []*marketv1.Subscription{ch.GetSubscription()}
	}
	if oldTarget != "" && oldTarget != newTarget {
		next.PreviousTarget = oldTarget
	}
	return next, routesOf(next, ch.GetEnvelope()), nil
}

// routesOf returns the changes a subscription entry's last change routes to targets.
func routesOf(st *marketv1.NotifierState, env *marketv1.Envelope) []Routed {
	var out []Routed
	v := st.GetVersions()[0]
	if st.GetPreviousTarget() != "" {
		out = append(out, Routed{Key: st.GetPreviousTarget(), Change: &marketv1.SubscriptionChanged{
			Envelope:     env,
			Action:       marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED,
			Subscription: &marketv1.Subscription{SubscriptionId: v.GetSubscriptionId()},
		}})
	}
	if subs := st.GetSubscriptions(); len(subs) > 0 {
		if t, err := TargetKey(subs[0]); err == nil {
			out = append(out, Routed{Key: t, Change: &marketv1.SubscriptionChanged{
				Envelope:     env,
				Action:       marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_UPSERTED,
				Subscription: subs[0],
			}})
		}
	}
	return out
}

// ApplyAtTarget applies a routed subscription change at target key and returns the target's
// new state and whether it changed. An upsert adds or replaces the subscription unless the
// target holds a newer or the same version of it; a deletion removes it unless the target
// holds a newer version. Subscriptions stay sorted by id. st is not modified; the result may
// share unchanged messages with it.
func ApplyAtTarget(st *marketv1.NotifierState, key string, ch *marketv1.SubscriptionChanged, maxFollowers int) (*marketv1.NotifierState, bool, error) {
	v := versionOf(ch)
	subs, vers := followers(st)
	i, found := slices.BinarySearchFunc(subs, v.GetSubscriptionId(), func(s *marketv1.Subscription, id string) int {
		return strings.Compare(s.GetSubscriptionId(), id)
	})
	if v.Deleted {
		if !found || CompareVersions(v, vers[i]) < 0 {
			return st, false, nil
		}
		next := withFollowers(st, slices.Delete(slices.Clone(subs), i, i+1), slices.Delete(slices.Clone(vers), i, i+1))
		return next, true, nil
	}
	t, err := TargetKey(ch.GetSubscription())
	if err != nil {
		return st, false, err
	}
	if t != key {
		return st, false, fmt.Errorf("subscription %q follows %s, not %s: %w", v.GetSubscriptionId(), t, key, ErrMisrouted)
	}
	if found {
		if CompareVersions(v, vers[i]) <= 0 {
			return st, false, nil
		}
		ns, nv := slices.Clone(subs), slices.Clone(vers)
		ns[i], nv[i] = ch.GetSubscription(), v
		return withFollowers(st, ns, nv), true, nil
	}
	if maxFollowers > 0 && len(subs) >= maxFollowers {
		return st, false, fmt.Errorf("%s has %d subscriptions, subscription %q refused: %w", key, len(subs), v.GetSubscriptionId(), ErrTooManyFollowers)
	}
	ns := slices.Insert(slices.Clone(subs), i, ch.GetSubscription())
	nv := slices.Insert(slices.Clone(vers), i, v)
	return withFollowers(st, ns, nv), true, nil
}

// followers returns a target's subscriptions and their versions, pairing them by id when a
// state's lists disagree (a version missing counts as the oldest).
func followers(st *marketv1.NotifierState) ([]*marketv1.Subscription, []*marketv1.SubscriptionVersion) {
	subs, vers := st.GetSubscriptions(), st.GetVersions()
	ok := len(subs) == len(vers) && slices.IsSortedFunc(subs, func(a, b *marketv1.Subscription) int {
		return strings.Compare(a.GetSubscriptionId(), b.GetSubscriptionId())
	})
	for i := 0; ok && i < len(subs); i++ {
		ok = subs[i].GetSubscriptionId() == vers[i].GetSubscriptionId()
	}
	if ok {
		return subs, vers
	}
	byID := make(map[string]*marketv1.SubscriptionVersion, len(vers))
	for _, v := range vers {
		byID[v.GetSubscriptionId()] = v
	}
	subs = slices.SortedFunc(slices.Values(subs), func(a, b *marketv1.Subscription) int {
		return strings.Compare(a.GetSubscriptionId(), b.GetSubscriptionId())
	})
	subs = slices.CompactFunc(subs, func(a, b *marketv1.Subscription) bool { return a.GetSubscriptionId() == b.GetSubscriptionId() })
	out := make([]*marketv1.SubscriptionVersion, len(subs))
	for i, s := range subs {
		if v := byID[s.GetSubscriptionId()]; v != nil {
			out[i] = v
		} else {
			out[i] = &marketv1.SubscriptionVersion{SubscriptionId: s.GetSubscriptionId()}
		}
	}
	return subs, out
}

func withFollowers(st *marketv1.NotifierState, subs []*marketv1.Subscription, vers []*marketv1.SubscriptionVersion) *marketv1.NotifierState {
	return &marketv1.NotifierState{Subscriptions: subs, Versions: vers, RequestedIds: st.GetRequestedIds(),
		RequestedHashes: st.GetRequestedHashes(), PreviousTarget: st.GetPreviousTarget()}
}

// Matches reports whether an anomaly is one subscription s asked for: its severity is at
// least s's minimum and its kind is among s's kinds (any kind when s lists none).
func Matches(s *marketv1.Subscription, a *marketv1.AnomalyDetected) bool {
	if a.GetSeverity() < s.GetMinSeverity() {
		return false
	}
	return len(s.GetKinds()) == 0 || slices.Contains(s.GetKinds(), a.GetKind())
}

// MatchOptions are what matching needs besides state and cause.
type MatchOptions struct {
	// Producer is written into the envelopes of the notifications.
	Producer string
	// MaxRequestedIDs bounds the notification ids a state remembers (oldest dropped first).
	MaxRequestedIDs int
}

// MatchAnomaly matches an anomaly against the subscriptions of a target and returns the
// target's new state and one NotificationRequested per matching subscription that was not
// notified of this anomaly yet (its id is in the state's requested ids). st is not modified.
func MatchAnomaly(st *marketv1.NotifierState, a *marketv1.AnomalyDetected, opt MatchOptions) (*marketv1.NotifierState, []*marketv1.NotificationRequested) {
	var subs []*marketv1.Subscription
	var ids []string
	for _, s := range st.GetSubscriptions() {
		if Matches(s, a) {
			subs = append(subs, s)
			ids = append(ids, AnomalyNotificationID(s.GetSubscriptionId(), a.GetAnomalyId()))
		}
	}
	var out []*marketv1.NotificationRequested
	for i, fresh := range unrequested(st, ids) {
		if fresh {
			out = append(out, anomalyNotification(ids[i], subs[i], a, opt.Producer))
		}
	}
	if len(out) == 0 {
		return st, nil
	}
	next := withFollowers(st, st.GetSubscriptions(), st.GetVersions())
	next.RequestedIds, next.RequestedHashes = nil, appendBounded(st, out, opt.MaxRequestedIDs)
	return next, out
}

// MatchAnalysis matches a completed analysis against the subscriptions of its keyword (subsState,
// the notifier's state at "keyword:<keyword>", nil when nobody follows it) and returns the
// analysis' new dedup state and one NotificationRequested per subscription with analyses set
// that was not notified of this analysis yet. dedup is not modified.
func MatchAnalysis(subsState, dedup *marketv1.NotifierState, ev *marketv1.AnalysisEvent, opt MatchOptions) (*marketv1.NotifierState, []*marketv1.NotificationRequested) {
	key := KeywordKey(ev.GetCompleted().GetKeyword())
	var subs []*marketv1.Subscription
	var ids []string
	for _, s := range subsState.GetSubscriptions() {
		if !s.GetAnalyses() {
			continue
		}
		if t, err := TargetKey(s); err != nil || t != key {
			continue
		}
		subs = append(subs, s)
		ids = append(ids, AnalysisNotificationID(s.GetSubscriptionId(), ev.GetAnalysisId()))
	}
	var out []*marketv1.NotificationRequested
	for i, fresh := range unrequested(dedup, ids) {
		if fresh {
			out = append(out, analysisNotification(ids[i], subs[i], ev, opt.Producer))
		}
	}
	if len(out) == 0 {
		return dedup, nil
	}
	return &marketv1.NotifierState{RequestedHashes: appendBounded(dedup, out, opt.MaxRequestedIDs)}, out
}

// A state remembers the notification ids it requested as their 64-bit xxhash, 8 bytes each
// (requested_hashes): a fifth of the bytes of the ids, read without a string per id. Two ids of
// one state's last MaxRequestedIDs sharing a hash, which would suppress the later notification,
// has a probability of about n²/2⁶⁵ (below 10⁻¹³ for a thousand ids). Ids in requested_ids,
// written by earlier versions, count too, and move into the hashes when the state is next written.

// requestedHash is the hash a state remembers a notification id by.
func requestedHash(id string) uint64 { return xxhash.Sum64String(id) }

// unrequested reports for each of ids whether st has not requested it: by a scan per id for a
// few ids, else by one scan of the remembered hashes against a set of ids.
func unrequested(st *marketv1.NotifierState, ids []string) []bool {
	fresh := make([]bool, len(ids))
	hashes, old := st.GetRequestedHashes(), st.GetRequestedIds()
	if len(ids) <= 4 {
		for i, id := range ids {
			fresh[i] = !containsHash(hashes, requestedHash(id)) && !slices.Contains(old, id)
		}
		return fresh
	}
	index := make(map[uint64][]int, len(ids))
	for i, id := range ids {
		h := requestedHash(id)
		index[h] = append(index[h], i)
		fresh[i] = true
	}
	seen := func(h uint64) {
		for _, i := range index[h] {
			fresh[i] = false
		}
	}
	for k := 0; k+8 <= len(hashes); k += 8 {
		seen(binary.LittleEndian.Uint64(hashes[k:]))
	}
	for _, id := range old {
		seen(requestedHash(id))
	}
	return fresh
}

// containsHash reports whether packed 8-byte hashes hold h.
func containsHash(hashes []byte, h uint64) bool {
	for k := 0; k+8 <= len(hashes); k += 8 {
		if binary.LittleEndian.Uint64(hashes[k:]) == h {
			return true
		}
	}
	return false
}

// appendBounded returns the hashes st remembers (its old ids' first, as they are older)
// followed by those of the ids of out, keeping the last max (all when max <= 0).
func appendBounded(st *marketv1.NotifierState, out []*marketv1.NotificationRequested, max int) []byte {
	old, hashes := st.GetRequestedIds(), st.GetRequestedHashes()
	all := make([]byte, 0, 8*(len(old)+len(out))+len(hashes))
	for _, id := range old {
		all = binary.LittleEndian.AppendUint64(all, requestedHash(id))
	}
	all = append(all, hashes[:len(hashes)/8*8]...)
	for _, n := range out {
		all = binary.LittleEndian.AppendUint64(all, requestedHash(n.GetNotificationId()))
	}
	if max > 0 && len(all) > 8*max {
		all = slices.Clone(all[len(all)-8*max:])
	}
	return all
}

func anomalyNotification(id string, s *marketv1.Subscription, a *marketv1.AnomalyDetected, producer string) *marketv1.NotificationRequested {
	env := a.GetEnvelope()
	corr := env.GetCorrelationId()
	if corr == "" {
		corr = a.GetAnomalyId()
	}
	return &marketv1.NotificationRequested{
		Envelope: &marketv1.Envelope{EventId: id, EventTime: env.GetEventTime(), Producer: producer,
			SchemaVersion: marketv1.SchemaVersion, CorrelationId: corr, CausationId: env.GetEventId()},
		NotificationId: id,
		SubscriptionId: s.GetSubscriptionId(),
		UserId:         s.GetUserId(),
		Channel:        s.GetChannel(),
		WebhookUrl:     s.GetWebhookUrl(),
		Title:          AnomalyTitle(a),
		Body:           AnomalyBody(a),
		Severity:       a.GetSeverity(),
		AnomalyId:      a.GetAnomalyId(),
		Keyword:        a.GetKeyword(),
		Asin:           a.GetAsin(),
		Anomaly:        a,
	}
}

func analysisNotification(id string, s *marketv1.Subscription, ev *marketv1.AnalysisEvent, producer string) *marketv1.NotificationRequested {
	env := ev.GetEnvelope()
	c := ev.GetCompleted()
	return &marketv1.NotificationRequested{
		Envelope: &marketv1.Envelope{EventId: id, EventTime: env.GetEventTime(), Producer: producer,
			SchemaVersion: marketv1.SchemaVersion, CorrelationId: ev.GetAnalysisId(), CausationId: env.GetEventId()},
		NotificationId: id,
		SubscriptionId: s.GetSubscriptionId(),
		UserId:         s.GetUserId(),
		Channel:        s.GetChannel(),
		WebhookUrl:     s.GetWebhookUrl(),
		Title:          AnalysisTitle(c),
		Body:           AnalysisBody(c),
		Severity:       marketv1.Severity_SEVERITY_INFO,
		AnalysisId:     ev.GetAnalysisId(),
		Keyword:        c.GetKeyword(),
		Analysis:       c,
	}
}
