package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purse-ledger/purse/internal/engine"
	"github.com/purse-ledger/purse/internal/ledger"
)

// commitCutter relays connections to the PostgreSQL server; once armed, it
// cuts the connection that carries the next COMMIT's answer instead of
// relaying it: the server has committed, and the client cannot know it.
type commitCutter struct {
	l      net.Listener
	target string
	armed  atomic.Bool
	cut    chan struct{} // closed once it cut
}

// newCommitCutter relays to the server of URL u and returns it with u aimed at it.
func newCommitCutter(t *testing.T, u string) (*commitCutter, string) {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &commitCutter{l: l, target: pu.Host, cut: make(chan struct{})}
	t.Cleanup(func() { l.Close() })
	go c.serve()
	pu.Host = l.Addr().String()
	return c, pu.String()
}

func (c *commitCutter) serve() {
	for {
		client, err := c.l.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", c.target)
		if err != nil {
			client.Close()
			continue
		}
		go func() {
			io.Copy(server, client)
			server.Close()
		}()
		go c.answers(client, server)
	}
}

// answers relays the server's answers to the client, watching for the
// CommandComplete of a COMMIT (its tag, "COMMIT" and a NUL).
func (c *commitCutter) answers(client, server net.Conn) {
	defer client.Close()
	defer server.Close()
	tag := []byte("COMMIT\x00")
	buf := make([]byte, 64<<10)
	var tail []byte // the end of the previous read, for a tag split between two
	for {
		n, err := server.Read(buf)
		if n > 0 {
			seen := append(tail, buf[:n]...)
			if bytes.Contains(seen, tag) && c.armed.CompareAndSwap(true, false) {
				close(c.cut)
				return
			}
			tail = append(tail[:0], seen[max(0, len(seen)-len(tag)):]...)
			if _, err := client.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestPostgresCommitWithItsAnswerLostIsAnnounced: a batch whose COMMIT reached
// the server but whose answer was lost is answered 503, yet committed; the
// other nodes must still hear of its accounts, or serve their old balance
// until they next change (store/postgres/batch.go, mayHaveCommitted).
func TestPostgresCommitWithItsAnswerLostIsAnnounced(t *testing.T) {
	u := FreshSchema(t)
	cutter, through := newCommitCutter(t, u)
	a := start(t, postgresAt(t, through), newClock(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)))
	id := a.account("Cut", "EUR")
	a.must(engine.TopUp{AccountID: id, Amount: ledger.MustParseAmount("5")})

	b := postgresAt(t, u)() // another node, on the server directly
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var heard []string
	resynced := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Follow(ctx, ledger.ChangeHandlers{
			Accounts: func(ids []string) error {
				mu.Lock()
				heard = append(heard, ids...)
				mu.Unlock()
				return nil
			},
			Credentials: func() {}, Token: func() {}, Lost: func() {},
			Reload: func(context.Context) error { return nil },
			Resynced: func() {
				select {
				case resynced <- struct{}{}:
				default:
				}
			},
		}, slog.New(slog.DiscardHandler))
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-resynced:
	case <-time.After(10 * time.Second):
		t.Fatal("the other node's feed never reported its caches current")
	}
	mu.Lock()
	heard = nil
	mu.Unlock()

	cutter.armed.Store(true)
	if _, err := a.do(engine.TopUp{AccountID: id, Amount: ledger.MustParseAmount("2")}); !errors.Is(err, ledger.ErrUnavailable) {
		t.Fatalf("the top-up whose COMMIT answer was cut: %v, want unavailable (its fate unknown)", err)
	}
	select {
	case <-cutter.cut:
	default:
		t.Fatal("the top-up failed before its COMMIT was answered: nothing was cut")
	}
	accts, err := b.AccountsByID(context.Background(), []string{id})
	if err != nil || len(accts) != 1 || accts[0].Balance != ledger.MustParseAmount("7") {
		t.Fatalf("the account after the cut: %+v (%v), want a balance of 7: the COMMIT applied", accts, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		ok := slices.Contains(heard, id)
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other node never heard of the account a batch committed with its answer lost")
		}
	}
}
