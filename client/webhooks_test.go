package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestVerifyWebhook: a signature made as the spec says verifies (also among
// several, after a key rotation); a changed body, id, wrong secret, missing
// header or stale timestamp does not.
func TestVerifyWebhook(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	body := []byte(`{"type":"balance.low"}`)
	sign := func(id string, ts int64, body []byte) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
		m.Write(body)
		return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	}
	now := time.Now().Unix()
	h := func(id string, ts int64, sig string) http.Header {
		return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {strconv.FormatInt(ts, 10)}, "Webhook-Signature": {sig}}
	}
	if err := VerifyWebhook(secret, h("evt_1", now, sign("evt_1", now, body)), body, 0); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	if err := VerifyWebhook(secret, h("evt_1", now, "v1,AAAA "+sign("evt_1", now, body)), body, 0); err != nil {
		t.Errorf("a good one among several: %v", err)
	}
	for name, tc := range map[string]struct {
		secret string
		h      http.Header
		body   string
		want   error
	}{
		"body changed":   {secret, h("evt_1", now, sign("evt_1", now, body)), `{"type":"balance.high"}`, ErrWebhookSignature},
		"id changed":     {secret, h("evt_2", now, sign("evt_1", now, body)), string(body), ErrWebhookSignature},
		"another secret": {"whsec_" + base64.StdEncoding.EncodeToString([]byte("other")), h("evt_1", now, sign("evt_1", now, body)), string(body), ErrWebhookSignature},
		"stale":          {secret, h("evt_1", now-3600, sign("evt_1", now-3600, body)), string(body), ErrWebhookTimestamp},
		"no signature":   {secret, h("evt_1", now, ""), string(body), ErrWebhookHeaders},
		"v2 only":        {secret, h("evt_1", now, "v2,"+sign("evt_1", now, body)[3:]), string(body), ErrWebhookSignature},
	} {
		if err := VerifyWebhook(tc.secret, tc.h, []byte(tc.body), 0); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}
