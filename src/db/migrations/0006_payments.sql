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
