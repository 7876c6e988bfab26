package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
)

// readBuildInfo is debug.ReadBuildInfo; tests give their own.
var readBuildInfo = debug.ReadBuildInfo

// writeVersion prints purse's version, the commit it was built from and the Go
// that built it, from the build information the go command records: a module
// version for go install purse@v1.2.3, "(devel)" for a build from a checkout
// (whose commit is then recorded, with "modified" when the tree had changes).
func writeVersion(w io.Writer) error {
	version, commit, goVersion := "(devel)", "unknown", runtime.Version()
	var notes []string // the commit's time, and whether the tree had changes
	if bi, ok := readBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		goVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					notes = append(notes, "modified")
				}
			case "vcs.time":
				notes = append([]string{s.Value}, notes...)
			}
		}
	}
	if commit == "unknown" {
		notes = append(notes, "this build recorded none")
	}
	if len(notes) > 0 {
		commit += " (" + strings.Join(notes, ", ") + ")"
	}
	_, err := fmt.Fprintf(w, "purse %s\ncommit %s\ngo     %s %s/%s\n", version, commit, goVersion, runtime.GOOS, runtime.GOARCH)
	return err
}
