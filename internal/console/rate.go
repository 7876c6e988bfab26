package console

import (
	"sync"
	"time"

	"github.com/purse-ledger/purse/internal/ledger"
)

// Rate counts the charges (and captures) this node commits per minute, over the
// last hour, for the dashboard. It is fed by the engine's OnEntries hook, in
// memory: the store's history is hourly (balance_hours), and a per-minute row in
// the store would be one hot row that every batch of every node updates. So on
// several PostgreSQL nodes each node's dashboard shows its own charges, and a
// restart starts from zero.
type Rate struct {
	mu    sync.Mutex
	slots [60]struct {
		minute int64
		n      int64
	}
}

// Record counts a batch's charges under the minutes they were made in.
func (r *Rate) Record(entries []ledger.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range entries {
		if e.Kind != ledger.EntryCharge && e.Kind != ledger.EntryCapture {
			continue
		}
		m := e.CreatedAt.Unix() / 60
		s := &r.slots[m%60]
		if s.minute != m {
			s.minute, s.n = m, 0
		}
		s.n++
	}
}

// LastHour returns the counts of the 60 minutes before now's, oldest first,
// with each minute's start.
func (r *Rate) LastHour(now time.Time) (starts []int64, counts []int64) {
	cur := now.Unix() / 60
	r.mu.Lock()
	defer r.mu.Unlock()
	for m := cur - 59; m <= cur; m++ {
		s := r.slots[((m%60)+60)%60]
		n := int64(0)
		if s.minute == m {
			n = s.n
		}
		starts, counts = append(starts, m*60), append(counts, n)
	}
	return starts, counts
}
