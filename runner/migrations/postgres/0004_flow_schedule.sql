-- Per-flow schedule and timeout, and the indexes that keep the dashboard's reads bounded
-- on a store with a million jobs.

-- NULL: the site's interval; 0: only when the whole site is run by hand.
ALTER TABLE flows ADD COLUMN interval_secs BIGINT;
-- NULL: the runner's --job-timeout.
ALTER TABLE flows ADD COLUMN timeout_secs BIGINT;
-- When the scheduler next enqueues a job of this flow; NULL: not planned yet (the
-- scheduler plans it, with the flow's jitter).
ALTER TABLE flows ADD COLUMN next_run_at BIGINT;
CREATE INDEX flows_due ON flows (next_run_at);

-- Per driver, newest first (the drivers page and API), and the unfinished jobs of a flow.
CREATE INDEX jobs_by_driver ON jobs (driver, id);
CREATE INDEX jobs_by_flow_status ON jobs (flow_id, status);

-- Jobs by driver and status, kept by triggers in the same transaction as every change to
-- jobs, so that the totals on the dashboard and the summary read a few rows instead of
-- counting a million. Statement-level triggers add up each statement's changes and apply
-- them in (driver, status) order: every transaction locks the counts rows in one order, so
-- concurrent claims, results and sweeps cannot deadlock on them.
CREATE TABLE job_counts (
    driver TEXT   NOT NULL,
    status TEXT   NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (driver, status)
);
INSERT INTO job_counts (driver, status, n) SELECT driver, status, COUNT(*) FROM jobs GROUP BY driver, status;

CREATE FUNCTION job_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO job_counts (driver, status, n)
        SELECT driver, status, COUNT(*) FROM new_rows GROUP BY driver, status ORDER BY driver, status
        ON CONFLICT (driver, status) DO UPDATE SET n = job_counts.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO job_counts (driver, status, n)
        SELECT driver, status, -COUNT(*) FROM old_rows GROUP BY driver, status ORDER BY driver, status
        ON CONFLICT (driver, status) DO UPDATE SET n = job_counts.n + EXCLUDED.n;
    ELSE
        INSERT INTO job_counts (driver, status, n)
        SELECT driver, status, SUM(d) FROM (
            SELECT driver, status, 1 AS d FROM new_rows
            UNION ALL
            SELECT driver, status, -1 AS d FROM old_rows
        ) AS changes
        GROUP BY driver, status HAVING SUM(d) <> 0 ORDER BY driver, status
        ON CONFLICT (driver, status) DO UPDATE SET n = job_counts.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION job_counts_apply();
CREATE TRIGGER job_counts_update AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION job_counts_apply();
CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION job_counts_apply();
