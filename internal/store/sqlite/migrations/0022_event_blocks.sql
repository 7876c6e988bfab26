-- Events are stored in blocks (events.go): one row per engine batch, holding the
-- batch's events, consecutive sequences first_seq..last_seq, in codec's event
-- block format. A row and an index entry per event cost the writer more than the
-- entries themselves (a batch of 1,000 charges wrote 1,000 event rows and 1,000
-- events_by_account entries); a block is one row. Readers decode blocks and
-- filter in Go: a consumer's cursor moves to the head past what it does not want,
-- so a filtered read scans only the events committed since its last read.
-- at is the newest event's time: retention prunes a block once all of it is old.
-- The events table of migration 0014 is converted by the store right after this
-- migration (convertEvents: the encoding is binary) and then dropped, so no
-- undelivered event is lost on upgrade.
CREATE TABLE event_blocks (
    first_seq INTEGER PRIMARY KEY,
    last_seq  INTEGER NOT NULL CHECK (last_seq >= first_seq),
    at        INTEGER NOT NULL,
    data      BLOB NOT NULL
) STRICT;
