-- Jobs whose search index entry must be refreshed, written in the same
-- transaction as the change; the indexer in `serve` drains it.
CREATE TABLE search_queue (
    id        INTEGER PRIMARY KEY,
    job_id    INTEGER NOT NULL,
    queued_at INTEGER NOT NULL
);
