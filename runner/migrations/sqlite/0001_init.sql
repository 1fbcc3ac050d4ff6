-- runner's schema, SQLite flavour. Times are unix milliseconds; flags are 0/1 integers, so
-- that one set of queries reads both SQLite and PostgreSQL through sqlx's Any driver.

CREATE TABLE sites (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL UNIQUE,
    base_url      TEXT    NOT NULL,
    interval_secs INTEGER,               -- NULL: manual runs only
    enabled       INTEGER NOT NULL DEFAULT 1,
    builtin       TEXT,                  -- 'demo' for the seeded demo site
    next_run_at   INTEGER,               -- when the scheduler enqueues the next run
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE flows (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id    INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    driver     TEXT    NOT NULL,
    start_url  TEXT    NOT NULL,
    steps      TEXT    NOT NULL,         -- JSON array of steps
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (site_id, name)
);

CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id     INTEGER REFERENCES sites (id) ON DELETE SET NULL,
    site_name   TEXT    NOT NULL,
    trigger     TEXT    NOT NULL,        -- manual | schedule
    status      TEXT    NOT NULL,        -- queued running passed failed error cancelled interrupted
    error       TEXT,
    jobs_total  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
);
CREATE INDEX runs_by_site ON runs (site_id, id);
CREATE INDEX runs_by_status ON runs (status, id);

-- The job queue: a run inserts its jobs as 'queued'; workers claim them atomically.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    site_id     INTEGER NOT NULL,
    site_name   TEXT    NOT NULL,
    base_url    TEXT    NOT NULL,
    flow_id     INTEGER,
    flow_name   TEXT    NOT NULL,
    flow        TEXT    NOT NULL,        -- JSON of the flow as it was when enqueued
    driver      TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    claimed_by  TEXT,
    failed_step INTEGER,
    reason      TEXT,
    duration_ms INTEGER,
    screenshot  BLOB,
    enqueued_at INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
);
CREATE INDEX jobs_queue ON jobs (status, driver, id);
CREATE INDEX jobs_by_run ON jobs (run_id);
CREATE INDEX jobs_by_finish ON jobs (finished_at);

-- Live runner processes, so that one can tell a crashed peer's jobs from a running one's.
CREATE TABLE instances (
    id           TEXT    PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);
