package fault

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRoutePattern(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"/account/1/balance", "/account/1/balance", true},
		{"/account/1/balance", "//account/1/balance", true}, // the public API merges slashes
		{"/account/1/balance", "/account/1/balance/x", false},
		{"/account/1/balance", "/account/1/total-balance", false},
		{"/v1/accounts/{id}/charges", "/v1/accounts/acc_1/charges", true},
		{"/v1/accounts/{id}/charges", "/v1/accounts/acc_1/top-ups", false},
		{"/v1/accounts/{id}/charges", "/v1/accounts//charges", false},
		{"/v1/accounts/", "/v1/accounts/acc_1/charges", true},
		{"/v1/accounts/{rest...}", "/v1/accounts/acc_1", true},
		{"/v1/accounts/", "/v1/audit", false},
		{"/", "/anything/at/all", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.path, func(t *testing.T) {
			r, err := check(Spec{Route: tt.pattern, Action: ActionReset}, func() int64 { return 1 })
			if err != nil {
				t.Fatal(err)
			}
			if got := r.matchPath(tt.path); got != tt.want {
				t.Errorf("matchPath = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRulesEnd: a rule ends after its Times and when its TTL has passed.
func TestRulesEnd(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := NewSet(Options{Now: func() time.Time { return now }})
	req := httptest.NewRequest("GET", "/account/1/balance", nil)
	twice, err := s.Add(Spec{Action: ActionReset, Times: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(Spec{Action: ActionError, TTL: "1m"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 3 {
		sh, _ := s.pick("public", req, nil)
		got = append(got, sh.action)
	}
	if diff := cmp.Diff(got, []string{"reset", "reset", "error"}); diff != "" {
		t.Errorf("actions (-got +want):\n%s", diff)
	}
	if rules := s.List(); len(rules) != 1 || rules[0].ID == twice.ID {
		t.Errorf("rules after the first one's two times: %+v, want only the second", rules)
	}
	now = now.Add(time.Minute)
	if sh, ok := s.pick("public", req, nil); ok || len(s.List()) != 0 {
		t.Errorf("after the TTL: picked %+v, rules %+v; want none", sh, s.List())
	}
}
