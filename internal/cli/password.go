package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	xterm "golang.org/x/term"
)

// readPassword reads the password of users add when no flag or variable gave
// one: on a terminal, a prompt without echo, asked twice so that a typo does not
// become the password; otherwise the first line of stdin, for scripts.
func readPassword(e Env, username string) (string, error) {
	read := e.ReadPassword
	if read == nil {
		if f, ok := e.Stdin.(*os.File); ok && xterm.IsTerminal(int(f.Fd())) {
			read = func() (string, error) {
				b, err := xterm.ReadPassword(int(f.Fd()))
				fmt.Fprintln(e.Stderr) // the newline the user typed was not echoed
				return string(b), err
			}
		}
	}
	if read == nil {
		return firstLine(e.Stdin)
	}
	fmt.Fprintf(e.Stderr, "Password for %s: ", term(username))
	pw, err := read()
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if pw == "" {
		return "", Usagef("no password given")
	}
	fmt.Fprint(e.Stderr, "Again: ")
	again, err := read()
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	if again != pw {
		return "", Usagef("the passwords differ; nothing was changed")
	}
	return pw, nil
}

func firstLine(r io.Reader) (string, error) {
	if r == nil {
		return "", nil
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
