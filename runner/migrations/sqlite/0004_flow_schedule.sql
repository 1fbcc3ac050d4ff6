-- Per-flow schedule and timeout, and the indexes that keep the dashboard's reads bounded
-- on a store with a million jobs.

-- NULL: the site's interval; 0: only when the whole site is run by hand.
ALTER TABLE flows ADD COLUMN interval_secs INTEGER;
-- NULL: the runner's --job-timeout.
ALTER TABLE flows ADD COLUMN timeout_secs INTEGER;
-- When the scheduler next enqueues a job of this flow; NULL: not planned yet (the
-- scheduler plans it, with the flow's jitter).
ALTER TABLE flows ADD COLUMN next_run_at INTEGER;
CREATE INDEX flows_due ON flows (next_run_at);

-- Per driver, newest first (the drivers page and API), and the unfinished jobs of a flow.
CREATE INDEX jobs_by_driver ON jobs (driver, id);
CREATE INDEX jobs_by_flow_status ON jobs (flow_id, status);

-- Jobs by driver and status, kept by triggers in the same transaction as every change to
-- jobs, so that the totals on the dashboard and the summary read a few rows instead of
-- counting a million.
CREATE TABLE job_counts (
    driver TEXT    NOT NULL,
    status TEXT    NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (driver, status)
);
INSERT INTO job_counts (driver, status, n) SELECT driver, status, COUNT(*) FROM jobs GROUP BY driver, status;

CREATE TRIGGER job_counts_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO job_counts (driver, status, n) VALUES (NEW.driver, NEW.status, 1)
        ON CONFLICT (driver, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER job_counts_update AFTER UPDATE OF status, driver ON jobs
WHEN OLD.status IS NOT NEW.status OR OLD.driver IS NOT NEW.driver BEGIN
    UPDATE job_counts SET n = n - 1 WHERE driver = OLD.driver AND status = OLD.status;
    INSERT INTO job_counts (driver, status, n) VALUES (NEW.driver, NEW.status, 1)
        ON CONFLICT (driver, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER job_counts_delete AFTER DELETE ON jobs BEGIN
    UPDATE job_counts SET n = n - 1 WHERE driver = OLD.driver AND status = OLD.status;
END;
