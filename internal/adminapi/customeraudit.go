package adminapi

import (
	"fmt"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// operatorName is how the customers' audit log names the operator. An
// operator's action on a customer's sub-account (creating it, renaming,
// enabling or disabling it, moving money to or from it) is recorded there too:
// it changed what the customer owns and pays with, and the customer must be
// able to tell why. But the operator's own log (tokens, routes, addresses) is
// never the customer's, so the record names neither the operator nor its
// address: username "operator", ipAddress empty. docs/api.md says so.
const operatorName = "operator"

// customerRecord queues a record of the customers' audit log about a
// sub-account, read by it and by its parent.
func (a *API) customerRecord(acc ledger.Account, action, desc string) {
	if a.cfg.Audit == nil || acc.ParentID == "" {
		return
	}
	a.cfg.Audit.Customer(ledger.CustomerAuditRecord{AccountID: acc.ID, MainAccountID: acc.ParentID,
		Action: action, Item: "Account", Description: desc, Username: operatorName})
}

// subAccountCreated records a sub-account the operator made.
func (a *API) subAccountCreated(v any) {
	acc := v.(ledger.Account)
	a.customerRecord(acc, "Create", fmt.Sprintf("sub-account '%s' (%s) created, funding %s", acc.Name, acc.ID, acc.Funding))
}

// subAccountPatched records the parts of an operator's PATCH that the
// customer's own PUT /settings/1/accounts/{accountKey} can make: the name and
// the enabled switch. (Status, limits and free messages are the operator's
// terms, not the customer's settings; the customer sees their effect on its
// balance routes.)
func (a *API) subAccountPatched(name *string, enabled *bool) func(any) {
	return func(v any) {
		acc := v.(ledger.Account)
		if name != nil {
			a.customerRecord(acc, "Update", fmt.Sprintf("sub-account %s renamed to '%s'", acc.ID, acc.Name))
		}
		if enabled != nil {
			action, done := "Disable", "disabled"
			if *enabled {
				action, done = "Enable", "enabled"
			}
			a.customerRecord(acc, action, fmt.Sprintf("sub-account '%s' (%s) %s", acc.Name, acc.ID, done))
		}
	}
}

// transferred records a transfer under the sub-account it funded or drained,
// so that its parent (and the sub-account itself) reads it back.
func (a *API) transferred(v any) {
	res := v.(engine.TransferResult)
	from, _ := a.cfg.Engine.Account(res.From.AccountID)
	to, _ := a.cfg.Engine.Account(res.To.AccountID)
	sub := to
	if from.ParentID != "" {
		sub = from
	}
	desc := fmt.Sprintf("transfer of %s %s from '%s' (%s) to '%s' (%s), movement %s", res.To.Amount, to.Currency,
		from.Name, from.ID, to.Name, to.ID, res.From.MovementID)
	if res.From.Reference != "" {
		desc += fmt.Sprintf(", reference '%s'", res.From.Reference)
	}
	a.customerRecord(sub, "Change", desc)
}
