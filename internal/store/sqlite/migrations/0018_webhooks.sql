-- Webhook subscriptions and their delivery log (docs/events.md). A subscription
-- keeps its delivery state with it: after_seq is the last event delivered (or not
-- wanted), so delivery resumes there after a restart; lease_owner/lease_until make
-- one deliverer at a time (one node of a shared store). secret signs the
-- deliveries (Standard Webhooks) and is shown to the operator once.
CREATE TABLE subscriptions (
    id              TEXT PRIMARY KEY,
    url             TEXT NOT NULL,
    types           TEXT NOT NULL,     -- comma-separated; '': every type
    account_id      TEXT NOT NULL,     -- '': every account
    with_children   INTEGER NOT NULL,
    secret          TEXT NOT NULL,
    enabled         INTEGER NOT NULL,
    disabled_reason TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    after_seq       INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    failing_since   INTEGER NOT NULL,  -- 0: not failing
    lease_owner     TEXT NOT NULL,
    lease_until     INTEGER NOT NULL
) STRICT;

CREATE TABLE deliveries (
    seq             INTEGER PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_seq       INTEGER NOT NULL,
    attempt         INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    status          INTEGER NOT NULL,
    latency_us      INTEGER NOT NULL,
    ok              INTEGER NOT NULL,
    snippet         TEXT NOT NULL
) STRICT;

CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, seq);
