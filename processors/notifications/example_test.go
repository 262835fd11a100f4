package notifications_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/marketinsightspro/marketinsights/processors/notifications"
)

// A webhook receiver: verify the signature over the raw body and the timestamp, then act once
// per X-MIP-Notification-Id (a notification can arrive again after a crash of the deliverer).
func ExampleVerifySignature() {
	secret := []byte("the secret shown to the subscriber")
	var mu sync.Mutex
	seen := map[string]bool{}
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		err = notifications.VerifySignature(secret, r.Header.Get(notifications.HeaderSignature),
			r.Header.Get(notifications.HeaderTimestamp), body, time.Now(), notifications.DefaultSignatureTolerance)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized) // a 4xx: the deliverer does not retry
			return
		}
		id := r.Header.Get(notifications.HeaderNotificationID)
		mu.Lock()
		dup := seen[id]
		seen[id] = true
		mu.Unlock()
		if dup {
			fmt.Println("duplicate ignored")
		} else {
			fmt.Println("notification accepted")
		}
		w.WriteHeader(http.StatusNoContent)
	})

	// What the deliverer sends, twice.
	body := []byte(`{"notification_id":"6b1c…","title":"Price drop: …"}`)
	for range 2 {
		ts := time.Now().Unix()
		req := httptest.NewRequest(http.MethodPost, "/hooks/mip", strings.NewReader(string(body)))
		req.Header.Set(notifications.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(notifications.HeaderSignature, notifications.Sign(secret, ts, body))
		req.Header.Set(notifications.HeaderNotificationID, "6b1c…")
		receiver.ServeHTTP(httptest.NewRecorder(), req)
	}
	// Output:
	// notification accepted
	// duplicate ignored
}
