-- People who sign in: employers and admins. Emails compare without case.
CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    email             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash     TEXT NOT NULL,  -- argon2id PHC string
    role              TEXT NOT NULL DEFAULT 'employer' CHECK (role IN ('employer', 'admin')),
    email_verified_at INTEGER,
    disabled_at       INTEGER,        -- a disabled user cannot sign in; their jobs are hidden
    company_id        INTEGER REFERENCES companies (id),
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

-- Signed-in browsers. The cookie holds a random token; only its SHA-256 is kept.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Single-use tokens sent by email: verify an address, reset a password.
CREATE TABLE user_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX user_tokens_by_user ON user_tokens (user_id, purpose);

-- API tokens for the write API; shown once, kept as SHA-256.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,   -- the first characters, to tell tokens apart
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- Every admin action, newest last.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    INTEGER REFERENCES users (id),
    action      TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id   INTEGER,
    detail      TEXT
);

-- Who posted a job (NULL for imported and demo jobs), and whether it is hidden
-- from the public although published: its owner is disabled, or unverified
-- while posting.require_verified_email holds.
ALTER TABLE jobs ADD COLUMN owner_id INTEGER REFERENCES users (id);
ALTER TABLE jobs ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
CREATE INDEX jobs_by_owner ON jobs (owner_id, created_at DESC);
DROP INDEX jobs_listing;
CREATE INDEX jobs_listing ON jobs (featured DESC, published_at DESC, id DESC, expires_at)
    WHERE status = 'published' AND deleted_at IS NULL AND hidden = 0;
