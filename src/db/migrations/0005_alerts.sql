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
