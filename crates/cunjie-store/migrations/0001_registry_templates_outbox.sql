-- The device's identity and clocks: exactly one row.
CREATE TABLE device_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    device_id      TEXT    NOT NULL,
    next_seq       INTEGER NOT NULL CHECK (next_seq >= 1),
    hlc_last       INTEGER NOT NULL DEFAULT 0,
    hlc_offset_ms  INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Registry rows this device holds for its scopes (villages, groups, zones, facilities,
-- people, assignments, businesses). Households have their own table for search.
CREATE TABLE registry_record (
    entity          TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    village_id      TEXT,
    scope           TEXT    NOT NULL,
    server_version  INTEGER NOT NULL,
    row_json        TEXT    NOT NULL,
    PRIMARY KEY (entity, id)
) STRICT;
CREATE INDEX registry_record_village ON registry_record (entity, village_id);
CREATE INDEX registry_record_scope ON registry_record (scope);

CREATE TABLE household (
    id              TEXT    PRIMARY KEY,
    village_id      TEXT    NOT NULL,
    group_id        TEXT    NOT NULL,
    head_name       TEXT    NOT NULL,
    door_plate      TEXT    NOT NULL,
    roadside        INTEGER NOT NULL,
    lat             REAL,
    lon             REAL,
    scope           TEXT    NOT NULL,
    server_version  INTEGER NOT NULL,
    row_json        TEXT    NOT NULL
) STRICT;
CREATE INDEX household_village_group ON household (village_id, group_id);
CREATE INDEX household_door_plate ON household (door_plate);
CREATE INDEX household_scope ON household (scope);

-- Checklist templates, every version received.
CREATE TABLE template (
    id        TEXT    NOT NULL,
    version   INTEGER NOT NULL,
    code      TEXT    NOT NULL,
    subject   TEXT    NOT NULL,
    scope     TEXT    NOT NULL,
    row_json  TEXT    NOT NULL,
    PRIMARY KEY (id, version)
) STRICT;
CREATE INDEX template_code ON template (code, version);

-- Mutations waiting to be pushed, in seq order. seq is dense per device.
CREATE TABLE outbox (
    seq             INTEGER PRIMARY KEY,
    mutation_id     TEXT    NOT NULL UNIQUE,
    entity          TEXT    NOT NULL,
    entity_id       TEXT    NOT NULL,
    op              TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    hlc             INTEGER NOT NULL,
    base_version    INTEGER,
    schema_version  INTEGER NOT NULL,
    created_at      TEXT    NOT NULL
) STRICT;
CREATE INDEX outbox_entity ON outbox (entity, entity_id);

-- Mutations the server settled, kept 30 days for replay after a server restore.
CREATE TABLE acked_log (
    seq             INTEGER PRIMARY KEY,
    mutation_id     TEXT    NOT NULL UNIQUE,
    entity          TEXT    NOT NULL,
    entity_id       TEXT    NOT NULL,
    op              TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    hlc             INTEGER NOT NULL,
    base_version    INTEGER,
    schema_version  INTEGER NOT NULL,
    created_at      TEXT    NOT NULL,
    acked_at        TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('applied', 'rejected')),
    server_version  INTEGER,
    reject_code     TEXT,
    reject_reason   TEXT
) STRICT;
CREATE INDEX acked_log_entity ON acked_log (entity, entity_id);

-- Pull cursors, one per scope.
CREATE TABLE sync_cursor (
    scope       TEXT    PRIMARY KEY,
    after       INTEGER NOT NULL,
    epoch       INTEGER NOT NULL,
    updated_at  TEXT    NOT NULL
) STRICT;
