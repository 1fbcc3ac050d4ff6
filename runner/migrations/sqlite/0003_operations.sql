-- Operations: per-flow retries and every attempt of a job.

-- NULL: the runner's --retries.
ALTER TABLE flows ADD COLUMN retries INTEGER;

-- Every attempt of a job, the last one included; the job row holds the final outcome.
CREATE TABLE job_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    run_id      INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,        -- 1, 2, ...
    status      TEXT    NOT NULL,
    failed_step INTEGER,
    reason      TEXT,
    duration_ms INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    UNIQUE (job_id, attempt)
);
CREATE INDEX job_attempts_by_run ON job_attempts (run_id);
