package app

import (
	"context"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// subAccounts serves the public sub-account routes (infobipapi.SubAccounts): the
// list from the store, the change through the engine, so it commits like every
// other write and reaches every node's cache through the change feed.
type subAccounts struct {
	store ledger.History
	eng   *engine.Engine
}

func (s subAccounts) SubAccounts(ctx context.Context, parentID string) ([]ledger.Account, error) {
	return s.store.SubAccounts(ctx, parentID)
}

func (s subAccounts) UpdateSubAccount(ctx context.Context, owner, id string, name *string, enabled *bool) (ledger.Account, error) {
	res, err := s.eng.Do(ctx, engine.UpdateSubAccount{ID: id, Owner: owner, Name: name, Enabled: enabled}, nil)
	if err != nil {
		return ledger.Account{}, err
	}
	return res.Value.(ledger.Account), nil
}
