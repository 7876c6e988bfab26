package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Checkpoints off the writer's path.
//
// SQLite's own checkpointing (wal_autocheckpoint) runs inside the commit that
// pushes the WAL past 1,000 frames: that commit copies every page in the WAL into
// the database file and syncs both files before it returns. On the engine's
// connection this stalled every request queued behind it for 10-15 ms, every half
// second under a steady charge load (the tail of target 4b in BENCHMARKS.md).
//
// So the writer connection does not checkpoint (wal_autocheckpoint=0), and a
// checkpointer goroutine on a connection of its own does, every checkpointEvery:
// a PASSIVE checkpoint copies the frames committed so far while the writer goes on
// appending. The WAL is restarted (written again from its start, so the writer's
// fdatasync stays an overwrite of blocks already allocated) only by a write that
// begins when every frame has been copied, which under a steady load never
// happens on its own. So once the WAL holds checkpointFrames frames, the
// checkpointer takes the writer's lock for one more PASSIVE checkpoint, which has
// only the frames of the last few milliseconds left to copy; the next batch then
// restarts the WAL. The other connections keep SQLite's automatic checkpoints:
// they write rarely.
const (
	checkpointEvery  = 100 * time.Millisecond
	checkpointFrames = 1000
)

// startCheckpointer starts the checkpointer once; closeWriter stops it.
func (s *Store) startCheckpointer() {
	s.ckptMu.Lock()
	defer s.ckptMu.Unlock()
	if s.ckptStop != nil {
		return
	}
	s.ckptStop, s.ckptDone = make(chan struct{}), make(chan struct{})
	go s.checkpointLoop(s.ckptStop, s.ckptDone)
}

// stopCheckpointer stops the checkpointer, if it runs. The caller must not hold
// s.writeMu or s.writerMu: the checkpointer may be waiting for the first, and an
// engine batch holding it for the second.
func (s *Store) stopCheckpointer() {
	s.ckptMu.Lock()
	defer s.ckptMu.Unlock()
	if s.ckptStop == nil {
		return
	}
	close(s.ckptStop)
	<-s.ckptDone
	s.ckptStop, s.ckptDone = nil, nil
}

func (s *Store) checkpointLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	var conn *sql.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if conn == nil {
			c, err := s.db.Conn(ctx)
			if err != nil {
				cancel()
				continue // the database is closing or broken: the writer will say so
			}
			conn = c
		}
		if err := s.checkpoint(ctx, conn); err != nil {
			conn.Close() // a fresh connection next time
			conn = nil
		}
		cancel()
	}
}

// checkpoint copies the WAL's frames into the database file and, once the WAL
// holds checkpointFrames frames, finishes the copy under the writer's lock so
// that the next batch restarts the WAL.
func (s *Store) checkpoint(ctx context.Context, conn *sql.Conn) error {
	var frames, copied int
	var err error
	// Twice without the lock: the second pass copies what was committed during
	// the first, leaving less for the locked pass.
	for pass := 0; pass < 2; pass++ {
		if frames, copied, err = walCheckpoint(ctx, conn); err != nil {
			return err
		}
		if frames-copied < 64 {
			break
		}
	}
	if frames < checkpointFrames {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	_, _, err = walCheckpoint(ctx, conn)
	return err
}

// walCheckpoint runs one PASSIVE checkpoint: frames is how many frames the WAL
// holds, copied how many of them are in the database file now.
func walCheckpoint(ctx context.Context, conn *sql.Conn) (frames, copied int, err error) {
	var busy int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
		return 0, 0, fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return frames, copied, nil
}
