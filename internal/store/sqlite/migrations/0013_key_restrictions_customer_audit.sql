-- API keys as customers manage them (Infobip's /settings/2/api-keys): the
-- addresses and CIDR ranges a key may be used from (space-separated prefixes;
-- empty: any), its validity window (microseconds; NULL: no bound) and whether it
-- is enabled. Existing keys get no restriction and stay enabled, so they keep
-- working after the upgrade.
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN valid_from INTEGER;
ALTER TABLE api_keys ADD COLUMN valid_to INTEGER;
ALTER TABLE api_keys ADD COLUMN enabled INTEGER NOT NULL DEFAULT 1;

-- IBSSO sessions bound to the address that made them unless created "unsafe".
-- Sessions made before the binding existed had no address to bind to: they stay
-- usable from anywhere until they end (an hour idle at most).
ALTER TABLE sessions ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN unsafe INTEGER NOT NULL DEFAULT 1;

-- The customers' audit log (Infobip's /audit/1/logs), apart from the operator's
-- audit table: a customer reads the records of its account and of its
-- sub-accounts (main_account_id), never the operator's. Append-only.
CREATE TABLE customer_audit (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    at              INTEGER NOT NULL,
    account_id      TEXT NOT NULL,
    main_account_id TEXT NOT NULL,
    action          TEXT NOT NULL,
    item            TEXT NOT NULL,
    description     TEXT NOT NULL,
    username        TEXT NOT NULL,
    ip_address      TEXT NOT NULL
) STRICT;

CREATE INDEX customer_audit_by_account ON customer_audit (account_id, at);
CREATE INDEX customer_audit_by_main ON customer_audit (main_account_id, at);

CREATE TRIGGER customer_audit_no_update BEFORE UPDATE ON customer_audit
BEGIN SELECT RAISE(ABORT, 'the customer audit log is append-only'); END;
CREATE TRIGGER customer_audit_no_delete BEFORE DELETE ON customer_audit
BEGIN SELECT RAISE(ABORT, 'the customer audit log is append-only'); END;
