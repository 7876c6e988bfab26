package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/purse-ledger/purse/client"
)

// The ledger's management commands: charges, refunds, adjustments, holds, history
// and the offline check.

func printEntry(w io.Writer, e client.Entry) {
	tprintf(w, "%s\t%s\t%s\tbalance %s", e.ID, e.Kind, e.Amount, e.BalanceAfter)
	if e.FreeMessage {
		fmt.Fprint(w, "\t(free message)")
	}
	if e.ChargeID != "" {
		tprintf(w, "\tcharge %s", e.ChargeID)
	}
	if e.HoldID != "" {
		tprintf(w, "\thold %s", e.HoldID)
	}
	fmt.Fprintln(w)
}

func printHold(w io.Writer, h client.Hold) {
	tprintf(w, "id\t%s\naccount\t%s\namount\t%s\ncaptured\t%s\nstatus\t%s\nexpires\t%s\n", h.ID, h.AccountID, h.Amount, h.Captured, h.Status, h.ExpiresAt)
	if h.ChargeID != "" {
		tprintf(w, "charge\t%s\n", h.ChargeID)
	}
}

type metaFlag map[string]string

func (m metaFlag) String() string { return fmt.Sprint(map[string]string(m)) }
func (m metaFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	m[k] = val
	return nil
}

func (c *cli) charge(ctx context.Context, args []string) error {
	ref := c.fs.String("reference", "", "your reference, such as a message id")
	key := c.fs.String("idempotency-key", "", "makes the charge exactly-once (default: a random key)")
	free := c.fs.Bool("free-message", false, "pay with a free message when the account has one")
	noFallback := c.fs.Bool("no-fallback", false, "with --free-message: fail instead of charging money when none is left")
	service := c.fs.String("service-type", "", "what the charge pays for: SMS (default), VOICE, VIBER, WHATSAPP or EMAIL; free messages are SMS only")
	meta := metaFlag{}
	c.fs.Var(meta, "meta", "metadata key=value; repeat for several")
	pos, cl, err := c.parse(args, 2, "ACCOUNT AMOUNT")
	if err != nil {
		return err
	}
	opts := client.ChargeOptions{Reference: *ref, UseFreeMessage: *free, NoFallback: *noFallback, ServiceType: *service, IdempotencyKey: *key}
	if len(meta) > 0 {
		opts.Metadata = meta
	}
	e, err := cl.Charge(ctx, pos[0], pos[1], opts)
	if err != nil {
		return err
	}
	return c.print(e, func(w io.Writer) { printEntry(w, e) })
}

func (c *cli) refund(ctx context.Context, args []string) error {
	key := c.fs.String("idempotency-key", "", "makes the refund exactly-once (default: a random key)")
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 && len(pos) != 3 {
		return usagef("want ACCOUNT CHARGE_ID [AMOUNT], got %d argument(s)", len(pos))
	}
	amount := ""
	if len(pos) == 3 {
		amount = pos[2]
	}
	cl, err := c.admin()
	if err != nil {
		return err
	}
	e, err := cl.Refund(ctx, pos[0], pos[1], amount, *key)
	if err != nil {
		return err
	}
	return c.print(e, func(w io.Writer) { printEntry(w, e) })
}

func (c *cli) adjust(ctx context.Context, args []string) error {
	reason := c.fs.String("reason", "", "why (required; kept on the entry)")
	key := c.fs.String("idempotency-key", "", "makes the adjustment exactly-once (default: a random key)")
	pos, cl, err := c.parse(args, 2, "ACCOUNT AMOUNT")
	if err != nil {
		return err
	}
	e, err := cl.Adjust(ctx, pos[0], pos[1], *reason, *key)
	if err != nil {
		return err
	}
	return c.print(e, func(w io.Writer) { printEntry(w, e) })
}

func (c *cli) holdCreate(ctx context.Context, args []string) error {
	ttl := c.fs.Duration("expires-in", 10*time.Minute, "how long the hold lasts unless captured or voided")
	ref := c.fs.String("reference", "", "your reference")
	key := c.fs.String("idempotency-key", "", "makes the hold exactly-once (default: a random key)")
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return err
	}
	if err := need(pos, 2, "ACCOUNT AMOUNT"); err != nil {
		return err
	}
	if *ttl < time.Second || *ttl%time.Second != 0 {
		return usagef("--expires-in must be whole seconds, at least 1s")
	}
	cl, err := c.admin()
	if err != nil {
		return err
	}
	h, err := cl.CreateHold(ctx, pos[0], pos[1], *ttl, *ref, *key)
	if err != nil {
		return err
	}
	return c.print(h, func(w io.Writer) { printHold(w, h) })
}

func (c *cli) holdCapture(ctx context.Context, args []string) error {
	key := c.fs.String("idempotency-key", "", "makes the capture exactly-once (default: a random key)")
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 && len(pos) != 2 {
		return usagef("want HOLD_ID [AMOUNT], got %d argument(s)", len(pos))
	}
	amount := ""
	if len(pos) == 2 {
		amount = pos[1]
	}
	cl, err := c.admin()
	if err != nil {
		return err
	}
	res, err := cl.CaptureHold(ctx, pos[0], amount, *key)
	if err != nil {
		return err
	}
	return c.print(res, func(w io.Writer) { printHold(w, res.Hold); printEntry(w, res.Entry) })
}

func (c *cli) holdVoid(ctx context.Context, args []string) error {
	key := c.fs.String("idempotency-key", "", "makes the void exactly-once (default: a random key)")
	pos, cl, err := c.parse(args, 1, "HOLD_ID")
	if err != nil {
		return err
	}
	h, err := cl.VoidHold(ctx, pos[0], *key)
	if err != nil {
		return err
	}
	return c.print(h, func(w io.Writer) { printHold(w, h) })
}

func (c *cli) holdGet(ctx context.Context, args []string) error {
	pos, cl, err := c.parse(args, 1, "HOLD_ID")
	if err != nil {
		return err
	}
	h, err := cl.GetHold(ctx, pos[0])
	if err != nil {
		return err
	}
	return c.print(h, func(w io.Writer) { printHold(w, h) })
}

func (c *cli) entries(ctx context.Context, args []string) error {
	limit := c.fs.Int("limit", 0, "entries per page (default 50)")
	cursor := c.fs.String("cursor", "", "cursor from a previous page")
	from := c.fs.String("from", "", "only entries at or after this RFC 3339 time")
	to := c.fs.String("to", "", "only entries before this RFC 3339 time")
	kind := c.fs.String("kind", "", "only this kind: top_up, charge, capture, refund, adjustment")
	all := c.fs.Bool("all", false, "follow cursors to the oldest entry")
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return err
	}
	if err := need(pos, 1, "ACCOUNT"); err != nil {
		return err
	}
	q := client.EntryQuery{Limit: *limit, Cursor: *cursor, Kind: *kind}
	for _, p := range []struct {
		flag, v string
		dst     *time.Time
	}{{"--from", *from, &q.From}, {"--to", *to, &q.To}} {
		if p.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, p.v)
		if err != nil {
			return usagef("%s %q: want an RFC 3339 time", p.flag, p.v)
		}
		*p.dst = t
	}
	cl, err := c.admin()
	if err != nil {
		return err
	}
	page, err := cl.Entries(ctx, pos[0], q)
	if err != nil {
		return err
	}
	for *all && page.NextCursor != "" {
		q.Cursor = page.NextCursor
		next, err := cl.Entries(ctx, pos[0], q)
		if err != nil {
			return err
		}
		page.Entries, page.NextCursor = append(page.Entries, next.Entries...), next.NextCursor
	}
	return c.print(page, func(w io.Writer) {
		fmt.Fprintln(w, "SEQ\tTIME\tKIND\tAMOUNT\tBALANCE\tREFERENCE\tID")
		for _, e := range page.Entries {
			tprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Sequence, e.CreatedAt, e.Kind, e.Amount, e.BalanceAfter, e.Reference, e.ID)
		}
		if page.NextCursor != "" {
			tprintf(w, "next page: --cursor %s\n", page.NextCursor)
		}
	})
}

func (c *cli) batch(ctx context.Context, args []string) error {
	atomic := c.fs.Bool("atomic", false, "apply every operation or none")
	key := c.fs.String("idempotency-key", "", "makes the batch exactly-once (default: a random key)")
	pos, err := parseInterleaved(c.fs, args)
	if err != nil {
		return err
	}
	if err := need(pos, 1, "FILE (a JSON array of operations, or - for stdin)"); err != nil {
		return err
	}
	var raw []byte
	if pos[0] == "-" {
		raw, err = io.ReadAll(c.e.stdin)
	} else {
		raw, err = os.ReadFile(pos[0])
	}
	if err != nil {
		return err
	}
	var ops []client.BatchOp
	if err := json.Unmarshal(raw, &ops); err != nil {
		return usagef("%s: want a JSON array of operations: %v", pos[0], err)
	}
	cl, err := c.admin()
	if err != nil {
		return err
	}
	res, err := cl.Batch(ctx, *atomic, ops, *key)
	if err != nil {
		return err
	}
	return c.print(res, func(w io.Writer) {
		ok := 0
		for i, r := range res.Results {
			switch {
			case r.Error != nil:
				tprintf(w, "%d\t%d\t%s\t%s\n", i, r.Status, r.Error.MessageID, r.Error.Text)
			case r.Entry != nil:
				ok++
				tprintf(w, "%d\t%d\t%s\t%s\tbalance %s\n", i, r.Status, r.Entry.Kind, r.Entry.Amount, r.Entry.BalanceAfter)
			case r.Hold != nil:
				ok++
				tprintf(w, "%d\t%d\thold %s\t%s\n", i, r.Status, r.Hold.ID, r.Hold.Status)
			}
		}
		tprintf(w, "%d of %d applied; committed: %v\n", ok, len(res.Results), res.Committed)
	})
}

func (c *cli) audit(ctx context.Context, args []string) error {
	limit := c.fs.Int("limit", 0, "records per page (default 50)")
	cursor := c.fs.String("cursor", "", "cursor from a previous page")
	all := c.fs.Bool("all", false, "follow cursors to the oldest record")
	_, cl, err := c.parse(args, 0, "no arguments")
	if err != nil {
		return err
	}
	page, err := cl.Audit(ctx, *cursor, *limit)
	if err != nil {
		return err
	}
	for *all && page.NextCursor != "" {
		next, err := cl.Audit(ctx, page.NextCursor, *limit)
		if err != nil {
			return err
		}
		page.Records, page.NextCursor = append(page.Records, next.Records...), next.NextCursor
	}
	return c.print(page, func(w io.Writer) {
		fmt.Fprintln(w, "SEQ\tTIME\tACTOR\tACTION\tTARGET\tFROM\tSTATUS")
		for _, r := range page.Records {
			tprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%d\n", r.Sequence, r.At, r.Actor, r.Action, r.Target, r.Remote, r.Status)
		}
		if page.NextCursor != "" {
			tprintf(w, "next page: --cursor %s\n", page.NextCursor)
		}
	})
}
