-- Where a crashed import resumes: the last source row whose outcome is committed (with
-- the counters, in the same transaction). A retried job re-reads the file, applies only
-- the rows after it, and keeps the counters it had, so they never move backwards.
ALTER TABLE imports ADD COLUMN rows_through INTEGER NOT NULL DEFAULT 0;
