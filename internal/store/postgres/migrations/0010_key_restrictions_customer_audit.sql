-- API keys as customers manage them (Infobip's /settings/2/api-keys): the
-- addresses and CIDR ranges a key may be used from (space-separated prefixes;
-- empty: any), its validity window (microseconds; NULL: no bound) and whether it
-- is enabled. Existing keys get no restriction and stay enabled, so they keep
-- working after the upgrade.
ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN valid_from BIGINT;
ALTER TABLE api_keys ADD COLUMN valid_to BIGINT;
ALTER TABLE api_keys ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT true;

-- IBSSO sessions bound to the address that made them unless created "unsafe".
-- Sessions made before the binding existed stay usable from anywhere until they end.
ALTER TABLE sessions ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN unsafe BOOLEAN NOT NULL DEFAULT true;

-- The customers' audit log (Infobip's /audit/1/logs), apart from the operator's
-- audit table: a customer reads the records of its account and of its
-- sub-accounts (main_account_id), never the operator's. Append-only.
CREATE TABLE customer_audit (
    seq             BIGSERIAL PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    at              BIGINT NOT NULL,
    account_id      TEXT NOT NULL,
    main_account_id TEXT NOT NULL,
    action          TEXT NOT NULL,
    item            TEXT NOT NULL,
    description     TEXT NOT NULL,
    username        TEXT NOT NULL,
    ip_address      TEXT NOT NULL
);

CREATE INDEX customer_audit_by_account ON customer_audit (account_id, at);
CREATE INDEX customer_audit_by_main ON customer_audit (main_account_id, at);

CREATE TRIGGER customer_audit_no_change BEFORE UPDATE OR DELETE ON customer_audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
