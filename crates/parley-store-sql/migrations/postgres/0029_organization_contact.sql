-- An organization's answer to HELP (for channels without their own) and its contact
-- hours: the days and local hours a campaign sends in when it names no window of its own.
-- Existing organizations keep what they had: no help text, every day 08:00 to 21:00.
ALTER TABLE organizations ADD COLUMN help_text TEXT;
ALTER TABLE organizations ADD COLUMN contact_hours TEXT NOT NULL
    DEFAULT '{"days":["mon","tue","wed","thu","fri","sat","sun"],"opens":"08:00","closes":"21:00"}';
