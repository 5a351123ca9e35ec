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
    CHECK (apply_url IS NOT NULL OR apply_email IS NOT NULL)
);

-- The board and /jobs: published, featured first, newest first; covering
-- expires_at so counting live jobs reads only this index.
CREATE INDEX jobs_listing ON jobs (featured DESC, published_at DESC, id DESC, expires_at)
    WHERE status = 'published' AND deleted_at IS NULL;
-- A company's page.
CREATE INDEX jobs_by_company ON jobs (company_id, published_at DESC);
-- Expiry and reminders.
CREATE INDEX jobs_by_expiry ON jobs (status, expires_at);
-- Export by status.
CREATE INDEX jobs_by_status ON jobs (status, id);
-- Jobs whose search index entry must be refreshed, written in the same
-- transaction as the change; the indexer in `serve` drains it.
CREATE TABLE search_queue (
    id        INTEGER PRIMARY KEY,
    job_id    INTEGER NOT NULL,
    queued_at INTEGER NOT NULL
);
