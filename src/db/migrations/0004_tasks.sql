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

-- When the owner was reminded that a job expires soon (once per expiry date).
ALTER TABLE jobs ADD COLUMN reminded_for INTEGER;
