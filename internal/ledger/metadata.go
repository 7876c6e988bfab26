package ledger

import (
	"fmt"
	"unicode/utf8"
)

// Bounds on an entry's metadata, so one request cannot bloat the ledger.
const (
	MaxMetadataKeys     = 20
	MaxMetadataKeyLen   = 64
	MaxMetadataValueLen = 512
)

// ValidateMetadata checks a metadata map against the bounds.
func ValidateMetadata(m map[string]string) error {
	if len(m) > MaxMetadataKeys {
		return Invalid("metadata", fmt.Sprintf("has %d keys; at most %d", len(m), MaxMetadataKeys))
	}
	for k, v := range m {
		if k == "" || len(k) > MaxMetadataKeyLen || !utf8.ValidString(k) {
			return Invalid("metadata", fmt.Sprintf("keys must be 1 to %d bytes of UTF-8", MaxMetadataKeyLen))
		}
		if len(v) > MaxMetadataValueLen || !utf8.ValidString(v) {
			return Invalid("metadata", fmt.Sprintf("value of %q must be at most %d bytes of UTF-8", k, MaxMetadataValueLen))
		}
	}
	return nil
}
