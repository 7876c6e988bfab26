package client_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/purse-ledger/purse/client"
	"github.com/purse-ledger/purse/internal/testkit"
)

func ptr[T any](v T) *T { return &v }

// TestCustomerKeysAndAudit: the client's customer calls (keys over
// /settings/2/api-keys, the audit log and its export) and the admin API's key
// restrictions, against a real purse.
func TestCustomerKeysAndAudit(t *testing.T) {
	s := testkit.New(t)
	ctx := context.Background()
	admin, _ := client.New(s.Admin.URL, client.WithAdminToken(testkit.AdminToken))
	acc, err := admin.CreateAccount(ctx, "Keys", "EUR")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AddUser(ctx, acc.ID, "keeper", "keeper-password"); err != nil {
		t.Fatal(err)
	}
	me, _ := client.New(s.Public.URL, client.WithBasicAuth("keeper", "keeper-password"))
	k, err := me.CreateCustomerAPIKey(ctx, client.CustomerAPIKeyRequest{Name: ptr("ci"), AllowedIPs: ptr([]string{"127.0.0.1"}),
		ScopeGuids: ptr([]string{"account-management:manage", "audit-logs:read"})})
	if err != nil || k.APIKeySecret == "" || k.AccountID != acc.ID || !k.Enabled {
		t.Fatalf("CreateCustomerAPIKey = %+v, %v", k, err)
	}
	withKey, _ := client.New(s.Public.URL, client.WithAPIKey(k.APIKeySecret))
	if _, err := withKey.Balance(ctx); err != nil {
		t.Errorf("Balance with the new key: %v", err)
	}
	if _, err := me.UpdateCustomerAPIKey(ctx, k.ID, client.CustomerAPIKeyRequest{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := withKey.Balance(ctx); !client.IsMessageID(err, "UNAUTHORIZED") {
		t.Errorf("Balance with the disabled key: %v", err)
	}
	got, err := me.CustomerAPIKeyByID(ctx, k.ID)
	if err != nil || got.Enabled || got.APIKeySecret != "" {
		t.Errorf("CustomerAPIKeyByID = %+v, %v", got, err)
	}
	page, err := me.CustomerAPIKeys(ctx, client.CustomerAPIKeyFilter{Enabled: ptr(false), Size: 10})
	if err != nil || len(page.APIKeys) != 1 || page.Paging.TotalCount != 1 {
		t.Errorf("CustomerAPIKeys = %+v, %v", page, err)
	}
	_, err = me.CreateCustomerAPIKey(ctx, client.CustomerAPIKeyRequest{Name: ptr("x"), ScopeGuids: ptr([]string{"no:such"})})
	var ce *client.Error
	if !client.IsMessageID(err, "E400") || !errorsAs(err, &ce) || len(ce.ValidationErrors["scopes"]) == 0 {
		t.Errorf("unknown scope: %v", err)
	}
	// The admin side of the same key.
	upd, err := admin.UpdateAPIKey(ctx, acc.ID, k.ID, "", nil, client.APIKeyRules{Disabled: ptr(false), ValidTo: ptr("2099-01-01T00:00:00Z")})
	if err != nil || upd.Disabled || upd.ValidTo != "2099-01-01T00:00:00Z" || len(upd.AllowedIPs) != 1 {
		t.Errorf("UpdateAPIKey = %+v, %v", upd, err)
	}
	if _, err := withKey.Balance(ctx); err != nil {
		t.Errorf("Balance after the admin enabled the key: %v", err)
	}
	limited, err := admin.CreateAPIKeyWith(ctx, acc.ID, "elsewhere", nil, client.APIKeyRules{AllowedIPs: ptr([]string{"192.0.2.0/24"})})
	if err != nil || strings.Join(limited.AllowedIPs, ",") != "192.0.2.0/24" {
		t.Fatalf("CreateAPIKeyWith = %+v, %v", limited, err)
	}
	if c, _ := client.New(s.Public.URL, client.WithAPIKey(limited.Key)); c != nil {
		if _, err := c.Balance(ctx); !client.IsMessageID(err, "UNAUTHORIZED") {
			t.Errorf("key used outside its allowedIPs: %v", err)
		}
	}
	// The audit log, as JSON and CSV.
	var recs []client.CustomerAuditRecord
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if recs, err = withKey.AuditLogs(ctx, client.CustomerAuditFilter{Item: "ApiKey"}); err != nil || len(recs) >= 2 {
			break
		}
	}
	if err != nil || len(recs) != 2 || recs[0].Action != "Create" || recs[1].Action != "Update" || recs[0].Username != "keeper" {
		t.Fatalf("AuditLogs = %+v, %v", recs, err)
	}
	csv, err := withKey.ExportAuditLogs(ctx, client.CustomerAuditFilter{Item: "ApiKey", Limit: 1})
	if err != nil || !strings.HasPrefix(string(csv), "id,timestamp,action,item,description,ipAddress,username\n"+recs[0].ID+",") {
		t.Errorf("ExportAuditLogs = %q, %v", csv, err)
	}
	// Sessions: bound by default, unsafe on request; both work from here.
	for _, opts := range [][]client.Option{nil, {client.WithUnsafeSessions()}} {
		c, _ := client.New(s.Public.URL, opts...)
		if _, err := c.CreateSession(ctx, "keeper", "keeper-password"); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Balance(ctx); err != nil {
			t.Errorf("Balance in a session (%d options): %v", len(opts), err)
		}
	}
}

func errorsAs(err error, target **client.Error) bool {
	e, ok := err.(*client.Error)
	if ok {
		*target = e
	}
	return ok
}
