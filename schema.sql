-- The schema as migrated (src/db/migrations/ holds the steps; a test keeps
-- this file in step with them). Times are Unix seconds, UTC.

-- Companies that post jobs. The slug is derived from the name and unique.
CREATE TABLE companies (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    website     TEXT,
    logo_url    TEXT,
    description TEXT,
    created_at  INTEGER NOT NULL, -- Unix seconds, UTC (as every time below)
    updated_at  INTEGER NOT NULL
);

-- Job postings. Lists (tags, remote) are JSON arrays of strings.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    slug             TEXT NOT NULL,
    title            TEXT NOT NULL,
    company_id       INTEGER NOT NULL REFERENCES companies (id),
    description      TEXT NOT NULL,  -- Markdown source
    description_html TEXT NOT NULL,  -- rendered and sanitised
    category         TEXT NOT NULL,  -- slug of one of site.categories
    job_type         TEXT NOT NULL
        CHECK (job_type IN ('full_time', 'part_time', 'contract', 'internship')),
    tags             TEXT NOT NULL DEFAULT '[]',
    remote           TEXT NOT NULL DEFAULT '["worldwide"]',
    timezones        TEXT,
    location         TEXT,
    salary_min       INTEGER,
    salary_max       INTEGER,
    salary_currency  TEXT,
    salary_period    TEXT CHECK (salary_period IN ('year', 'month', 'hour')),
    apply_url        TEXT,
    apply_email      TEXT,
    featured         INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'pending_payment', 'pending_review', 'published',
                          'expired', 'filled', 'rejected')),
    rejection_reason TEXT,
    deleted_at       INTEGER,        -- soft delete: kept for payment records
    published_at     INTEGER,
    expires_at       INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    views            INTEGER NOT NULL DEFAULT 0,
    apply_clicks     INTEGER NOT NULL DEFAULT 0,
    owner_id         INTEGER REFERENCES users (id), -- who posted it; NULL when imported
    hidden           INTEGER NOT NULL DEFAULT 0,    -- published, but its owner is disabled
                                                    -- or unverified while that is required
    reminded_for     INTEGER,                       -- the expires_at its owner was reminded of
    CHECK (apply_url IS NOT NULL OR apply_email IS NOT NULL)
);

-- The board and /jobs: published, featured first, newest first; covering
-- expires_at so counting live jobs reads only this index.
CREATE INDEX jobs_listing ON jobs (featured DESC, published_at DESC, id DESC, expires_at)
    WHERE status = 'published' AND deleted_at IS NULL AND hidden = 0;
-- A company's page.
CREATE INDEX jobs_by_company ON jobs (company_id, published_at DESC);
-- Expiry and reminders.
CREATE INDEX jobs_by_expiry ON jobs (status, expires_at);
-- An employer's dashboard.
CREATE INDEX jobs_by_owner ON jobs (owner_id, created_at DESC);
-- Export by status.
CREATE INDEX jobs_by_status ON jobs (status, id);
-- Jobs whose search index entry must be refreshed, written in the same
-- transaction as the change; the indexer in `serve` drains it.
CREATE TABLE search_queue (
    id        INTEGER PRIMARY KEY,
    job_id    INTEGER NOT NULL,
    queued_at INTEGER NOT NULL
);

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

-- Background work: one row a task. A worker claims a due task in an IMMEDIATE
-- transaction (state running, leased until locked_until); a task whose worker
-- died is claimed again once its lease ends.
CREATE TABLE tasks (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL DEFAULT '{}',   -- JSON
    state        TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'running', 'done', 'failed')),
    run_at       INTEGER NOT NULL,             -- not before
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    locked_by    TEXT,
    locked_until INTEGER,
    unique_key   TEXT UNIQUE,                  -- enqueueing the same work twice is a no-op
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX tasks_due ON tasks (run_at) WHERE state = 'queued';
CREATE INDEX tasks_leased ON tasks (locked_until) WHERE state = 'running';
CREATE INDEX tasks_by_state ON tasks (state, updated_at);

-- Periodic work: when each schedule next runs. Claimed like tasks, so two
-- workers never start the same round.
CREATE TABLE schedules (
    name     TEXT PRIMARY KEY,
    next_run INTEGER NOT NULL
);

-- Job alerts: a saved search mailed to one address (double opt-in). `query` is
-- the search as a query string (SPEC §6); jobs published after `since` are new
-- to it. `last_round_at` is when its matches were last looked for (a daily or
-- weekly digest's period runs from there).
CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: link tokens sign the id
    email           TEXT NOT NULL COLLATE NOCASE,
    query           TEXT NOT NULL DEFAULT '',
    frequency       TEXT NOT NULL CHECK (frequency IN ('instant', 'daily', 'weekly')),
    created_at      INTEGER NOT NULL,
    confirmed_at    INTEGER,
    unsubscribed_at INTEGER,
    since           INTEGER NOT NULL,
    last_round_at   INTEGER,
    last_sent_at    INTEGER
);
CREATE INDEX alerts_by_email ON alerts (email);
CREATE INDEX alerts_live ON alerts (frequency)
    WHERE confirmed_at IS NOT NULL AND unsubscribed_at IS NULL;

-- Every job sent to an alert, so none is sent twice.
CREATE TABLE alert_deliveries (
    alert_id INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    job_id   INTEGER NOT NULL,
    sent_at  INTEGER NOT NULL,
    PRIMARY KEY (alert_id, job_id)
) WITHOUT ROWID;

-- Paid posting through Stripe Checkout (SPEC §7). One row for each Checkout
-- Session the board starts: a post (with or without the featured upgrade), an
-- upgrade of a live job to featured, or a renewal. The row is written before
-- Stripe is asked, so a webhook can always find it by `client_reference_id`
-- (the row's id), and it turns `paid` exactly once, in the transaction that
-- activates the job and queues the receipt.
CREATE TABLE payments (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: Stripe keeps it
    job_id             INTEGER NOT NULL REFERENCES jobs (id),
    user_id            INTEGER NOT NULL REFERENCES users (id),
    purpose            TEXT NOT NULL CHECK (purpose IN ('post', 'featured', 'renewal')),
    featured           INTEGER NOT NULL DEFAULT 0 CHECK (featured IN (0, 1)), -- a post bought with the upgrade
    amount_cents       INTEGER NOT NULL CHECK (amount_cents >= 0), -- asked for; Stripe's total once paid
    currency           TEXT NOT NULL,                 -- lower case, as Stripe writes it
    status             TEXT NOT NULL DEFAULT 'creating'
        CHECK (status IN ('creating', 'open', 'paid', 'expired', 'failed')),
    session_id         TEXT UNIQUE,                   -- cs_…, once Stripe made the session
    checkout_url       TEXT,
    session_expires_at INTEGER,
    payment_intent_id  TEXT,                          -- pi_…, once paid
    customer_id        TEXT,
    error              TEXT,                          -- why it failed, or what was not delivered
    checked_at         INTEGER,                       -- last looked up at Stripe while unsettled
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    paid_at            INTEGER
);
-- At most one payment under way for a job: a second click cannot start a second charge.
CREATE UNIQUE INDEX payments_one_open ON payments (job_id) WHERE status IN ('creating', 'open');
CREATE INDEX payments_by_user ON payments (user_id, created_at DESC);
-- What reconciliation looks at.
CREATE INDEX payments_unsettled ON payments (created_at) WHERE status IN ('creating', 'open');

-- Every correctly signed Stripe event, by its id: a copy sent again is
-- recognised and changes nothing.
CREATE TABLE stripe_events (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    payload     TEXT NOT NULL
) WITHOUT ROWID;
