package client_test

import (
	"encoding/json"
	"io"
	"log"
	"net/http"

	"github.com/purse-ledger/purse/client"
)

// A webhook receiver that answers topup.requested with a top-up under the event's
// id as its Idempotency-Key (docs/events.md): a duplicate delivery tops up once.
func ExampleVerifyWebhook() {
	const secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0MTI=" // from purse webhooks create
	admin, err := client.New("http://127.0.0.1:8081", client.WithAdminToken("token"))
	if err != nil {
		log.Fatal(err)
	}
	http.HandleFunc("/purse", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err := client.VerifyWebhook(secret, r.Header, body, 0); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var ev struct {
			Type, ID, AccountID string
			Data                struct{ Amount string }
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if ev.Type == "topup.requested" {
			if _, err := admin.TopUp(r.Context(), ev.AccountID, ev.Data.Amount,
				client.TopUpOptions{IdempotencyKey: ev.ID, Reference: "auto top-up"}); err != nil {
				http.Error(w, "try again", http.StatusServiceUnavailable)
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
