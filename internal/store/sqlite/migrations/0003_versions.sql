-- Account versions let a cache keep only the newest state of an account.
ALTER TABLE accounts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
