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
