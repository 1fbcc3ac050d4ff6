-- Operations: per-flow retries and every attempt of a job (as the SQLite flavour).

ALTER TABLE flows ADD COLUMN retries BIGINT;

CREATE TABLE job_attempts (
    id          BIGSERIAL PRIMARY KEY,
    job_id      BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    run_id      BIGINT NOT NULL,
    attempt     BIGINT NOT NULL,
    status      TEXT   NOT NULL,
    failed_step BIGINT,
    reason      TEXT,
    duration_ms BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    UNIQUE (job_id, attempt)
);
CREATE INDEX job_attempts_by_run ON job_attempts (run_id);
