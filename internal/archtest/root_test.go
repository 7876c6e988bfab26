package archtest

import (
	"github.com/purse-ledger/purse/internal/testkit"
	"testing"
)

func moduleRoot(t *testing.T) string { return testkit.ModuleRoot(t) }
