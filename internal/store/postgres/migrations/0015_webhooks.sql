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
    with_children   BOOLEAN NOT NULL,
    secret          TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    disabled_reason TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    after_seq       BIGINT NOT NULL,
    attempts        BIGINT NOT NULL,
    failing_since   BIGINT NOT NULL,  -- 0: not failing
    lease_owner     TEXT NOT NULL,
    lease_until     BIGINT NOT NULL
);

CREATE TABLE deliveries (
    seq             BIGSERIAL PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    attempt         BIGINT NOT NULL,
    at              BIGINT NOT NULL,
    status          BIGINT NOT NULL,
    latency_us      BIGINT NOT NULL,
    ok              BOOLEAN NOT NULL,
    snippet         TEXT NOT NULL
);

CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, seq);
