-- Photos (sync.md §5.7): the device's signing key, signed attestations pushed before the bytes,
-- resumable uploads (tus) and what the server checked when the bytes arrived.

-- The device's Ed25519 public key (standard base64, 32 bytes), made on the phone at enrollment.
-- NULL for phones that predate signed photos: their attestations are refused.
ALTER TABLE device ADD COLUMN public_key TEXT;

-- One row per photo, by the SHA-256 of its upload derivative, inserted once from a pushed
-- attestation. `state` is 'pending' until the bytes are in the blob store, then 'stored'.
CREATE TABLE photo (
    sha256         TEXT    PRIMARY KEY,
    township_id    TEXT    NOT NULL,
    device_id      TEXT    NOT NULL,
    person_id      TEXT    NOT NULL,
    subject_kind   TEXT    NOT NULL,
    subject_id     TEXT    NOT NULL,
    size           BIGINT  NOT NULL,
    taken_at       TEXT    NOT NULL,
    attestation    TEXT    NOT NULL,
    signature      TEXT    NOT NULL,
    received_at    TEXT    NOT NULL,
    flags          TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    stored_at      TEXT
);
CREATE INDEX photo_device ON photo (device_id);

-- tus uploads. The bytes so far live in <data-dir>/uploads/<id>.part; `upload_offset` is the
-- truth after a crash (a longer file is cut back to it). `state`: open, done or gone.
CREATE TABLE upload (
    id             TEXT    PRIMARY KEY,
    sha256         TEXT    NOT NULL,
    device_id      TEXT    NOT NULL,
    township_id    TEXT    NOT NULL,
    length         BIGINT  NOT NULL,
    upload_offset  BIGINT  NOT NULL,
    metadata       TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    expires_at     TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    gone_reason    TEXT,
    finished_at    TEXT
);
CREATE INDEX upload_state ON upload (state, expires_at);

-- What the server checked when a photo's bytes arrived (once per photo). Seconds and metres
-- are whole numbers; NULL where the check had nothing to compare.
--   time_check:  ok | exif_mismatch | after_receipt | no_exif
--   place_check: ok | far | no_fix | no_place
CREATE TABLE photo_verification (
    sha256                 TEXT    PRIMARY KEY REFERENCES photo (sha256),
    verified_at            TEXT    NOT NULL,
    hash_ok                BIGINT  NOT NULL,
    signature_ok           BIGINT  NOT NULL,
    time_check             TEXT    NOT NULL,
    exif_taken_at          TEXT,
    exif_minus_taken_s     BIGINT,
    received_minus_taken_s BIGINT  NOT NULL,
    place_check            TEXT    NOT NULL,
    distance_m             BIGINT,
    accuracy_m             BIGINT,
    beyond_accuracy_m      BIGINT,
    exif_gps               TEXT
);
