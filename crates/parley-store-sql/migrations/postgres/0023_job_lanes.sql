-- Job lanes: jobs that must run one after another (a conversation's sends) name a lane;
-- a claim passes over a job while an earlier job (a lower id) of its queue and lane is
-- pending or running, so a lane runs one job at a time, in the order it was queued.
ALTER TABLE jobs ADD COLUMN lane TEXT;
CREATE INDEX jobs_lane_idx ON jobs (queue, lane, id)
    WHERE lane IS NOT NULL AND state IN ('pending', 'running');
