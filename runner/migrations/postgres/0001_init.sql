-- runner's schema, PostgreSQL flavour: the same tables and columns as the SQLite one.
-- Integers are BIGINT throughout, so that sqlx's Any driver reads them all as i64.

CREATE TABLE sites (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT   NOT NULL UNIQUE,
    base_url      TEXT   NOT NULL,
    interval_secs BIGINT,
    enabled       BIGINT NOT NULL DEFAULT 1,
    builtin       TEXT,
    next_run_at   BIGINT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE flows (
    id         BIGSERIAL PRIMARY KEY,
    site_id    BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    name       TEXT   NOT NULL,
    driver     TEXT   NOT NULL,
    start_url  TEXT   NOT NULL,
    steps      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (site_id, name)
);

CREATE TABLE runs (
    id          BIGSERIAL PRIMARY KEY,
    site_id     BIGINT REFERENCES sites (id) ON DELETE SET NULL,
    site_name   TEXT   NOT NULL,
    trigger     TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    error       TEXT,
    jobs_total  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT
);
CREATE INDEX runs_by_site ON runs (site_id, id);
CREATE INDEX runs_by_status ON runs (status, id);

CREATE TABLE jobs (
    id          BIGSERIAL PRIMARY KEY,
    run_id      BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    site_id     BIGINT NOT NULL,
    site_name   TEXT   NOT NULL,
    base_url    TEXT   NOT NULL,
    flow_id     BIGINT,
    flow_name   TEXT   NOT NULL,
    flow        TEXT   NOT NULL,
    driver      TEXT   NOT NULL,
    status      TEXT   NOT NULL,
    claimed_by  TEXT,
    failed_step BIGINT,
    reason      TEXT,
    duration_ms BIGINT,
    screenshot  BYTEA,
    enqueued_at BIGINT NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT
);
CREATE INDEX jobs_queue ON jobs (status, driver, id);
CREATE INDEX jobs_by_run ON jobs (run_id);
CREATE INDEX jobs_by_finish ON jobs (finished_at);

CREATE TABLE instances (
    id           TEXT   PRIMARY KEY,
    started_at   BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
