package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/purse-ledger/purse/client"
)

// emulatorCommands are the rows for a purse serve --emulator: fault rules and
// the reset (docs/emulator.md). Against a purse without --emulator they fail
// with the server's 404.
func emulatorCommands() []Command {
	return []Command{
		{Name: "faults add", Args: "ACTION", Summary: "make matching requests fail: delay, error, reset, cut or slow", Admin: true,
			Help: "ACTION is delay (wait, then serve), error (answer --status in Infobip's error envelope), reset\n" +
				"(reset the connection), cut (serve, then send part of the body and close) or slow (serve, the body\n" +
				"--chunk-bytes at a time, --delay apart). error and reset never reach the ledger; cut and slow do.\n" +
				"Empty match flags match anything. Examples:\n" +
				"  purse faults add error --status 503 --route /account/1/balance --times 3\n" +
				"  purse faults add reset --credential Aladdin --probability 0.2 --seed 7 --ttl 5m",
			Flags: declare(faultFlags), Call: faultsAdd, Print: text(printFault), ID: id(func(f client.Fault) string { return f.ID })},
		{Name: "faults list", Summary: "show the fault rules in force", Admin: true,
			Call:  func(ctx context.Context, x *Inv) (any, error) { return x.Client.ListFaults(ctx) },
			Print: text(printFaults)},
		{Name: "faults clear", Args: "[RULE_ID]", Summary: "end one fault rule, or all of them", Admin: true,
			Call: func(ctx context.Context, x *Inv) (any, error) {
				if x.Arg(0) != "" {
					return map[string]int{"removed": 1}, x.Client.RemoveFault(ctx, x.Arg(0))
				}
				n, err := x.Client.ClearFaults(ctx)
				return map[string]int{"removed": n}, err
			},
			Print: text(func(w io.Writer, m map[string]int) { tprintf(w, "%d fault rule(s) removed\n", m["removed"]) })},
		{Name: "reset", Summary: "put an emulator's store back to its seed and end every fault rule", Admin: true,
			Help: "Only on purse serve --emulator: every account, credential and movement made since the start goes;\nthe --seed file (if any) is applied again.",
			Call: func(ctx context.Context, x *Inv) (any, error) {
				return map[string]bool{"reset": true}, x.Client.Reset(ctx)
			},
			Print: text(func(w io.Writer, _ map[string]bool) { fmt.Fprintln(w, "store reset to its seed; fault rules cleared") })},
	}
}

func faultFlags(fs *flag.FlagSet) {
	fs.String("listener", "", "match: public or admin (default both)")
	fs.String("route", "", "match: a path pattern such as /account/1/balance or /v1/accounts/{id}/charges; a trailing / matches below it")
	fs.String("method", "", "match: an HTTP method")
	fs.String("account", "", "match: the account the request acts on")
	fs.String("credential", "", "match: a Basic username, API key id or OAuth2 client id")
	fs.String("delay", "", "delay: how long (250ms, 2s); slow: the pause between chunks (default 100ms)")
	fs.String("jitter", "", "delay: a random extra wait up to this")
	fs.Int("status", 0, "error: the status, 400-599 (default 500)")
	fs.String("message-id", "", "error: the envelope's messageId (default follows the status)")
	fs.String("text", "", "error: the envelope's text (default follows the status)")
	fs.Int("retry-after", 0, "error: Retry-After in seconds (default 1 with 429 and 503)")
	fs.Int("cut-after", 0, "cut: body bytes sent before the close (default half the body)")
	fs.Int("chunk-bytes", 0, "slow: bytes per chunk (default 1)")
	fs.String("probability", "", "the chance a matching request is faulted, 0 to 1 (default 1)")
	fs.String("seed", "", "seed of the probability's draws, for a repeatable run (default random, shown)")
	fs.Int("times", 0, "fault only the next N matching requests (default no limit)")
	fs.String("ttl", "", "the rule ends after this long (default 10m, at most 24h)")
}

func faultsAdd(ctx context.Context, x *Inv) (any, error) {
	spec := client.FaultSpec{Action: x.Arg(0),
		Listener: x.Str("listener"), Route: x.Str("route"), Method: x.Str("method"), Account: x.Str("account"), Credential: x.Str("credential"),
		Delay: x.Str("delay"), Jitter: x.Str("jitter"), Status: x.Int("status"), MessageID: x.Str("message-id"), Text: x.Str("text"),
		RetryAfter: x.Int("retry-after"), CutAfter: x.Int("cut-after"), ChunkBytes: x.Int("chunk-bytes"), Times: x.Int("times"), TTL: x.Str("ttl")}
	if v := x.Str("probability"); v != "" {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, Usagef("--probability %q: want a number from 0 to 1, such as 0.25", v)
		}
		spec.Probability = &p
	}
	if v := x.Str("seed"); v != "" {
		s, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, Usagef("--seed %q: want a whole number", v)
		}
		spec.Seed = &s
	}
	return x.Client.AddFault(ctx, spec)
}

// faultMatch is a rule's match fields as one line: "public GET /account/1/balance credential=Aladdin".
func faultMatch(f client.Fault) string {
	var parts []string
	for _, p := range [][2]string{{"", f.Listener}, {"", f.Method}, {"", f.Route}, {"account=", f.Account}, {"credential=", f.Credential}} {
		if p[1] != "" {
			parts = append(parts, p[0]+p[1])
		}
	}
	if len(parts) == 0 {
		return "every request"
	}
	return strings.Join(parts, " ")
}

// faultAction is a rule's action with its settings: "error 503 retry-after=1".
func faultAction(f client.Fault) string {
	switch f.Action {
	case "delay":
		if f.Jitter != "" {
			return "delay " + f.Delay + "+" + f.Jitter
		}
		return "delay " + f.Delay
	case "error":
		s := fmt.Sprintf("error %d %s", f.Status, f.MessageID)
		if f.RetryAfter > 0 {
			s += fmt.Sprintf(" retry-after=%d", f.RetryAfter)
		}
		return s
	case "cut":
		if f.CutAfter > 0 {
			return fmt.Sprintf("cut after %d bytes", f.CutAfter)
		}
		return "cut at half the body"
	case "slow":
		return fmt.Sprintf("slow %d bytes every %s", f.ChunkBytes, f.Delay)
	}
	return f.Action
}

func faultFrequency(f client.Fault) string {
	s := "always"
	if f.Probability != nil && *f.Probability < 1 {
		s = fmt.Sprintf("p=%g", *f.Probability)
	}
	if f.Seed != nil {
		s += fmt.Sprintf(" seed=%d", *f.Seed)
	}
	if f.Remaining != nil {
		s += fmt.Sprintf(" %d left", *f.Remaining)
	}
	return s
}

func printFault(w io.Writer, f client.Fault) {
	tprintf(w, "id\t%s\nmatch\t%s\naction\t%s\nfrequency\t%s\nfired\t%d\nexpires\t%s\n",
		f.ID, faultMatch(f), faultAction(f), faultFrequency(f), f.Fired, f.ExpiresAt)
}

func printFaults(w io.Writer, faults []client.Fault) {
	fmt.Fprintln(w, "ID\tMATCH\tACTION\tFREQUENCY\tFIRED\tEXPIRES")
	for _, f := range faults {
		tprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", f.ID, faultMatch(f), faultAction(f), faultFrequency(f), f.Fired, f.ExpiresAt)
	}
}
