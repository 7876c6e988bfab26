package pursetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/purse-ledger/purse/internal/store/sqlite"
)

// template is an empty store with every migration applied, made once per process:
// each migration commits (and fsyncs) on its own, so migrating every Server's store
// would cost most of a start.
var template struct {
	once sync.Once
	db   []byte // the store file's bytes; nil: each Server's store migrates itself
	err  error
}

// copyTemplate writes the migrated empty store to path (mode 0600, as purse's own
// files are). Without a template purse migrates the new file as it always does,
// only slower, so a template that cannot be made is no error.
func copyTemplate(path string) error {
	template.once.Do(func() { template.db, template.err = migrated() })
	if template.db == nil {
		return nil
	}
	return os.WriteFile(path, template.db, 0o600)
}

// migrated opens a new store in a temporary directory, which applies the schema,
// closes it, and returns its file. The store must be whole in that file: SQLite
// folds its write-ahead log into it when the last connection closes, and a log
// left beside it would mean the file alone is not the store.
//
// The directory is in memory where the system has one (/dev/shm): the template is
// read back at once and deleted, so its commits need not wait for a disk, and on a
// busy disk a dozen fsyncs took most of a test binary's first start.
func migrated() ([]byte, error) {
	dir, err := os.MkdirTemp("/dev/shm", "pursetest-template-")
	if err != nil { // no /dev/shm (macOS, Windows), or not ours to write
		if dir, err = os.MkdirTemp("", "pursetest-template-"); err != nil {
			return nil, err
		}
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "purse.db")
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, errors.New("the template store left a write-ahead log")
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("template store: %w", err)
	}
	return os.ReadFile(path)
}
