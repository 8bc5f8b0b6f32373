-- SFTP hooks (SPEC §7.4) are webhook endpoints whose url is sftp://user@host:port/folder:
-- they share fan-out, leases, retries, the attempts log and replay. These columns hold how
-- to log in (NULL for HTTP endpoints): the pinned host key and the sealed credential.
ALTER TABLE webhook_endpoints ADD COLUMN sftp_host_key TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN sftp_credential_sealed TEXT;
