package audit_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/purse-ledger/purse/internal/audit"
	"github.com/purse-ledger/purse/internal/ledger"
	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// TestUnauthenticatedCountsPerMinute: the count of a minute is written when the
// next minute begins; IPv6 addresses of one /64 count together.
func TestUnauthenticatedCountsPerMinute(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "purse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := audit.New(st, slog.New(slog.DiscardHandler))
	t0 := time.Date(2026, 11, 26, 12, 0, 5, 0, time.UTC)
	for _, r := range []struct {
		at     time.Duration
		remote string
	}{{0, "192.0.2.1"}, {10 * time.Second, "192.0.2.1"}, {20 * time.Second, "192.0.2.1"}, {0, "2001:db8::1"}, {time.Second, "2001:db8::2"}, {70 * time.Second, "192.0.2.1"}} {
		a.Unauthenticated(ledger.AuditRecord{At: t0.Add(r.at), Actor: "unauthenticated", Action: "POST /v1/accounts", Target: "/v1/accounts", Remote: r.remote, Status: 401})
	}
	a.Close()
	recs, err := st.ListAudit(context.Background(), ledger.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(recs) - 1; i >= 0; i-- { // oldest first
		if r := recs[i]; r.Actor == "unauthenticated" {
			got = append(got, r.At.Format("15:04:05")+" "+r.Remote+" "+r.Target)
		}
	}
	want := []string{
		"12:00:05 192.0.2.1 /v1/accounts",
		"12:00:05 2001:db8::1 /v1/accounts",
		"12:01:00 192.0.2.1 2 more unauthenticated requests in the minute from 2026-11-26T12:00Z",
		"12:01:00 2001:db8::/64 1 more unauthenticated requests in the minute from 2026-11-26T12:00Z",
		"12:01:15 192.0.2.1 /v1/accounts",
	}
	sort.Strings(got[2:4])
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("audit records (-got +want):\n%s", diff)
	}
}
