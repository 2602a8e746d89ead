-- Scoring (issue 6): versioned schemes, the monthly household sample, staff inputs (external
-- events, Scheme C's assigned tasks and satisfaction), stored rankings with the scheme version
-- they used, reviews, appeals, and the hash-chained audit log.

-- Every version of every scheme a township used; editing makes a new version, never an update.
CREATE TABLE scheme (
    township_id  TEXT    NOT NULL,
    code         TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    created_at   TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    row_json     TEXT    NOT NULL,
    PRIMARY KEY (township_id, code, version)
);

-- The month's random sample of households per village (seeded, stratified by group). Only
-- inspections of sampled households count toward the rank.
CREATE TABLE sample (
    township_id   TEXT    NOT NULL,
    month         TEXT    NOT NULL,
    village_id    TEXT    NOT NULL,
    group_id      TEXT    NOT NULL,
    household_id  TEXT    NOT NULL,
    seed          TEXT    NOT NULL,
    drawn_at      TEXT    NOT NULL,
    PRIMARY KEY (township_id, month, household_id)
);
CREATE INDEX sample_village ON sample (village_id, month);

-- Outside findings with fixed consequences (Scheme T rules R-COMMEND and P-EXPOSE).
CREATE TABLE external_event (
    id           TEXT    PRIMARY KEY,
    township_id  TEXT    NOT NULL,
    village_id   TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    day          TEXT    NOT NULL,
    doc_ref      TEXT    NOT NULL,
    created_by   TEXT    NOT NULL
);

-- Scheme C's staff-entered parts per village and period: 交办工作 and 群众满意度 (0–100, hundredths).
CREATE TABLE village_input (
    township_id   TEXT    NOT NULL,
    village_id    TEXT    NOT NULL,
    period        TEXT    NOT NULL,
    tasks         BIGINT  NOT NULL,
    satisfaction  BIGINT  NOT NULL,
    entered_by    TEXT    NOT NULL,
    PRIMARY KEY (village_id, period)
);

-- The ranking last computed for a period under a scheme, with the version it used. Once
-- published it keeps that version: recomputing (after an upheld appeal) uses it again.
CREATE TABLE ranking_result (
    township_id     TEXT    NOT NULL,
    period          TEXT    NOT NULL,
    scheme_code     TEXT    NOT NULL,
    scheme_version  BIGINT  NOT NULL,
    computed_at     TEXT    NOT NULL,
    computed_by     TEXT    NOT NULL,
    published_at    TEXT,
    digest          TEXT    NOT NULL,
    row_json        TEXT    NOT NULL,
    PRIMARY KEY (township_id, period, scheme_code)
);

-- A reviewer's 有问题 on an inspection or a photo, and what became of it.
CREATE TABLE review (
    id           TEXT    PRIMARY KEY,
    township_id  TEXT    NOT NULL,
    fact_id      TEXT    NOT NULL,
    photo        TEXT,
    comment      TEXT    NOT NULL,
    by_staff     TEXT    NOT NULL,
    at           TEXT    NOT NULL,
    resolved_by  TEXT
);
CREATE INDEX review_fact ON review (fact_id);

-- A village's appeal (申诉) against findings of a period; upheld findings stop counting.
CREATE TABLE appeal (
    id           TEXT    PRIMARY KEY,
    township_id  TEXT    NOT NULL,
    village_id   TEXT    NOT NULL,
    period       TEXT    NOT NULL,
    facts        TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    evidence     TEXT    NOT NULL,
    filed_at     TEXT    NOT NULL,
    outcome      TEXT,
    decided_by   TEXT,
    decided_at   TEXT,
    note         TEXT
);

-- Append-only, each entry chained to the one before by SHA-256 (the first to 64 zeros).
CREATE TABLE audit_log (
    seq          BIGINT  PRIMARY KEY,
    township_id  TEXT    NOT NULL,
    at           TEXT    NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    detail       TEXT    NOT NULL,
    prev_hash    TEXT    NOT NULL,
    hash         TEXT    NOT NULL
);

-- Rankings read a township's households and a period's inspections.
CREATE INDEX record_township ON record (township_id, entity);
CREATE INDEX fact_township_time ON fact (township_id, kind, device_time);
