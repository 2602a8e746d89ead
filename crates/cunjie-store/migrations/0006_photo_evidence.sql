-- Signed photo evidence (issue 4).
-- The device's Ed25519 key, made on the phone before enrollment. Its public half is registered
-- with the server at enrollment; the seed never leaves this file. At most one row.
CREATE TABLE device_key (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    seed        BLOB    NOT NULL CHECK (length(seed) = 32),
    public_key  TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
) STRICT;
-- What the capture pipeline knows about each photo: its thumbnail, when and of what it was
-- taken, and the upload's progress (bytes put on the wire, including resends, so that the
-- overhead of broken links can be measured).
ALTER TABLE photo ADD COLUMN thumb_path TEXT;
ALTER TABLE photo ADD COLUMN taken_at TEXT;
ALTER TABLE photo ADD COLUMN subject_kind TEXT;
ALTER TABLE photo ADD COLUMN subject_id TEXT;
ALTER TABLE photo ADD COLUMN bytes_sent INTEGER NOT NULL DEFAULT 0 CHECK (bytes_sent >= 0);
ALTER TABLE photo ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE photo ADD COLUMN confirmed_at TEXT;
CREATE INDEX photo_upload_order ON photo (state, created_at);
