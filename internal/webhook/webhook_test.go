package webhook

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/internal/ledger"
)

// TestSignVerifies: what Sign makes, the client's VerifyWebhook (the receivers'
// helper, written apart from it) accepts, and a changed body it refuses.
func TestSignVerifies(t *testing.T) {
	secret := NewSecret()
	ev := ledger.Event{Seq: 7, ID: "evt_x-0", Type: ledger.EventBalanceLow, AccountID: "acc_1", At: time.Now(), Data: `{"threshold":"10"}`}
	body := payload(&ev)
	ts := time.Now().Unix()
	sig, err := Sign(secret, ev.ID, ts, body)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", ev.ID)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", sig)
	if err := client.VerifyWebhook(secret, h, body, 0); err != nil {
		t.Fatalf("VerifyWebhook refuses Sign's signature: %v", err)
	}
	if err := client.VerifyWebhook(secret, h, append(body, ' '), 0); err == nil {
		t.Fatal("a changed body verified")
	}
	if _, err := Sign("whsec_!!", ev.ID, ts, body); err == nil {
		t.Error("a secret that is not base64 signed")
	}
}

// TestBackoff: waits double from RetryBase up to RetryMax, each jittered between
// half and all of it; from 100 ms doubling they reach an hour after ~15 attempts,
// so a receiver down for a day is tried again about hourly until DisableAfter.
func TestBackoff(t *testing.T) {
	c := Config{}
	c.defaults()
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 5: 1600 * time.Millisecond, 30: time.Hour} {
		for i := 0; i < 50; i++ {
			if d := c.backoff(n); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, want/2, want)
			}
		}
	}
	if c.DisableAfter < 24*time.Hour {
		t.Errorf("a subscription is disabled after %v: the issue asks for at least 24 h of retries", c.DisableAfter)
	}
}

// TestSignerReused: a lane's signer, kept between messages and across a change
// of secret, signs each message as a fresh Sign does (a stale key or a buffer
// shared between the signed prefix and the header would not).
func TestSignerReused(t *testing.T) {
	var s signer
	secrets := []string{NewSecret(), NewSecret()}
	for i := range 6 {
		secret := secrets[i/3]
		id, body := "evt_"+strconv.Itoa(i), []byte(`{"n":`+strconv.Itoa(i)+`}`)
		got, err := s.sign(secret, id, int64(1000+i), body)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Sign(secret, id, int64(1000+i), body)
		if got != want {
			t.Fatalf("message %d: the kept signer made %q, Sign %q", i, got, want)
		}
	}
	if _, err := s.sign("whsec_!!", "evt_x", 1, nil); err == nil {
		t.Error("a secret that is not base64 signed")
	}
}
