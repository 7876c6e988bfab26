package cli

import (
	"errors"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func runtimeOSArch() string { return runtime.GOOS + "/" + runtime.GOARCH }

// TestHelpNamesArguments: the help a new user asks for names the positional
// arguments and exits 0, whichever way it is asked; a group's help lists its
// subcommands with theirs.
func TestHelpNamesArguments(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"refund", "-h"}, []string{"Usage: purse refund ACCOUNT CHARGE_ID [AMOUNT] [flags]", "--idempotency-key"}},
		{[]string{"help", "refund"}, []string{"purse refund ACCOUNT CHARGE_ID [AMOUNT]"}},
		{[]string{"refund", "--help"}, []string{"purse refund ACCOUNT CHARGE_ID [AMOUNT]"}},
		{[]string{"help", "serve"}, []string{"Usage: purse serve [flags]", "--demo"}},
		{[]string{"accounts", "-h"}, []string{"purse accounts get ACCOUNT [flags]", "purse accounts update ACCOUNT [flags]"}},
		{[]string{"help", "accounts"}, []string{"purse accounts create [flags]"}},
		{[]string{"hold", "capture", "-h"}, []string{"purse hold capture HOLD_ID [AMOUNT] [flags]"}},
		{[]string{"top-up", "acc_1", "-h"}, []string{"purse top-up ACCOUNT AMOUNT [flags]"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, err := run(t, tt.args...)
			if err != nil || errOut != "" {
				t.Fatalf("%v, stderr %q", err, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("no %q in\n%s", w, out)
				}
			}
		})
	}
}

// TestOfflineCommandsShowOnlyTheirFlags: check, migrate and the resets open the
// store themselves; the admin API's connection flags are not theirs.
func TestOfflineCommandsShowOnlyTheirFlags(t *testing.T) {
	for _, c := range offlineCommands() {
		t.Run(c.Name, func(t *testing.T) {
			out, _, err := run(t, append(strings.Fields(c.Name), "-h")...)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"--admin-url", "--admin-token ", "--tls-ca", "Admin API flags"} {
				if strings.Contains(out, f) {
					t.Errorf("%s in\n%s", f, out)
				}
			}
			if _, _, err := run(t, append(strings.Fields(c.Name), "--admin-url", "http://x")...); err == nil || !strings.Contains(err.Error(), "admin-url") {
				t.Errorf("--admin-url accepted: %v", err)
			}
		})
	}
	out, _, _ := run(t, "check", "-h")
	if !strings.Contains(out, "the store to check") {
		t.Errorf("check's --db does not say it is the store checked:\n%s", out)
	}
}

// TestUsageMistakes: a mistake is a UsageError (status 2) that says what was
// wanted, and an AMOUNT that is not a number is refused before anything is sent,
// in the argument's own words.
func TestUsageMistakes(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"refund", "acc_1"}, "refund wants ACCOUNT CHARGE_ID [AMOUNT], got 1 argument(s)"},
		{[]string{"top-up", "acc_1", "ten"}, `AMOUNT "ten": must be a decimal number such as 12.345`},
		{[]string{"top-up", "acc_1", "1.0000001"}, `AMOUNT "1.0000001": has more than 6 decimal places`},
		{[]string{"accounts"}, "accounts needs a subcommand"},
		{[]string{"accounts", "delete"}, `unknown command "accounts delete"`},
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"top-up", "--nope"}, "flag provided but not defined: -nope"},
		{[]string{"help", "nope"}, `no command "nope"`},
		{[]string{"completion"}, "bash|zsh"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, _, err := run(t, tt.args...)
			var u UsageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a usage error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "amount amount") {
				t.Errorf("amount amount: %v", err)
			}
		})
	}
}

// TestBashCompletion sources the generated script in bash and asks it what it
// offers, as bash does on a tab: COMP_WORDS and COMP_CWORD set, _purse called.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script, _, err := run(t, "completion", "bash")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		words string // the command line so far; the last word is completed
		want  []string
		not   []string
	}{
		{"purse ", []string{"accounts", "serve", "top-up", "check", "help", "version", "completion"}, []string{"create"}},
		{"purse ac", []string{"accounts"}, []string{"audit", "adjust"}},
		{"purse accounts ", []string{"create", "get", "list", "update"}, []string{"accounts"}},
		{"purse accounts create -", []string{"--name", "--currency", "-q", "--json", "--admin-url"}, []string{"--reason"}},
		{"purse top-up acc_1 10 --re", []string{"--reference"}, []string{"--reason"}},
		{"purse check --", []string{"--db", "--json"}, []string{"--admin-url"}},
		{"purse help ", []string{"accounts", "refund"}, nil},
		{"purse completion ", []string{"bash", "zsh"}, nil},
		{"purse serve --d", []string{"--db", "--demo"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.words, func(t *testing.T) {
			words := strings.Split(tt.words, " ")
			quoted := make([]string, len(words))
			for i, w := range words {
				quoted[i] = "'" + w + "'"
			}
			prog := script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) +
				"\n_purse\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
			out, err := exec.Command(bash, "--norc", "--noprofile", "-c", prog).CombinedOutput()
			if err != nil {
				t.Fatalf("bash: %v\n%s", err, out)
			}
			got := map[string]bool{}
			for _, w := range strings.Fields(string(out)) {
				got[w] = true
			}
			for _, w := range tt.want {
				if !got[w] {
					t.Errorf("%q not offered; offered %q", w, out)
				}
			}
			for _, w := range tt.not {
				if got[w] {
					t.Errorf("%q offered", w)
				}
			}
		})
	}
}
