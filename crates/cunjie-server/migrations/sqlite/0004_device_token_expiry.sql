-- Device tokens expire (sync.md §5.8, issue 7): a token not used for DEVICE_TOKEN_IDLE_DAYS is
-- refused with 401 (every authenticated request moves the expiry on). The phone keeps all its
-- data and enrolls again with a fresh code. NULL: a device enrolled before this migration,
-- whose expiry is set at its next request.
ALTER TABLE device ADD COLUMN token_expires_at TEXT;
