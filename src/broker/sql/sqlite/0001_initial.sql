-- Initial schema. Times are epoch seconds (REAL); maps and lists are JSON text.
CREATE TABLE events (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL,
    data            BLOB NOT NULL,
    content_type    TEXT NOT NULL,
    attributes      TEXT NOT NULL,
    idempotency_key TEXT,
    create_time     REAL NOT NULL
);
CREATE UNIQUE INDEX events_by_idempotency_key ON events (idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE TABLE subscriptions (
    id                           TEXT PRIMARY KEY,
    url                          TEXT NOT NULL,
    event_types                  TEXT NOT NULL,
    secret                       TEXT NOT NULL,
    previous_secret              TEXT,
    previous_secret_expire_time  REAL,
    headers                      TEXT NOT NULL,
    properties                   TEXT NOT NULL,
    client_state                 TEXT NOT NULL,
    payload_mode                 TEXT NOT NULL,
    verification                 TEXT NOT NULL,
    expire_time                  REAL NOT NULL,
    state                        TEXT NOT NULL,
    description                  TEXT NOT NULL,
    create_time                  REAL NOT NULL,
    update_time                  REAL NOT NULL,
    retry_schedule               TEXT NOT NULL,
    disabled_reason              TEXT NOT NULL,
    failing_since                REAL
);

-- One row per (pattern, subscription): matching an event type is a lookup of its few
-- candidate patterns, never a scan of all subscriptions.
CREATE TABLE subscription_patterns (
    pattern         TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    PRIMARY KEY (pattern, subscription_id)
) WITHOUT ROWID;
CREATE INDEX subscription_patterns_by_subscription ON subscription_patterns (subscription_id);

CREATE TABLE deliveries (
    id                TEXT PRIMARY KEY,
    event_id          TEXT NOT NULL,
    subscription_id   TEXT NOT NULL,
    event_type        TEXT NOT NULL,
    state             TEXT NOT NULL,
    attempt_count     INTEGER NOT NULL,
    next_attempt_time REAL NOT NULL,
    lease_id          TEXT NOT NULL,
    last_error        TEXT NOT NULL,
    last_status_code  INTEGER NOT NULL,
    create_time       REAL NOT NULL,
    update_time       REAL NOT NULL
);
-- The queue: only pending rows are indexed by due time, so finished ones cost nothing.
CREATE INDEX deliveries_due ON deliveries (next_attempt_time) WHERE state = 'PENDING';
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, id);
CREATE INDEX deliveries_by_event ON deliveries (event_id, id);

CREATE TABLE attempts (
    id             TEXT PRIMARY KEY,
    delivery_id    TEXT NOT NULL,
    attempt_number INTEGER NOT NULL,
    attempt_time   REAL NOT NULL,
    status_code    INTEGER NOT NULL,
    latency        REAL NOT NULL,
    error          TEXT NOT NULL,
    response_body  TEXT NOT NULL,
    result         TEXT NOT NULL
);
CREATE INDEX attempts_by_delivery ON attempts (delivery_id, id);
