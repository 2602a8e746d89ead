-- The phone's enrollment: which township server, the device token, and whose phone it is.
-- At most one row. An auth failure never deletes anything: it only sets needs_reenroll, and a
-- new enrollment replaces the row and clears the flag.
CREATE TABLE enrollment (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    server_url      TEXT    NOT NULL,
    token           TEXT    NOT NULL,
    person_id       TEXT    NOT NULL,
    person_name     TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    township_id     TEXT    NOT NULL,
    township_name   TEXT    NOT NULL,
    enrolled_at     TEXT    NOT NULL,
    needs_reenroll  INTEGER NOT NULL DEFAULT 0 CHECK (needs_reenroll IN (0, 1))
) STRICT;

-- Pulled facts remember the scope that delivered them, so that dropping or resetting a scope
-- removes them with the rest of its synced rows. The phone's own facts keep NULL.
ALTER TABLE fact ADD COLUMN scope TEXT;
CREATE INDEX fact_scope ON fact (scope) WHERE scope IS NOT NULL;
