-- Inbound sources. A deleted source stays as a tombstone (secrets wiped) so that its
-- ingest URL answers 410 Gone rather than 404.
CREATE TABLE sources (
    id                           TEXT PRIMARY KEY,
    provider                     TEXT NOT NULL,
    secret                       TEXT NOT NULL,
    previous_secret              TEXT NOT NULL DEFAULT '',
    previous_secret_expire_time  REAL NOT NULL DEFAULT 0,
    event_type_prefix            TEXT NOT NULL,
    options                      TEXT NOT NULL,
    description                  TEXT NOT NULL,
    create_time                  REAL NOT NULL,
    delete_time                  REAL NOT NULL DEFAULT 0
);
