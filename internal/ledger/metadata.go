package ledger

import "fmt"

// Bounds on an entry's metadata, so one request cannot bloat the ledger.
const (
	MaxMetadataKeys     = 20
	MaxMetadataKeyLen   = 64
	MaxMetadataValueLen = 512
)

// ValidateMetadata checks a metadata map against the bounds, and its keys and
// values against CheckText.
func ValidateMetadata(m map[string]string) error {
	if len(m) > MaxMetadataKeys {
		return Invalid("metadata", fmt.Sprintf("has %d keys; at most %d", len(m), MaxMetadataKeys))
	}
	for k, v := range m {
		if k == "" || len(k) > MaxMetadataKeyLen {
			return Invalid("metadata", fmt.Sprintf("keys must be 1 to %d bytes of UTF-8", MaxMetadataKeyLen))
		}
		if err := CheckText(k); err != nil {
			return Invalid("metadata", fmt.Sprintf("key %q %v", k, err))
		}
		if len(v) > MaxMetadataValueLen {
			return Invalid("metadata", fmt.Sprintf("value of %q must be at most %d bytes of UTF-8", k, MaxMetadataValueLen))
		}
		if err := CheckText(v); err != nil {
			return Invalid("metadata", fmt.Sprintf("value of %q %v", k, err))
		}
	}
	return nil
}
