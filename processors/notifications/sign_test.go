package notifications

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestSign(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"notification_id":"n1"}`)
	ts := int64(1795176000)
	// The documented scheme, computed independently.
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "." + string(body)))
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := Sign(secret, ts, body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	now := time.Unix(ts, 0).Add(time.Minute)
	tests := []struct {
		name      string
		sig, ts   string
		body      []byte
		secret    []byte
		wantErr   error
		tolerance time.Duration
	}{
		{"valid", want, strconv.FormatInt(ts, 10), body, secret, nil, DefaultSignatureTolerance},
		{"tampered body", want, strconv.FormatInt(ts, 10), []byte(`{"notification_id":"n2"}`), secret, ErrBadSignature, DefaultSignatureTolerance},
		{"other secret", want, strconv.FormatInt(ts, 10), body, []byte("other"), ErrBadSignature, DefaultSignatureTolerance},
		{"replayed with a new timestamp", want, strconv.FormatInt(ts+30, 10), body, secret, ErrBadSignature, DefaultSignatureTolerance},
		{"too old", want, strconv.FormatInt(ts, 10), body, secret, ErrStaleTimestamp, 30 * time.Second},
		{"not a number", want, "yesterday", body, secret, ErrStaleTimestamp, DefaultSignatureTolerance},
		{"empty signature", "", strconv.FormatInt(ts, 10), body, secret, ErrBadSignature, DefaultSignatureTolerance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifySignature(tt.secret, tt.sig, tt.ts, tt.body, now, tt.tolerance); !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifySignature = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSubscriptionSecret(t *testing.T) {
	master := []byte("master")
	a, b := SubscriptionSecret(master, "sub-a"), SubscriptionSecret(master, "sub-b")
	if string(a) == string(b) || string(a) != string(SubscriptionSecret(master, "sub-a")) || len(a) != 64 {
		t.Fatalf("secrets %s, %s", a, b)
	}
	if string(a) == string(SubscriptionSecret([]byte("other"), "sub-a")) {
		t.Fatal("secret does not depend on the master")
	}
}

func TestIsPublicAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"93.184.215.14", true},
		{"8.8.8.8", true},
		{"2606:4700::6810:84e5", true},
		{"127.0.0.1", false},
		{"127.1.2.3", false},
		{"::1", false},
		{"10.1.2.3", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"172.32.0.1", true},
		{"192.168.1.1", false},
		{"169.254.169.254", false}, // cloud metadata
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"fc00::1", false},
		{"fd12:3456::1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"100.64.0.1", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"198.18.0.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"64:ff9b::808:808", true},    // NAT64 of 8.8.8.8
		{"2002:7f00:1::", false},      // 6to4 of 127.0.0.1
	}
	for _, tt := range tests {
		if got := IsPublicAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("IsPublicAddr(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

func TestCheckWebhookURL(t *testing.T) {
	tests := []struct {
		url          string
		allowPrivate bool
		wantErr      error
	}{
		{"https://hooks.example.com/mip", false, nil},
		{"http://93.184.215.14:8080/x", false, nil},
		{"http://127.0.0.1:8080/x", false, ErrForbiddenAddress},
		{"http://127.0.0.1:8080/x", true, nil},
		{"http://[::1]/x", false, ErrForbiddenAddress},
		{"http://localhost/x", false, ErrForbiddenAddress},
		{"http://LOCALHOST./x", false, ErrForbiddenAddress},
		{"http://api.localhost/x", false, ErrForbiddenAddress},
		{"http://169.254.169.254/latest/meta-data/", false, ErrForbiddenAddress},
		{"http://10.0.0.5/", false, ErrForbiddenAddress},
		{"file:///etc/passwd", false, ErrInvalidWebhookURL},
		{"gopher://example.com/", true, ErrInvalidWebhookURL},
		{"https:///nohost", false, ErrInvalidWebhookURL},
		{"", false, ErrInvalidWebhookURL},
	}
	for _, tt := range tests {
		if err := CheckWebhookURL(tt.url, tt.allowPrivate); !errors.Is(err, tt.wantErr) {
			t.Errorf("CheckWebhookURL(%q, %v) = %v, want %v", tt.url, tt.allowPrivate, err, tt.wantErr)
		}
	}
}

func TestDialGuard(t *testing.T) {
	var raw syscall.RawConn
	guard := dialGuard{}
	for addr, wantErr := range map[string]error{
		"127.0.0.1:80":          ErrForbiddenAddress,
		"[::1]:443":             ErrForbiddenAddress,
		"169.254.169.254:80":    ErrForbiddenAddress,
		"93.184.215.14:443":     nil,
		"not-an-address":        ErrForbiddenAddress,
		"[2606:4700::6810]:443": nil,
	} {
		if err := guard.control("tcp", addr, raw); !errors.Is(err, wantErr) {
			t.Errorf("control(%s) = %v, want %v", addr, err, wantErr)
		}
	}
	if err := (dialGuard{allowPrivate: true}).control("tcp", "127.0.0.1:80", raw); err != nil {
		t.Errorf("allowPrivate: %v", err)
	}
}
