CREATE TABLE township (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE staff (
    id             TEXT PRIMARY KEY,
    township_id    TEXT NOT NULL REFERENCES township (id),
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    created_at     TEXT NOT NULL
) STRICT;

CREATE TABLE staff_session (
    token_hash  TEXT PRIMARY KEY,
    staff_id    TEXT NOT NULL REFERENCES staff (id),
    expires_at  TEXT NOT NULL
) STRICT;

CREATE TABLE person (
    id           TEXT PRIMARY KEY,
    township_id  TEXT NOT NULL REFERENCES township (id),
    name         TEXT NOT NULL,
    row_json     TEXT NOT NULL
) STRICT;

CREATE TABLE assignment (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES person (id),
    role        TEXT NOT NULL,
    valid_from  TEXT NOT NULL,
    valid_to    TEXT,
    row_json    TEXT NOT NULL
) STRICT;
CREATE INDEX assignment_person ON assignment (person_id);

-- Registry records (villages, groups, households, businesses, zones, facilities), with
-- per-field versions for the three-way merge of phone edits.
CREATE TABLE record (
    entity          TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    township_id     TEXT    NOT NULL,
    village_id      TEXT,
    zone_id         TEXT,
    server_version  INTEGER NOT NULL,
    field_versions  TEXT    NOT NULL,
    conflict        TEXT,
    row_json        TEXT    NOT NULL,
    PRIMARY KEY (entity, id)
) STRICT;
CREATE INDEX record_village ON record (village_id);

CREATE TABLE template (
    id            TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    township_id   TEXT    NOT NULL,
    code          TEXT    NOT NULL,
    published_at  TEXT    NOT NULL,
    row_json      TEXT    NOT NULL,
    PRIMARY KEY (id, version)
) STRICT;

-- Immutable facts: inspections and rounds, with the three clocks and flags for a person.
CREATE TABLE fact (
    id                  TEXT    PRIMARY KEY,
    kind                TEXT    NOT NULL,
    township_id         TEXT    NOT NULL,
    village_id          TEXT,
    zone_id             TEXT,
    subject_id          TEXT    NOT NULL,
    author_id           TEXT    NOT NULL,
    device_id           TEXT    NOT NULL,
    device_time         TEXT    NOT NULL,
    server_received_at  TEXT    NOT NULL,
    hlc                 INTEGER NOT NULL,
    skew_ms             INTEGER NOT NULL,
    flags               TEXT    NOT NULL,
    row_json            TEXT    NOT NULL
) STRICT;
CREATE INDEX fact_village ON fact (village_id, device_time);

CREATE TABLE rectification (
    id              TEXT    PRIMARY KEY,
    township_id     TEXT    NOT NULL,
    village_id      TEXT    NOT NULL,
    assignee_id     TEXT    NOT NULL,
    state           TEXT    NOT NULL,
    due             TEXT    NOT NULL,
    server_version  INTEGER NOT NULL,
    row_json        TEXT    NOT NULL
) STRICT;

CREATE TABLE device (
    id            TEXT    PRIMARY KEY,
    township_id   TEXT    NOT NULL REFERENCES township (id),
    person_id     TEXT    NOT NULL REFERENCES person (id),
    role          TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    token_hash    TEXT    NOT NULL UNIQUE,
    enrolled_at   TEXT    NOT NULL,
    revoked_at    TEXT,
    last_seq      INTEGER NOT NULL,
    last_seen_at  TEXT
) STRICT;

CREATE TABLE enrollment_code (
    code_hash    TEXT PRIMARY KEY,
    township_id  TEXT NOT NULL REFERENCES township (id),
    person_id    TEXT NOT NULL REFERENCES person (id),
    role         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT,
    device_id    TEXT
) STRICT;

-- One receipt per (device, seq): a retried push is answered from here.
CREATE TABLE receipt (
    device_id       TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    mutation_id     TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    server_version  INTEGER,
    code            TEXT,
    reason          TEXT,
    created_at      TEXT    NOT NULL,
    PRIMARY KEY (device_id, seq)
) STRICT;
CREATE INDEX receipt_mutation ON receipt (mutation_id);

-- Dense per-scope sequence, allocated inside the writing transaction.
CREATE TABLE scope_counter (
    scope  TEXT    PRIMARY KEY,
    seq    INTEGER NOT NULL,
    epoch  INTEGER NOT NULL
) STRICT;

CREATE TABLE change_log (
    scope           TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    entity          TEXT    NOT NULL,
    entity_id       TEXT    NOT NULL,
    server_version  INTEGER NOT NULL,
    row_json        TEXT,
    PRIMARY KEY (scope, seq)
) STRICT;

-- Real conflicts between a phone's edit and the server's, kept for a person to review.
CREATE TABLE conflict (
    id              TEXT    PRIMARY KEY,
    entity          TEXT    NOT NULL,
    entity_id       TEXT    NOT NULL,
    field           TEXT    NOT NULL,
    base_version    INTEGER NOT NULL,
    server_value    TEXT    NOT NULL,
    device_value    TEXT    NOT NULL,
    winner          TEXT    NOT NULL,
    device_id       TEXT    NOT NULL,
    hlc             INTEGER NOT NULL,
    created_at      TEXT    NOT NULL
) STRICT;
