package adminapi

import (
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// Wire types: the JSON the admin API speaks. Amounts are decimal strings; an
// entry's amount is signed from the account's side (a charge is negative).

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

type accountJSON struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	Currency     string  `json:"currency"`
	Status       string  `json:"status"`
	Balance      string  `json:"balance"`
	AllowedMinus string  `json:"allowedMinus"`
	MonthlyLimit *string `json:"monthlyLimit"` // null: no monthly limit
	FreeMessages int64   `json:"freeMessages"`
	CreatedAt    string  `json:"createdAt"`
	UpdatedAt    string  `json:"updatedAt"`
	// A sub-account's: absent on main accounts, so their JSON (and every replay of
	// an answer stored before sub-accounts) is what it was.
	Parent  string `json:"parent,omitempty"`
	Funding string `json:"funding,omitempty"`
	Enabled *bool  `json:"enabled,omitempty"`
}

func monthlyLimit(a ledger.Account) *string {
	if !a.HasMonthlyLimit {
		return nil
	}
	s := a.MonthlyLimit.String()
	return &s
}

func toAccountJSON(a ledger.Account) accountJSON {
	j := accountJSON{ID: a.ID, Name: a.Name, Currency: a.Currency, Status: string(a.Status), Balance: a.Balance.String(),
		AllowedMinus: a.AllowedMinus.String(), MonthlyLimit: monthlyLimit(a), FreeMessages: a.FreeMessages,
		CreatedAt: ts(a.CreatedAt), UpdatedAt: ts(a.UpdatedAt)}
	if a.IsSub() {
		enabled := !a.Disabled
		j.Parent, j.Funding, j.Enabled = a.ParentID, string(a.Funding), &enabled
	}
	return j
}

type balanceJSON struct {
	AccountID    string  `json:"accountId"`
	Balance      string  `json:"balance"`
	Available    string  `json:"available"`
	Held         string  `json:"held"`
	AllowedMinus string  `json:"allowedMinus"`
	MonthlyLimit *string `json:"monthlyLimit"` // null: no monthly limit
	MonthlySpent string  `json:"monthlySpent"`
	FreeMessages int64   `json:"freeMessages"`
	Currency     string  `json:"currency"`
	Status       string  `json:"status"`
	AsOf         string  `json:"asOf"`
	Sequence     int64   `json:"sequence"`
}

func toBalanceJSON(a ledger.Account, now time.Time) balanceJSON {
	return balanceJSON{AccountID: a.ID, Balance: a.Balance.String(), Available: a.Available().String(), Held: a.Held.String(),
		AllowedMinus: a.AllowedMinus.String(), MonthlyLimit: monthlyLimit(a), MonthlySpent: a.SpentIn(now).String(),
		FreeMessages: a.FreeMessages, Currency: a.Currency, Status: string(a.Status), AsOf: ts(now), Sequence: a.Seq}
}

// balanceAtJSON is the balance as it was at a past instant: what the entries
// record (holds and limits are not historised).
type balanceAtJSON struct {
	AccountID string `json:"accountId"`
	Balance   string `json:"balance"`
	Currency  string `json:"currency"`
	AsOf      string `json:"asOf"`
	Sequence  int64  `json:"sequence"`
}

type entryJSON struct {
	ID             string            `json:"id"` // the movement's id
	Sequence       int64             `json:"sequence"`
	AccountID      string            `json:"accountId"`
	Kind           string            `json:"kind"`
	Amount         string            `json:"amount"`
	BalanceAfter   string            `json:"balanceAfter"`
	Reference      string            `json:"reference"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	ChargeID       string            `json:"chargeId,omitempty"` // on refunds
	HoldID         string            `json:"holdId,omitempty"`   // on captures
	FreeMessage    bool              `json:"freeMessage,omitempty"`
	IdempotencyKey string            `json:"idempotencyKey,omitempty"`
	CreatedAt      string            `json:"createdAt"`
	SubAccountID   string            `json:"subAccountId,omitempty"`   // a shared sub-account's spending of its parent's
	CounterpartyID string            `json:"counterpartyId,omitempty"` // on transfers: the other account
}

func toEntryJSON(e ledger.Entry) entryJSON {
	j := entryJSON{ID: e.MovementID, Sequence: e.Seq, AccountID: e.AccountID, Kind: string(e.Kind), Amount: e.Amount.String(),
		BalanceAfter: e.BalanceAfter.String(), Reference: e.Reference, Metadata: e.Metadata, FreeMessage: e.FreeMessage,
		IdempotencyKey: e.IdempotencyKey, CreatedAt: ts(e.CreatedAt), SubAccountID: e.SubAccountID}
	switch e.Kind {
	case ledger.EntryRefund:
		j.ChargeID = e.RelatedID
	case ledger.EntryCapture:
		j.HoldID = e.RelatedID
	case ledger.EntryTransfer:
		j.CounterpartyID = e.RelatedID
	}
	return j
}

// transferJSON is a transfer, from its payer's entry (the outcome keeps that one;
// the payee's is its mirror).
type transferJSON struct {
	ID               string `json:"id"`
	From             string `json:"from"`
	To               string `json:"to"`
	Amount           string `json:"amount"`
	Reference        string `json:"reference"`
	Sequence         int64  `json:"sequence"`
	FromBalanceAfter string `json:"fromBalanceAfter"`
	CreatedAt        string `json:"createdAt"`
}

func toTransferJSON(e ledger.Entry) transferJSON {
	amt, _ := e.Amount.Neg() // the payer's side is negative and never the minimum
	return transferJSON{ID: e.MovementID, From: e.AccountID, To: e.RelatedID, Amount: amt.String(), Reference: e.Reference,
		Sequence: e.Seq, FromBalanceAfter: e.BalanceAfter.String(), CreatedAt: ts(e.CreatedAt)}
}

type holdJSON struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId"`
	Amount    string `json:"amount"`
	Captured  string `json:"captured"`
	Status    string `json:"status"`
	Reference string `json:"reference"`
	ChargeID  string `json:"chargeId,omitempty"`
	ExpiresAt string `json:"expiresAt"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

func toHoldJSON(h ledger.Hold) holdJSON {
	return holdJSON{ID: h.ID, AccountID: h.AccountID, Amount: h.Amount.String(), Captured: h.Captured.String(),
		Status: string(h.Status), Reference: h.Reference, ChargeID: h.ChargeID, ExpiresAt: ts(h.ExpiresAt),
		CreatedAt: ts(h.CreatedAt), UpdatedAt: ts(h.UpdatedAt)}
}

type captureJSON struct {
	Hold  holdJSON  `json:"hold"`
	Entry entryJSON `json:"entry"`
}

func toCaptureJSON(r engine.CaptureResult) captureJSON {
	return captureJSON{Hold: toHoldJSON(r.Hold), Entry: toEntryJSON(r.Entry)}
}

type userJSON struct {
	Username  string `json:"username"`
	AccountID string `json:"accountId"`
	CreatedAt string `json:"createdAt"`
}

// apiKeyJSON is a key on the admin API. The restrictions are left out when a
// key has none (and disabled when it is enabled), so the answer for a key made
// before they existed, and every replay of one, is what it always was.
type apiKeyJSON struct {
	ID         string   `json:"id"`
	AccountID  string   `json:"accountId"`
	Name       string   `json:"name"`
	Scopes     []string `json:"scopes"`
	AllowedIPs []string `json:"allowedIPs,omitempty"`
	ValidFrom  string   `json:"validFrom,omitempty"`
	ValidTo    string   `json:"validTo,omitempty"`
	Disabled   bool     `json:"disabled,omitempty"`
	Key        string   `json:"key,omitempty"` // only in the response that created it
	CreatedAt  string   `json:"createdAt"`
	RevokedAt  string   `json:"revokedAt,omitempty"`
}

func toAPIKeyJSON(k ledger.APIKey, clear string) apiKeyJSON {
	out := apiKeyJSON{ID: k.ID, AccountID: k.AccountID, Name: k.Name, Scopes: k.Scopes, AllowedIPs: k.AllowedIPs, Disabled: k.Disabled,
		Key: clear, CreatedAt: ts(k.CreatedAt)}
	if k.RevokedAt != nil {
		out.RevokedAt = ts(*k.RevokedAt)
	}
	if k.ValidFrom != nil {
		out.ValidFrom = ts(*k.ValidFrom)
	}
	if k.ValidTo != nil {
		out.ValidTo = ts(*k.ValidTo)
	}
	return out
}
