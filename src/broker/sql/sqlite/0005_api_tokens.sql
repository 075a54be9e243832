-- API tokens: bearer credentials with one role each. Only a SHA-256 of the secret part is
-- kept, so the database never holds a usable token.
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    role         TEXT NOT NULL,
    event_types  TEXT NOT NULL,
    description  TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    create_time  REAL NOT NULL,
    expire_time  REAL NOT NULL DEFAULT 0,
    revoke_time  REAL NOT NULL DEFAULT 0
);
