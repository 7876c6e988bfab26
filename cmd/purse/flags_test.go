package main

import (
	"strings"
	"testing"
)

func TestCheckAdminToken(t *testing.T) {
	for _, tc := range []struct {
		name, token string
		ok          bool
	}{
		{"openssl rand -hex 32", "9f2c1e7a4b6d8e0f1a3c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4d6f8a0c1e3b5d7f", true},
		{"openssl rand -base64 32", "qL8v2Xr0Yk3Zp9Wm5Tn1Bq7Hc4Jd6Fs8Ga0Ue2Vi4Ow=", true},
		{"one character", "a", false},
		{"16 random bytes in hex", "9f2c1e7a4b6d8e0f1a3c5e7b9d2f4a6c", false},
		{"a long run of one character", strings.Repeat("a", 200), false},
		{"a repeated word", strings.Repeat("password123", 8), false},
		{"with a space", "9f2c1e7a4b6d8e0f1a3c5e7b9d2f4a6c 8e0b1d3f5a7c9e2b4d6f8a0c1e3b5d7f", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkAdminToken(tc.token)
			if got := err == nil; got != tc.ok {
				t.Errorf("checkAdminToken: %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "openssl rand -hex 32") {
				t.Errorf("the refusal does not say how to make a token: %v", err)
			}
		})
	}
}
