-- Work in progress: inspections and rounds being filled in. Local only, never pushed.
CREATE TABLE draft (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('inspection', 'round')),
    subject_id  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    row_json    TEXT    NOT NULL
) STRICT;

-- Submitted facts (immutable): inspections and rounds, this device's and pulled ones.
CREATE TABLE fact (
    id            TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL CHECK (kind IN ('inspection', 'round')),
    subject_id    TEXT    NOT NULL,
    village_id    TEXT,
    author_id     TEXT    NOT NULL,
    submitted_at  TEXT    NOT NULL,
    supersedes    TEXT,
    origin        TEXT    NOT NULL CHECK (origin IN ('local', 'pulled')),
    row_json      TEXT    NOT NULL
) STRICT;
CREATE INDEX fact_subject ON fact (subject_id, submitted_at);
CREATE INDEX fact_author ON fact (author_id, submitted_at);

-- Rectification orders, as this device last knows them.
CREATE TABLE rectification (
    id              TEXT    PRIMARY KEY,
    assignee_id     TEXT    NOT NULL,
    village_id      TEXT    NOT NULL,
    due             TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    server_version  INTEGER NOT NULL DEFAULT 0,
    scope           TEXT,
    row_json        TEXT    NOT NULL
) STRICT;
CREATE INDEX rectification_assignee ON rectification (assignee_id, state, due);

-- Photos, content-addressed by the SHA-256 of the upload derivative.
CREATE TABLE photo (
    sha256            TEXT    PRIMARY KEY CHECK (length(sha256) = 64),
    size              INTEGER NOT NULL CHECK (size >= 0),
    mime              TEXT    NOT NULL,
    local_path        TEXT    NOT NULL,
    original_path     TEXT,
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'uploading', 'done', 'failed')),
    upload_url        TEXT,
    confirmed_offset  INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT,
    created_at        TEXT    NOT NULL
) STRICT;

-- Which record refers to which photo, in which role. One photo may be referenced many times.
CREATE TABLE photo_ref (
    entity_id  TEXT NOT NULL,
    sha256     TEXT NOT NULL REFERENCES photo (sha256),
    role       TEXT NOT NULL,
    PRIMARY KEY (entity_id, sha256, role)
) STRICT;
CREATE INDEX photo_ref_sha ON photo_ref (sha256);
