package ledger

import (
	"runtime"
	"strconv"
	"testing"
	"time"
	"unsafe"
)

// BenchmarkAccountMemory reports what one resident account costs: the struct
// alone, and the heap a million of them take the way the engine holds them (one
// slice as their home, a map from id to pointer, each with its own id and name).
// Run it with -benchtime=1x: each iteration builds a million accounts.
func BenchmarkAccountMemory(b *testing.B) {
	const n = 1_000_000
	b.ReportMetric(float64(unsafe.Sizeof(Account{})), "struct-bytes")
	now := time.Now().UTC()
	for i := 0; i < b.N; i++ {
		before := heapInUse()
		accts := make([]Account, n)
		byID := make(map[string]*Account, n)
		for j := range accts {
			a := &accts[j]
			a.ID, a.Name = NewIDAt("acc", now), "customer "+strconv.Itoa(j)
			a.Kind, a.Currency, a.Status = KindCustomer, "EUR", StatusActive
			a.Balance, a.Version, a.CreatedAt, a.UpdatedAt = Amount(j), 1, now, now
			byID[a.ID] = a
		}
		b.ReportMetric(float64(heapInUse()-before)/n, "heap-bytes/account")
		runtime.KeepAlive(byID)
	}
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
