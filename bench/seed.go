package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/argon2"

	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// benchPassword and benchHash: seeded users share one argon2id hash with small
// parameters (64 KiB, 1 pass), so that verifying 10,000 credentials once during
// warm-up takes a second, not minutes. The targets measure reads served from the
// credential cache; purse's own hashes use 19 MiB and 2 passes.
const benchPassword = "bench-password"

func benchHash() string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(benchPassword), salt, 1, 64, 1, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=64,t=1,p=1$%s$%s", argon2.Version, enc.EncodeToString(salt), enc.EncodeToString(key))
}

func basicOf(user string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+benchPassword))
}

// seedSpread makes n accounts, each with its own Basic user, and returns one
// balance request per user.
func seedSpread(bin, path string, n int) ([][]byte, error) {
	p, err := startPurse(bin, path)
	if err != nil {
		return nil, err
	}
	ids := make([]string, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 32 {
				var a struct{ ID string }
				if err := p.call("POST", "/v1/accounts", `{"name":"s","currency":"EUR"}`, "", &a); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				ids[i] = a.ID
			}
		}()
	}
	wg.Wait()
	p.stop()
	if firstErr != nil {
		return nil, firstErr
	}
	db, err := openDB(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return nil, err
	}
	hash := benchHash()
	reqs := make([][]byte, n)
	for i, id := range ids {
		user := "u" + strconv.Itoa(i)
		if _, err := tx.Exec(`INSERT INTO users (username, account_id, password_hash, created_at) VALUES (?, ?, ?, ?)`, user, id, hash, time.Now().UnixMicro()); err != nil {
			tx.Rollback()
			return nil, err
		}
		reqs[i] = []byte("GET /account/1/balance HTTP/1.1\r\nHost: bench\r\nAuthorization: " + basicOf(user) + "\r\nAccept: application/json\r\n\r\n")
	}
	return reqs, tx.Commit()
}

// pgTargets measures reads and charges on PostgreSQL, and a naive ledger (one
// transaction per charge) driven by pgbench on the same server.
func pgTargets(bin string) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, *pgURL)
	if err != nil {
		return err
	}
	schema := fmt.Sprintf("purse_bench_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return err
	}
	defer func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	}()
	sep := "?"
	if strings.Contains(*pgURL, "?") {
		sep = "&"
	}
	url := *pgURL + sep + "search_path=" + schema
	p, err := startPurse(bin, url, "--demo")
	if err != nil {
		return err
	}
	defer p.stop()
	read, refRead := pair(p.public, get("/account/1/balance", docAuth))
	add(row{name: "1c. balance reads, PostgreSQL (req/s)", measured: read.rps(), ref: refRead.rps(), unit: "req/s", want: 0.40})

	acc := p.account("pg-hot")
	p.topUp(acc, "1000000000")
	before := p.engineStats()
	charges := measure(p.admin, post("/v1/accounts/"+acc+"/charges", token, `{"amount":"0.000001"}`, "pg"), 0)
	pgStats := p.engineStats().since(before)

	if _, err := conn.Exec(ctx, `SET search_path = `+schema+`;
		CREATE TABLE naive_accounts (id int PRIMARY KEY, balance bigint NOT NULL);
		CREATE TABLE naive_entries (id bigserial PRIMARY KEY, account_id int NOT NULL, amount bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
		INSERT INTO naive_accounts VALUES (1, 1000000000000000)`); err != nil {
		return err
	}
	script := filepath.Join(os.TempDir(), "purse-naive.sql")
	os.WriteFile(script, []byte(`BEGIN;
UPDATE naive_accounts SET balance = balance - 1 WHERE id = 1 AND balance >= 1;
INSERT INTO naive_entries (account_id, amount) VALUES (1, -1);
COMMIT;
`), 0o644)
	cfg := conn.Config()
	cmd := exec.Command("pgbench", "-n", "-c", strconv.Itoa(*conns), "-j", "2", "-T", strconv.Itoa(int(dur.Seconds())), "-f", script,
		"-h", cfg.Host, "-p", strconv.Itoa(int(cfg.Port)), "-U", cfg.User, cfg.Database)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgbench: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		return fmt.Errorf("pgbench output: %s", out)
	}
	naive, _ := strconv.ParseFloat(string(m[1]), 64)
	add(row{name: "2b. hot-account charges, PostgreSQL vs naive ledger (pgbench)", measured: charges.rps(), ref: naive, unit: "charges/s", want: 10, note: statuses(charges) + pgStats})
	return nil
}

// scaleTargets seeds a store of a million accounts and ten million entries and
// measures start-up, memory, and read and charge throughput against the small
// store at smallPath (whose hot account is smallAcc).
func scaleTargets(bin, dir, smallPath, smallAcc string) error {
	path := filepath.Join(dir, "scale.db")
	p, err := startPurse(bin, path) // creates the schema
	if err != nil {
		return err
	}
	p.stop()
	fmt.Println("seeding 1,000,000 accounts and 10,000,000 entries ...")
	t0 := time.Now()
	db, err := openDB(path)
	if err != nil {
		return err
	}
	now := time.Now().UnixMicro()
	month := time.Now().UTC().Year()*100 + int(time.Now().UTC().Month())
	for _, q := range []string{
		`INSERT INTO accounts (id, kind, name, currency, status, balance, seq, created_at, updated_at, spent_month, version)
		 VALUES ('sys_funding_EUR', 'funding', 'platform funding EUR', 'EUR', 'active', -10000000000000, 10000000, ?1, ?1, 0, 1),
		        ('sys_revenue_EUR', 'revenue', 'platform revenue EUR', 'EUR', 'active', 0, 0, ?1, ?1, 0, 1)`,
		`WITH RECURSIVE c(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM c WHERE x < 999999)
		 INSERT INTO accounts (id, kind, name, currency, status, balance, seq, created_at, updated_at, spent_month, version)
		 SELECT printf('acc_%07d', x), 'customer', 'scale', 'EUR', 'active', 10000000, x * 10 + 10, ?1, ?1, ?2, 1 FROM c`,
		// Entries go into a table of the pre-block layout, which the store converts
		// into blocks when it next opens the file (below, before purse starts).
		`CREATE TABLE entries (seq INTEGER PRIMARY KEY, movement_id TEXT NOT NULL, account_id TEXT NOT NULL, kind TEXT NOT NULL,
		 amount INTEGER NOT NULL, balance_after INTEGER NOT NULL, reference TEXT NOT NULL, idempotency_key TEXT NOT NULL,
		 created_at INTEGER NOT NULL, metadata TEXT NOT NULL DEFAULT '', related_id TEXT NOT NULL DEFAULT '', free_message INTEGER NOT NULL DEFAULT 0)`,
		`WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10000000)
		 INSERT INTO entries (seq, movement_id, account_id, kind, amount, balance_after, reference, idempotency_key, created_at)
		 SELECT x, 'mov_' || x, printf('acc_%07d', (x - 1) / 10), 'top_up', 1000000, ((x - 1) % 10 + 1) * 1000000, '', '', ?1 FROM c`,
	} {
		if _, err := db.Exec(q, now, month); err != nil {
			db.Close()
			return fmt.Errorf("seed: %w", err)
		}
	}
	if _, err := db.Exec(`INSERT INTO users (username, account_id, password_hash, created_at) VALUES ('scale', 'acc_0000000', ?, ?)`, benchHash(), now); err != nil {
		db.Close()
		return err
	}
	db.Close()
	st, err := sqlite.Open(context.Background(), path) // converts the entries into blocks
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	st.Close()
	// Seeding wrote gigabytes, and converting ten million entries in this process
	// left a large heap of garbage: let the kernel write back, and this process
	// (the load generator) collect, now rather than during the measurements.
	syscall.Sync()
	runtime.GC()
	debug.FreeOSMemory()
	fmt.Printf("seeded in %v\n", time.Since(t0).Round(time.Second))

	p, err = startPurse(bin, path)
	if err != nil {
		return err
	}
	defer p.stop()
	add(row{name: "5a. start-up with 1M accounts, 10M entries (s)", measured: p.started.Seconds(), unit: "s", want: 5, absolute: true, atMost: true})
	rss := p.rssMiB()
	// 5c and 5d compare the large store with the small one measured alternately
	// now, best of two each, not with targets 1 and 2 of minutes ago: this
	// machine's speed drifts from one minute to the next.
	sp, err := startPurse(bin, smallPath, "--demo")
	if err != nil {
		return err
	}
	defer sp.stop()
	auth := basicOf("scale")
	var read, smallRead, charges, smallCharges result
	for i := 0; i < 2; i++ {
		if r := measure(p.public, get("/account/1/balance", auth), 0); r.rps() > read.rps() {
			read = r
		}
		if r := measure(sp.public, get("/account/1/balance", docAuth), 0); r.rps() > smallRead.rps() {
			smallRead = r
		}
	}
	add(row{name: "5c. balance reads, large store vs small store (req/s)", measured: read.rps(), ref: smallRead.rps(), unit: "req/s", want: 0.80})
	for i := 0; i < 2; i++ {
		round := strconv.Itoa(i)
		if r := measure(p.admin, post("/v1/accounts/acc_0000000/charges", token, `{"amount":"0.000001"}`, "s"+round+"-"), 0); r.rps() > charges.rps() {
			charges = r
		}
		if r := measure(sp.admin, post("/v1/accounts/"+smallAcc+"/charges", token, `{"amount":"0.000001"}`, "x"+round+"-"), 0); r.rps() > smallCharges.rps() {
			smallCharges = r
		}
	}
	add(row{name: "5d. hot-account charges, large store vs small (charges/s)", measured: charges.rps(), ref: smallCharges.rps(), unit: "charges/s", want: 0.80, note: statuses(charges)})
	if after := p.rssMiB(); after > rss {
		rss = after
	}
	add(row{name: "5b. resident memory with 1M accounts (MiB)", measured: rss, unit: "MiB", want: 1536, absolute: true, atMost: true})
	return nil
}
