package notifications

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	marketv1 "github.com/marketinsightspro/marketinsights/schemas/market/v1"
)

func TestTargetKey(t *testing.T) {
	tests := []struct {
		name    string
		sub     *marketv1.Subscription
		want    string
		wantErr error
	}{
		{"asin", sub("s", "b0abc12345"), "asin:B0ABC12345", nil},
		{"asin trimmed", sub("s", "  B0ABC12345 "), "asin:B0ABC12345", nil},
		{"keyword normalized", sub("s", "", onKeyword("  Portable   CHARGER ")), "keyword:portable charger", nil},
		{"both", &marketv1.Subscription{SubscriptionId: "s", Asin: "B0", Keyword: "k"}, "", ErrInvalidSubscription},
		{"neither", &marketv1.Subscription{SubscriptionId: "s", Keyword: "   "}, "", ErrInvalidSubscription},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TargetKey(tt.sub)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("TargetKey = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestValidateChange(t *testing.T) {
	noEnv := upsert(1, sub("s", "B0"))
	noEnv.Envelope = nil
	noID := upsert(1, sub("", "B0"))
	tests := []struct {
		name    string
		ch      *marketv1.SubscriptionChanged
		key     string
		wantErr error
		wantID  string
	}{
		{"in-app upsert", upsert(1, sub("s", "B0")), "s", nil, "s"},
		{"webhook upsert", upsert(1, sub("s", "B0", webhook("https://hooks.example.com/x"))), "s", nil, "s"},
		{"id from key", noID, "from-key", nil, "from-key"},
		{"deletion", deletion(1, "s"), "s", nil, "s"},
		{"webhook without url", upsert(1, sub("s", "B0", webhook(""))), "s", ErrInvalidSubscription, "s"},
		{"webhook ftp url", upsert(1, sub("s", "B0", webhook("ftp://example.com/"))), "s", ErrInvalidWebhookURL, "s"},
		{"webhook relative url", upsert(1, sub("s", "B0", webhook("/hook"))), "s", ErrInvalidWebhookURL, "s"},
		{"no channel", upsert(1, &marketv1.Subscription{SubscriptionId: "s", Asin: "B0"}), "s", ErrInvalidSubscription, "s"},
		{"two targets", upsert(1, &marketv1.Subscription{SubscriptionId: "s", Asin: "B0", Keyword: "k", Channel: marketv1.Channel_CHANNEL_IN_APP}), "s", ErrInvalidSubscription, "s"},
		{"no action", &marketv1.SubscriptionChanged{Envelope: envAt(1, "x"), Subscription: sub("s", "B0")}, "s", ErrInvalidSubscription, "s"},
		{"no envelope", noEnv, "s", ErrInvalidSubscription, "s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateChange(tt.ch, tt.key)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ValidateChange = %v, want %v", err, tt.wantErr)
			}
			if got := tt.ch.GetSubscription().GetSubscriptionId(); got != tt.wantID {
				t.Fatalf("subscription id = %q, want %q", got, tt.wantID)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	tests := []struct {
		name string
		sub  *marketv1.Subscription
		a    *marketv1.AnomalyDetected
		want bool
	}{
		{"no filter", sub("s", "B0"), anomaly(0, "a", "B0", sevInfo, kindDrop), true},
		{"severity below minimum", sub("s", "B0", minSeverity(sevWarning)), anomaly(0, "a", "B0", sevInfo, kindDrop), false},
		{"severity at minimum", sub("s", "B0", minSeverity(sevWarning)), anomaly(0, "a", "B0", sevWarning, kindDrop), true},
		{"severity above minimum", sub("s", "B0", minSeverity(sevWarning)), anomaly(0, "a", "B0", sevCritical, kindDrop), true},
		{"kind listed", sub("s", "B0", kinds(kindDrop, kindStock)), anomaly(0, "a", "B0", sevInfo, kindStock), true},
		{"kind not listed", sub("s", "B0", kinds(kindDrop)), anomaly(0, "a", "B0", sevCritical, kindSpike), false},
		{"both filters", sub("s", "B0", kinds(kindDrop), minSeverity(sevCritical)), anomaly(0, "a", "B0", sevWarning, kindDrop), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Matches(tt.sub, tt.a); got != tt.want {
				t.Fatalf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNotificationIDs(t *testing.T) {
	a := AnomalyNotificationID("sub-1", "anom-1")
	if a != AnomalyNotificationID("sub-1", "anom-1") {
		t.Fatal("anomaly notification id is not deterministic")
	}
	u, err := uuid.Parse(a)
	if err != nil || u.Version() != 5 {
		t.Fatalf("notification id %q: want a version 5 UUID (%v)", a, err)
	}
	distinct := []string{
		a,
		AnomalyNotificationID("sub-2", "anom-1"),
		AnomalyNotificationID("sub-1", "anom-2"),
		AnalysisNotificationID("sub-1", "anom-1"),
		AnomalyNotificationID("sub-1a", "nom-1"), // the separator keeps "sub-1"+"anom-1" apart from this
		AnomalyNotificationID("sub-1\x00anom", "1"),
	}
	slices.Sort(distinct)
	if len(slices.Compact(distinct)) != 6 {
		t.Fatalf("notification ids collide: %v", distinct)
	}
	// Pinned: other components compute the same ids.
	if got, want := AnomalyNotificationID("sub-1", "anom-1"), uuid.NewSHA1(NotificationNamespace, []byte("anomaly\x00sub-1\x00anom-1")).String(); got != want {
		t.Fatalf("AnomalyNotificationID = %s, want %s", got, want)
	}
}

func TestRoute(t *testing.T) {
	a, b := sub("s", "A"), sub("s", "B")
	type step struct {
		ch        *marketv1.SubscriptionChanged
		wantRoute []string // "upsert asin:A", "delete asin:B"
	}
	tests := []struct {
		name      string
		steps     []step
		wantSub   string // target of the entry's subscription, "" when none
		wantPrev  string
		wantDelAt bool // the entry's version is a deletion
	}{
		{"create", []step{{upsert(1, a), []string{"upsert asin:A"}}}, "asin:A", "", false},
		{"update in place", []step{
			{upsert(1, a), []string{"upsert asin:A"}},
			{upsert(2, sub("s", "A", minSeverity(sevCritical))), []string{"upsert asin:A"}},
		}, "asin:A", "", false},
		{"move", []step{
			{upsert(1, a), []string{"upsert asin:A"}},
			{upsert(2, b), []string{"delete asin:A", "upsert asin:B"}},
		}, "asin:B", "asin:A", false},
		{"move to keyword", []step{
			{upsert(1, a), []string{"upsert asin:A"}},
			{upsert(2, sub("s", "", onKeyword("USB C"))), []string{"delete asin:A", "upsert keyword:usb c"}},
		}, "keyword:usb c", "asin:A", false},
		{"delete", []step{
			{upsert(1, a), []string{"upsert asin:A"}},
			{deletion(2, "s"), []string{"delete asin:A"}},
		}, "", "asin:A", true},
		{"delete unknown", []step{{deletion(2, "s"), nil}}, "", "", true},
		{"older change ignored", []step{
			{upsert(2, b), []string{"upsert asin:B"}},
			{upsert(1, a), nil},
		}, "asin:B", "", false},
		{"older upsert after delete ignored", []step{
			{deletion(3, "s"), nil},
			{upsert(1, a), nil},
		}, "", "", true},
		{"newer upsert after delete", []step{
			{upsert(1, a), []string{"upsert asin:A"}},
			{deletion(2, "s"), []string{"delete asin:A"}},
			{upsert(3, b), []string{"upsert asin:B"}},
		}, "asin:B", "", false},
		{"redelivery routes again", []step{
			{upsert(1, a), []string{"upsert asin:A"}},
			{upsert(2, b), []string{"delete asin:A", "upsert asin:B"}},
			{upsert(2, b), []string{"delete asin:A", "upsert asin:B"}},
		}, "asin:B", "asin:A", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st *marketv1.NotifierState
			for i, s := range tt.steps {
				before := proto.Clone(st)
				next, routed, err := Route(st, s.ch)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				if st != nil && !proto.Equal(before, st) {
					t.Fatalf("step %d: Route modified its argument", i)
				}
				var got []string
				for _, r := range routed {
					verb := "upsert"
					if r.Change.GetAction() == marketv1.SubscriptionAction_SUBSCRIPTION_ACTION_DELETED {
						verb = "delete"
					}
					got = append(got, verb+" "+r.Key)
					if !proto.Equal(r.Change.GetEnvelope(), s.ch.GetEnvelope()) {
						t.Fatalf("step %d: routed change has envelope %v, want the change's", i, r.Change.GetEnvelope())
					}
				}
				if !slices.Equal(got, s.wantRoute) {
					t.Fatalf("step %d: routed %v, want %v", i, got, s.wantRoute)
				}
				st = next
			}
			gotSub := ""
			if len(st.GetSubscriptions()) > 0 {
				gotSub, _ = TargetKey(st.GetSubscriptions()[0])
			}
			if gotSub != tt.wantSub || st.GetPreviousTarget() != tt.wantPrev || len(st.GetVersions()) != 1 || st.GetVersions()[0].GetDeleted() != tt.wantDelAt {
				t.Fatalf("entry = %v; want subscription at %q, previous %q, deleted %v", st, tt.wantSub, tt.wantPrev, tt.wantDelAt)
			}
		})
	}
}

func TestApplyAtTarget(t *testing.T) {
	ids := func(st *marketv1.NotifierState) string {
		var out []string
		for i, s := range st.GetSubscriptions() {
			out = append(out, fmt.Sprintf("%s@%d", s.GetSubscriptionId(), st.GetVersions()[i].GetEventTime().AsTime().Sub(t0)/time.Second))
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		name    string
		changes []*marketv1.SubscriptionChanged
		max     int
		want    string
		wantErr error
	}{
		{"add sorted", []*marketv1.SubscriptionChanged{upsert(1, sub("c", "A")), upsert(1, sub("a", "A")), upsert(1, sub("b", "A"))}, 0, "a@1,b@1,c@1", nil},
		{"replace with newer", []*marketv1.SubscriptionChanged{upsert(1, sub("a", "A")), upsert(2, sub("a", "A"))}, 0, "a@2", nil},
		{"older ignored", []*marketv1.SubscriptionChanged{upsert(2, sub("a", "A")), upsert(1, sub("a", "A"))}, 0, "a@2", nil},
		{"delete", []*marketv1.SubscriptionChanged{upsert(1, sub("a", "A")), upsert(1, sub("b", "A")), deletion(2, "a")}, 0, "b@1", nil},
		{"older delete ignored", []*marketv1.SubscriptionChanged{upsert(3, sub("a", "A")), deletion(2, "a")}, 0, "a@3", nil},
		{"delete absent", []*marketv1.SubscriptionChanged{deletion(2, "a")}, 0, "", nil},
		{"misrouted", []*marketv1.SubscriptionChanged{upsert(1, sub("a", "B"))}, 0, "", ErrMisrouted},
		{"too many", []*marketv1.SubscriptionChanged{upsert(1, sub("a", "A")), upsert(1, sub("b", "A")), upsert(1, sub("c", "A"))}, 2, "a@1,b@1", ErrTooManyFollowers},
		{"replace at the limit", []*marketv1.SubscriptionChanged{upsert(1, sub("a", "A")), upsert(1, sub("b", "A")), upsert(2, sub("b", "A"))}, 2, "a@1,b@2", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st *marketv1.NotifierState
			var err error
			for _, ch := range tt.changes {
				before := proto.Clone(st)
				var next *marketv1.NotifierState
				var changed bool
				next, changed, err = ApplyAtTarget(st, "asin:A", ch, tt.max)
				if st != nil && !proto.Equal(before, st) {
					t.Fatal("ApplyAtTarget modified its argument")
				}
				if changed != (next != st) {
					t.Fatalf("changed = %v but state identity changed = %v", changed, next != st)
				}
				st = next
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("last error = %v, want %v", err, tt.wantErr)
			}
			if got := ids(st); got != tt.want {
				t.Fatalf("followers = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestApplyAtTargetRepairsUnpairedState(t *testing.T) {
	// A state whose versions do not pair with its subscriptions (never written by this code, but
	// a table value is input too) is paired by id; a missing version counts as the oldest.
	st := &marketv1.NotifierState{Subscriptions: []*marketv1.Subscription{sub("b", "A"), sub("a", "A"), sub("b", "A")}}
	next, changed, err := ApplyAtTarget(st, "asin:A", upsert(1, sub("a", "A", minSeverity(sevCritical))), 0)
	if err != nil || !changed {
		t.Fatalf("ApplyAtTarget = %v, %v", changed, err)
	}
	if len(next.GetSubscriptions()) != 2 || len(next.GetVersions()) != 2 || next.GetSubscriptions()[0].GetMinSeverity() != sevCritical {
		t.Fatalf("repaired state = %v", next)
	}
}

func TestMatchAnomaly(t *testing.T) {
	followers := func(subs ...*marketv1.Subscription) *marketv1.NotifierState {
		var st *marketv1.NotifierState
		for _, s := range subs {
			st, _, _ = ApplyAtTarget(st, "asin:B0", upsert(0, s), 0)
		}
		return st
	}
	opt := MatchOptions{Producer: "notifier", MaxRequestedIDs: 100}
	tests := []struct {
		name      string
		st        *marketv1.NotifierState
		anomalies []*marketv1.AnomalyDetected
		want      []string // "subscription/anomaly" per notification, in order
	}{
		{"nobody follows", nil, []*marketv1.AnomalyDetected{anomaly(1, "x", "B0", sevCritical, kindDrop)}, nil},
		{"one follower", followers(sub("s1", "B0")), []*marketv1.AnomalyDetected{anomaly(1, "x", "B0", sevInfo, kindDrop)}, []string{"s1/x"}},
		{"same anomaly twice", followers(sub("s1", "B0")), []*marketv1.AnomalyDetected{
			anomaly(1, "x", "B0", sevInfo, kindDrop), anomaly(1, "x", "B0", sevInfo, kindDrop)}, []string{"s1/x"}},
		{"two anomalies", followers(sub("s1", "B0")), []*marketv1.AnomalyDetected{
			anomaly(1, "x", "B0", sevInfo, kindDrop), anomaly(2, "y", "B0", sevInfo, kindDrop)}, []string{"s1/x", "s1/y"}},
		{"severity filter", followers(sub("s1", "B0", minSeverity(sevWarning)), sub("s2", "B0")), []*marketv1.AnomalyDetected{
			anomaly(1, "x", "B0", sevInfo, kindDrop), anomaly(2, "y", "B0", sevCritical, kindDrop)}, []string{"s2/x", "s1/y", "s2/y"}},
		{"kind filter", followers(sub("s1", "B0", kinds(kindStock))), []*marketv1.AnomalyDetected{
			anomaly(1, "x", "B0", sevCritical, kindDrop), anomaly(2, "y", "B0", sevInfo, kindStock)}, []string{"s1/y"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.st
			var got []string
			for _, a := range tt.anomalies {
				before := proto.Clone(st)
				next, out := MatchAnomaly(st, a, opt)
				if st != nil && !proto.Equal(before, st) {
					t.Fatal("MatchAnomaly modified its argument")
				}
				for _, n := range out {
					got = append(got, n.GetSubscriptionId()+"/"+n.GetAnomalyId())
					checkAnomalyNotification(t, n, a)
				}
				st = next
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("notifications %v, want %v", got, tt.want)
			}
		})
	}
}

func checkAnomalyNotification(t *testing.T, n *marketv1.NotificationRequested, a *marketv1.AnomalyDetected) {
	t.Helper()
	id := AnomalyNotificationID(n.GetSubscriptionId(), a.GetAnomalyId())
	switch {
	case n.GetNotificationId() != id || n.GetEnvelope().GetEventId() != id:
		t.Fatalf("notification id %q, event id %q; want %q", n.GetNotificationId(), n.GetEnvelope().GetEventId(), id)
	case !proto.Equal(n.GetEnvelope().GetEventTime(), a.GetEnvelope().GetEventTime()):
		t.Fatalf("event time %v, want the anomaly's %v", n.GetEnvelope().GetEventTime(), a.GetEnvelope().GetEventTime())
	case n.GetEnvelope().GetCausationId() != a.GetEnvelope().GetEventId():
		t.Fatalf("causation id %q, want the anomaly's event id", n.GetEnvelope().GetCausationId())
	case n.GetSeverity() != a.GetSeverity() || n.GetAsin() != a.GetAsin() || !proto.Equal(n.GetAnomaly(), a):
		t.Fatalf("notification %v does not carry anomaly %v", n, a)
	case n.GetTitle() == "" || n.GetBody() == "":
		t.Fatalf("notification without title or body: %v", n)
	}
	if err := marketv1.ValidateEnvelope(n.GetEnvelope()); err != nil {
		t.Fatalf("notification envelope: %v", err)
	}
}

func TestMatchAnomalyBoundsRequestedIDs(t *testing.T) {
	st, _, _ := ApplyAtTarget(nil, "asin:B0", upsert(0, sub("s1", "B0")), 0)
	opt := MatchOptions{MaxRequestedIDs: 3}
	for i := range 5 {
		st, _ = MatchAnomaly(st, anomaly(i, fmt.Sprint("a", i), "B0", sevInfo, kindDrop), opt)
	}
	want := hashesOf(AnomalyNotificationID("s1", "a2"), AnomalyNotificationID("s1", "a3"), AnomalyNotificationID("s1", "a4"))
	if !bytes.Equal(st.GetRequestedHashes(), want) || len(st.GetRequestedIds()) != 0 {
		t.Fatalf("requested hashes %x and ids %v, want the hashes of the last 3 %x", st.GetRequestedHashes(), st.GetRequestedIds(), want)
	}
	// The latest are still deduplicated; the forgotten oldest is not (the bound's price).
	if _, out := MatchAnomaly(st, anomaly(4, "a4", "B0", sevInfo, kindDrop), opt); len(out) != 0 {
		t.Fatalf("a4 notified again: %v", out)
	}
	if _, out := MatchAnomaly(st, anomaly(0, "a0", "B0", sevInfo, kindDrop), opt); len(out) != 1 {
		t.Fatalf("a0, forgotten, gave %d notifications, want 1", len(out))
	}
}

func TestMatchAnomalyManyRequestedIDs(t *testing.T) {
	// Enough followers and remembered ids for the set lookup rather than the linear scan.
	var st *marketv1.NotifierState
	for i := range 50 {
		st, _, _ = ApplyAtTarget(st, "asin:B0", upsert(0, sub(fmt.Sprintf("s%02d", i), "B0")), 0)
	}
	opt := MatchOptions{MaxRequestedIDs: 1000}
	for i := range 10 {
		var out []*marketv1.NotificationRequested
		st, out = MatchAnomaly(st, anomaly(i, fmt.Sprint("a", i), "B0", sevInfo, kindDrop), opt)
		if len(out) != 50 {
			t.Fatalf("anomaly %d: %d notifications, want 50", i, len(out))
		}
	}
	for i := range 10 {
		if _, out := MatchAnomaly(st, anomaly(i, fmt.Sprint("a", i), "B0", sevInfo, kindDrop), opt); len(out) != 0 {
			t.Fatalf("anomaly %d again: %d notifications, want 0", i, len(out))
		}
	}
}

func TestMatchAnalysis(t *testing.T) {
	var subs *marketv1.NotifierState
	for _, s := range []*marketv1.Subscription{
		sub("wants", "", onKeyword("usb c"), withAnalyses()),
		sub("anomalies-only", "", onKeyword("usb c")),
		sub("webhook", "", onKeyword("USB  C"), withAnalyses(), webhook("https://hooks.example.com/a")),
	} {
		subs, _, _ = ApplyAtTarget(subs, "keyword:usb c", upsert(0, s), 0)
	}
	opt := MatchOptions{Producer: "notifier-analyses", MaxRequestedIDs: 10}
	ev := completed(5, "an-1", "USB C")
	dedup, out := MatchAnalysis(subs, nil, ev, opt)
	var got []string
	for _, n := range out {
		got = append(got, n.GetSubscriptionId())
		if n.GetNotificationId() != AnalysisNotificationID(n.GetSubscriptionId(), "an-1") || n.GetAnalysisId() != "an-1" ||
			!proto.Equal(n.GetAnalysis(), ev.GetCompleted()) || n.GetEnvelope().GetCorrelationId() != "an-1" {
			t.Fatalf("notification %v", n)
		}
	}
	if !slices.Equal(got, []string{"wants", "webhook"}) {
		t.Fatalf("notified %v, want [wants webhook]", got)
	}
	if _, again := MatchAnalysis(subs, dedup, ev, opt); len(again) != 0 {
		t.Fatalf("completed twice: %d more notifications", len(again))
	}
	if _, none := MatchAnalysis(nil, nil, ev, opt); len(none) != 0 {
		t.Fatal("notifications without followers")
	}
}

func TestIsStale(t *testing.T) {
	env := envAt(0, "x")
	tests := []struct {
		now    time.Time
		maxAge time.Duration
		want   bool
	}{
		{t0.Add(time.Hour), 24 * time.Hour, false},
		{t0.Add(25 * time.Hour), 24 * time.Hour, true},
		{t0.Add(1000 * time.Hour), 0, false},
		{t0.Add(-time.Hour), time.Minute, false}, // from the future: not stale
	}
	for _, tt := range tests {
		if got := IsStale(env, tt.now, tt.maxAge); got != tt.want {
			t.Errorf("IsStale(now %v, max %v) = %v, want %v", tt.now.Sub(t0), tt.maxAge, got, tt.want)
		}
	}
}

func TestValidateAnomalyAndAnalysis(t *testing.T) {
	noID := anomaly(0, "", "B0", sevInfo, kindDrop)
	noTarget := anomaly(0, "x", "", sevInfo, kindDrop)
	keywordOnly := anomaly(0, "x", "", sevInfo, marketv1.AnomalyKind_ANOMALY_KIND_NEW_TOP10_COMPETITOR)
	keywordOnly.Keyword = "usb c"
	for _, tc := range []struct {
		a       *marketv1.AnomalyDetected
		wantErr error
	}{{anomaly(0, "x", "B0", sevInfo, kindDrop), nil}, {noID, ErrInvalidCause}, {noTarget, ErrInvalidCause}, {keywordOnly, nil}} {
		if err := ValidateAnomaly(tc.a); !errors.Is(err, tc.wantErr) {
			t.Errorf("ValidateAnomaly(%v) = %v, want %v", tc.a.GetAnomalyId(), err, tc.wantErr)
		}
	}
	if got := AnomalyTargets(keywordOnly); !slices.Equal(got, []string{"keyword:usb c"}) {
		t.Errorf("targets %v", got)
	}
	noKeyword := completed(0, "an", " ")
	if err := ValidateAnalysis(noKeyword); !errors.Is(err, ErrInvalidCause) {
		t.Errorf("ValidateAnalysis without keyword = %v", err)
	}
	if err := ValidateAnalysis(completed(0, "an", "usb c")); err != nil {
		t.Errorf("ValidateAnalysis = %v", err)
	}
}

// sim runs the notifier's loop logic over a FIFO queue, as one goka partition would.
type sim struct {
	states map[string]*marketv1.NotifierState
	queue  []simCmd
	out    []*marketv1.NotificationRequested
}

type simCmd struct {
	key string
	ch  *marketv1.SubscriptionChanged
	a   *marketv1.AnomalyDetected
}

func newSim() *sim { return &sim{states: map[string]*marketv1.NotifierState{}} }

func (s *sim) subscription(ch *marketv1.SubscriptionChanged) {
	s.queue = append(s.queue, simCmd{key: SubscriptionKey(ch.GetSubscription().GetSubscriptionId()), ch: ch})
}

func (s *sim) anomaly(a *marketv1.AnomalyDetected) {
	for _, k := range AnomalyTargets(a) {
		s.queue = append(s.queue, simCmd{key: k, a: a})
	}
}

func (s *sim) run(t *testing.T) {
	for len(s.queue) > 0 {
		c := s.queue[0]
		s.queue = s.queue[1:]
		st := s.states[c.key]
		switch {
		case c.a != nil:
			next, out := MatchAnomaly(st, c.a, MatchOptions{MaxRequestedIDs: 1000})
			s.states[c.key], s.out = next, append(s.out, out...)
		case strings.HasPrefix(c.key, PrefixSubscription):
			next, routed, err := Route(st, c.ch)
			if err != nil {
				t.Fatal(err)
			}
			s.states[c.key] = next
			for _, r := range routed {
				s.queue = append(s.queue, simCmd{key: r.Key, ch: r.Change})
			}
		default:
			next, _, err := ApplyAtTarget(st, c.key, c.ch, 0)
			if err != nil {
				t.Fatal(err)
			}
			s.states[c.key] = next
		}
	}
}

// followersOf renders what the sim's state says: every key's subscriptions with their versions.
func (s *sim) followersOf() map[string]string {
	out := map[string]string{}
	for k, st := range s.states {
		var parts []string
		for _, x := range st.GetSubscriptions() {
			parts = append(parts, fmt.Sprint(x))
		}
		for _, v := range st.GetVersions() {
			parts = append(parts, fmt.Sprint(v))
		}
		if len(parts) > 0 {
			out[k] = strings.Join(parts, " | ")
		}
	}
	return out
}

// TestSubscriptionsIdempotentAndOrderFree is the property test: any order of a set of
// subscription changes, each delivered once or more, gives the followers of applying them once
// in event-time order.
func TestSubscriptionsIdempotentAndOrderFree(t *testing.T) {
	targets := []func(id string) *marketv1.Subscription{
		func(id string) *marketv1.Subscription { return sub(id, "A") },
		func(id string) *marketv1.Subscription { return sub(id, "B", minSeverity(sevWarning)) },
		func(id string) *marketv1.Subscription { return sub(id, "", onKeyword("usb c")) },
	}
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		var changes []*marketv1.SubscriptionChanged
		for s := range 3 {
			id := fmt.Sprint("s", s)
			for i := range 1 + r.IntN(5) {
				sec := i*10 + r.IntN(10)
				if r.IntN(4) == 0 {
					changes = append(changes, deletion(sec, id))
				} else {
					changes = append(changes, upsert(sec, targets[r.IntN(len(targets))](id)))
				}
			}
		}
		ordered := slices.Clone(changes)
		slices.SortStableFunc(ordered, func(a, b *marketv1.SubscriptionChanged) int { return CompareVersions(versionOf(a), versionOf(b)) })
		want := newSim()
		for _, ch := range ordered {
			want.subscription(ch)
		}
		want.run(t)

		var shuffled []*marketv1.SubscriptionChanged
		for _, ch := range changes {
			for range 1 + r.IntN(3) {
				shuffled = append(shuffled, ch)
			}
		}
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got := newSim()
		for i, ch := range shuffled {
			got.subscription(ch)
			if r.IntN(2) == 0 || i == len(shuffled)-1 {
				got.run(t) // sometimes let the loop drain in between
			}
		}
		w, g := want.followersOf(), got.followersOf()
		for k := range w {
			if strings.HasPrefix(k, PrefixSubscription) {
				continue // an entry's versions agree, checked below with the targets
			}
			if w[k] != g[k] {
				t.Fatalf("round %d: key %s\n got %s\nwant %s", round, k, g[k], w[k])
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok && !strings.HasPrefix(k, PrefixSubscription) {
				t.Fatalf("round %d: key %s has followers %s, want none", round, k, g[k])
			}
		}
		for s := range 3 {
			k := SubscriptionKey(fmt.Sprint("s", s))
			if !proto.Equal(want.states[k].GetVersions()[0], got.states[k].GetVersions()[0]) {
				t.Fatalf("round %d: %s version %v, want %v", round, k, got.states[k].GetVersions()[0], want.states[k].GetVersions()[0])
			}
		}
	}
}

// TestOneAnomalyOneNotification: the anomaly delivered any number of times, to both of its
// targets, notifies each matching subscription once.
func TestOneAnomalyOneNotification(t *testing.T) {
	s := newSim()
	s.subscription(upsert(1, sub("by-asin", "B0")))
	s.subscription(upsert(1, sub("by-keyword", "", onKeyword("usb c"))))
	s.subscription(upsert(1, sub("other", "B1")))
	s.run(t)
	a := anomaly(5, "x", "B0", sevWarning, kindDrop)
	a.Keyword = "USB C"
	for range 3 {
		s.anomaly(a)
	}
	s.run(t)
	var got []string
	for _, n := range s.out {
		got = append(got, n.GetSubscriptionId())
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"by-asin", "by-keyword"}) {
		t.Fatalf("notified %v, want [by-asin by-keyword]", got)
	}
}

func TestTexts(t *testing.T) {
	a := anomaly(0, "x", "B0ABC12345", sevWarning, kindDrop)
	if got := AnomalyTitle(a); got != "Price drop: Anker PowerCore 10000 (B0ABC12345)" {
		t.Errorf("AnomalyTitle = %q", got)
	}
	a.Keyword, a.Title, a.Asin, a.Kind = "usb c", "", "", marketv1.AnomalyKind_ANOMALY_KIND_NEW_TOP10_COMPETITOR
	if got := AnomalyTitle(a); got != `New top-10 competitor: "usb c"` {
		t.Errorf("AnomalyTitle = %q", got)
	}
	a.Explanation = ""
	if got := AnomalyBody(a); got != "Observed 19.99 against a baseline of 29.99 (score 4.20, warning)." {
		t.Errorf("AnomalyBody = %q", got)
	}
	c := completed(0, "an", "usb c").GetCompleted()
	if got := AnalysisBody(c); got != "42 competitors, median price 24.99 USD, mean rating 4.3." {
		t.Errorf("AnalysisBody = %q", got)
	}
	c.Stale = true
	if got := AnalysisTitle(c); got != `Analysis of "usb c" completed (stale result)` {
		t.Errorf("AnalysisTitle = %q", got)
	}
	if got := formatMinor(1500, "JPY"); got != "1500 JPY" {
		t.Errorf("formatMinor JPY = %q", got)
	}
	long := strings.Repeat("é", 300)
	if got := truncate(long, 10); len([]rune(got)) != 10 {
		t.Errorf("truncate kept %d runes", len([]rune(got)))
	}
}

// TestMatchAnomalyReadsRequestedIDs: a state written before requested_hashes, with the ids
// themselves, still deduplicates them, and moves them into the hashes when it is next written.
func TestMatchAnomalyReadsRequestedIDs(t *testing.T) {
	base, _, _ := ApplyAtTarget(nil, "asin:B0", upsert(0, sub("s1", "B0")), 0)
	opt := MatchOptions{MaxRequestedIDs: 3}
	for _, tc := range []struct {
		name       string
		ids        []string
		hashes     []byte
		anomaly    string
		wantOut    int
		wantHashes []byte
	}{
		{name: "old id deduplicated", ids: []string{AnomalyNotificationID("s1", "a1")}, anomaly: "a1"},
		{name: "old id moved into the hashes", ids: []string{AnomalyNotificationID("s1", "a1")}, anomaly: "a2", wantOut: 1,
			wantHashes: hashesOf(AnomalyNotificationID("s1", "a1"), AnomalyNotificationID("s1", "a2"))},
		{name: "old ids before the hashes, bounded", ids: []string{"x", "y"}, hashes: hashesOf("z"), anomaly: "a2", wantOut: 1,
			wantHashes: hashesOf("y", "z", AnomalyNotificationID("s1", "a2"))},
		{name: "an id in either list counts", ids: []string{"x"}, hashes: hashesOf(AnomalyNotificationID("s1", "a3")), anomaly: "a3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := proto.Clone(base).(*marketv1.NotifierState)
			st.RequestedIds, st.RequestedHashes = tc.ids, tc.hashes
			raw, err := proto.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			old := &marketv1.NotifierState{}
			if err := proto.Unmarshal(raw, old); err != nil {
				t.Fatal(err)
			}
			next, out := MatchAnomaly(old, anomaly(1, tc.anomaly, "B0", sevInfo, kindDrop), opt)
			if len(out) != tc.wantOut {
				t.Fatalf("%d notifications, want %d", len(out), tc.wantOut)
			}
			if tc.wantOut == 0 {
				if next != old {
					t.Fatal("a deduplicated anomaly changed the state")
				}
				return
			}
			if !bytes.Equal(next.GetRequestedHashes(), tc.wantHashes) || len(next.GetRequestedIds()) != 0 {
				t.Fatalf("requested hashes %x and ids %v, want hashes %x and no ids", next.GetRequestedHashes(), next.GetRequestedIds(), tc.wantHashes)
			}
		})
	}
}
