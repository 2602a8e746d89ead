//! A tiny township server in memory, speaking the v1 types: enrollment codes and tokens,
//! receipts per (device, seq) with `last_seq`, a change log per scope with epochs; and faults
//! to inject: fail the next N calls, drop an answer after committing, refuse a token.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use cunjie_domain::fact::PhotoHash;
use cunjie_domain::ids::{DeviceId, MutationId, PersonId, TownshipId};
use cunjie_domain::person::Role;
use cunjie_protocol::v1::{
    Change, EnrollRequest, EnrollResponse, EntityKind, MutationResult, MutationStatus, Op,
    PullPage, PushRequest, PushResponse, ScopeInfo, ScopeList, codes,
};
use cunjie_sync::{Transport, TransportError};
use uuid::Uuid;

/// Which call a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Call {
    Enroll,
    Push,
    Scopes,
    Pull,
    BlobExists,
    CreateUpload,
    UploadOffset,
    UploadChunk,
}

#[derive(Debug, Clone)]
enum Fault {
    /// Let the call through.
    Pass,
    /// Fail before doing anything.
    Fail(TransportError),
    /// Do the work and commit it, then lose the answer (the phone sees a timeout).
    DropAnswer,
    /// (Chunks) The bytes arrive damaged: the checksum does not match, nothing is kept.
    Corrupt,
    /// (Chunks and offsets) The upload expired on the server.
    Expire,
}

/// A tus upload in progress.
#[derive(Debug, Clone)]
pub(crate) struct FakeUpload {
    pub(crate) device: DeviceId,
    pub(crate) sha256: String,
    pub(crate) length: u64,
    pub(crate) bytes: Vec<u8>,
    pub(crate) gone: bool,
}

#[derive(Debug, Default, Clone)]
struct ScopeLog {
    epoch: u64,
    changes: Vec<Change>,
    head: u64,
}

/// What the server has committed about pushed mutations.
#[derive(Debug, Default, Clone)]
struct Ledger {
    last_seq: HashMap<DeviceId, u64>,
    receipts: BTreeMap<(DeviceId, u64), MutationStatus>,
    /// One entry per mutation that took effect: the exactly-once evidence.
    effects: Vec<(DeviceId, u64, MutationId)>,
    versions: HashMap<Uuid, u64>,
}

#[derive(Debug, Default)]
struct State {
    codes: BTreeSet<String>,
    tokens: HashMap<String, DeviceId>,
    minted: u64,
    ledger: Ledger,
    reject: BTreeSet<u64>,
    scopes: BTreeMap<String, ScopeLog>,
    /// Rows the server holds, to merge field edits into.
    rows: HashMap<Uuid, (String, EntityKind, serde_json::Value)>,
    faults: HashMap<Call, VecDeque<Fault>>,
    calls: Vec<Call>,
    pulls: Vec<(String, u64, u64)>,
    /// Photos attested by pushes: sha256 → (device, size).
    attested: HashMap<String, (DeviceId, u64)>,
    /// Stored photos by sha256.
    blobs: HashMap<String, Vec<u8>>,
    uploads: BTreeMap<String, FakeUpload>,
    /// Photo bytes received in chunks, damaged and cut ones included.
    chunk_bytes: u64,
    /// Chunks sent without a checksum.
    unchecked_chunks: u64,
}

/// A cheap handle; clones share the server.
#[derive(Debug, Clone, Default)]
pub(crate) struct FakeServer {
    state: Arc<Mutex<State>>,
}

pub(crate) const PERSON: u128 = 0x300;
pub(crate) const TOWNSHIP: u128 = 0x10;
pub(crate) const SERVER_TIME_MS: i64 = 1_795_396_000_000;

impl FakeServer {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("fake server lock")
    }

    /// A one-time enrollment code.
    pub(crate) fn issue_code(&self, code: &str) {
        self.lock().codes.insert(code.to_owned());
    }

    /// Revokes every device token (what the township office does to a lost phone).
    pub(crate) fn revoke_all_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// Appends a row to a scope's change log (creating the scope in epoch 1), returns its seq.
    pub(crate) fn put(
        &self,
        scope: &str,
        entity: EntityKind,
        id: Uuid,
        row: serde_json::Value,
    ) -> u64 {
        let mut st = self.lock();
        let version = {
            let v = st.ledger.versions.entry(id).or_insert(0);
            *v += 1;
            *v
        };
        st.rows.insert(id, (scope.to_owned(), entity, row.clone()));
        append(&mut st, scope, entity, id, version, Some(row))
    }

    /// Appends a tombstone.
    pub(crate) fn tombstone(&self, scope: &str, entity: EntityKind, id: Uuid) -> u64 {
        let mut st = self.lock();
        st.rows.remove(&id);
        let version = st.ledger.versions.get(&id).copied().unwrap_or(0) + 1;
        st.ledger.versions.insert(id, version);
        append(&mut st, scope, entity, id, version, None)
    }

    /// Compacts a scope into a new epoch holding only `keep` (ids of rows it already has).
    pub(crate) fn reset_scope(&self, scope: &str, keep: &[Uuid]) {
        let mut st = self.lock();
        let log = st.scopes.get(scope).cloned().expect("scope exists");
        let mut changes: Vec<Change> = Vec::new();
        for c in log.changes.iter().rev() {
            if keep.contains(&c.id) && !changes.iter().any(|k| k.id == c.id) && c.row.is_some() {
                changes.push(c.clone());
            }
        }
        changes.reverse();
        for (i, c) in changes.iter_mut().enumerate() {
            c.seq = i as u64 + 1;
        }
        let head = changes.len() as u64;
        st.scopes.insert(
            scope.to_owned(),
            ScopeLog {
                epoch: log.epoch + 1,
                changes,
                head,
            },
        );
    }

    /// The device may no longer see this scope.
    pub(crate) fn remove_scope(&self, scope: &str) {
        self.lock().scopes.remove(scope);
    }

    /// The next `n` calls of `call` fail with `err`, before doing anything.
    pub(crate) fn fail(&self, call: Call, n: usize, err: TransportError) {
        let mut st = self.lock();
        let q = st.faults.entry(call).or_default();
        for _ in 0..n {
            q.push_back(Fault::Fail(err.clone()));
        }
    }

    /// The next `pass` calls of `call` go through, then one fails with `err`.
    pub(crate) fn fail_after(&self, call: Call, pass: usize, err: TransportError) {
        let mut st = self.lock();
        let q = st.faults.entry(call).or_default();
        for _ in 0..pass {
            q.push_back(Fault::Pass);
        }
        q.push_back(Fault::Fail(err));
    }

    /// The next `n` calls of `call` do their work and commit, then lose the answer.
    pub(crate) fn drop_answers(&self, call: Call, n: usize) {
        let mut st = self.lock();
        let q = st.faults.entry(call).or_default();
        for _ in 0..n {
            q.push_back(Fault::DropAnswer);
        }
    }

    /// The next `pass` calls of `call` go through, then one does its work and loses its answer.
    pub(crate) fn drop_after(&self, call: Call, pass: usize) {
        let mut st = self.lock();
        let q = st.faults.entry(call).or_default();
        for _ in 0..pass {
            q.push_back(Fault::Pass);
        }
        q.push_back(Fault::DropAnswer);
    }

    /// The mutation with this seq is rejected (not assigned) when it is applied.
    pub(crate) fn reject_seq(&self, seq: u64) {
        self.lock().reject.insert(seq);
    }

    /// The server is restored from a backup taken when it had this device up to `keep_through`.
    pub(crate) fn lose_tail(&self, device: DeviceId, keep_through: u64) {
        let mut st = self.lock();
        let lost: Vec<u64> = st
            .ledger
            .receipts
            .range((device, keep_through + 1)..=(device, u64::MAX))
            .map(|((_, s), _)| *s)
            .collect();
        for s in &lost {
            st.ledger.receipts.remove(&(device, *s));
        }
        st.ledger
            .effects
            .retain(|(d, seq, _)| *d != device || *seq <= keep_through);
        st.ledger.last_seq.insert(device, keep_through);
    }

    /// Mutation ids in the order they took effect.
    pub(crate) fn effects(&self) -> Vec<MutationId> {
        self.lock()
            .ledger
            .effects
            .iter()
            .map(|(_, _, m)| *m)
            .collect()
    }

    /// The receipt of one mutation.
    pub(crate) fn receipt(&self, device: DeviceId, seq: u64) -> Option<MutationStatus> {
        self.lock().ledger.receipts.get(&(device, seq)).cloned()
    }

    /// The next `n` chunks arrive damaged (checksum mismatch, nothing kept).
    pub(crate) fn corrupt_chunks(&self, n: usize) {
        let mut st = self.lock();
        let q = st.faults.entry(Call::UploadChunk).or_default();
        for _ in 0..n {
            q.push_back(Fault::Corrupt);
        }
    }

    /// The next call of `call` finds its upload expired.
    pub(crate) fn expire_next(&self, call: Call) {
        self.lock()
            .faults
            .entry(call)
            .or_default()
            .push_back(Fault::Expire);
    }

    /// The stored photo, if the server has it.
    pub(crate) fn blob(&self, sha256: &str) -> Option<Vec<u8>> {
        self.lock().blobs.get(sha256).cloned()
    }

    /// Stores a photo directly (as if another phone had uploaded it).
    pub(crate) fn put_blob(&self, sha256: &str, bytes: Vec<u8>) {
        self.lock().blobs.insert(sha256.to_owned(), bytes);
    }

    /// Photo bytes received in chunks, including damaged and resent ones.
    pub(crate) fn chunk_bytes(&self) -> u64 {
        self.lock().chunk_bytes
    }

    /// Chunks sent without a checksum (after a dropped link).
    pub(crate) fn unchecked_chunks(&self) -> u64 {
        self.lock().unchecked_chunks
    }

    /// Uploads created so far.
    pub(crate) fn uploads(&self) -> Vec<FakeUpload> {
        self.lock().uploads.values().cloned().collect()
    }

    /// How often `call` was made (faulted calls included).
    pub(crate) fn calls(&self, call: Call) -> usize {
        self.lock().calls.iter().filter(|c| **c == call).count()
    }

    /// Every pull asked for, as (scope, after, epoch).
    pub(crate) fn pulls(&self) -> Vec<(String, u64, u64)> {
        self.lock().pulls.clone()
    }

    fn enter(
        &self,
        call: Call,
        token: Option<&str>,
    ) -> Result<(MutexGuard<'_, State>, Option<DeviceId>, bool), TransportError> {
        let mut st = self.lock();
        st.calls.push(call);
        let device = match token {
            Some(t) => Some(
                *st.tokens
                    .get(t)
                    .ok_or_else(|| TransportError::Unauthorised {
                        message: "unknown or revoked device token; enroll the phone again".into(),
                    })?,
            ),
            None => None,
        };
        let drop = match st.faults.get_mut(&call).and_then(VecDeque::pop_front) {
            Some(Fault::Fail(e)) => return Err(e),
            Some(Fault::DropAnswer) => true,
            Some(Fault::Corrupt) => {
                return Err(TransportError::Refused {
                    status: 460,
                    code: codes::CHECKSUM_MISMATCH.into(),
                    message: "checksum mismatch; chunk discarded".into(),
                });
            }
            Some(Fault::Expire) => {
                for u in st.uploads.values_mut() {
                    u.gone = true;
                }
                false
            }
            Some(Fault::Pass) | None => false,
        };
        Ok((st, device, drop))
    }

    fn upload_of<'a>(
        st: &'a mut State,
        device: DeviceId,
        url: &str,
    ) -> Result<&'a mut FakeUpload, TransportError> {
        match st.uploads.get_mut(url) {
            Some(u) if u.device == device && !u.gone => Ok(u),
            Some(u) if u.device == device => Err(TransportError::Refused {
                status: 410,
                code: codes::UPLOAD_GONE.into(),
                message: String::new(),
            }),
            _ => Err(TransportError::Refused {
                status: 404,
                code: codes::NOT_FOUND.into(),
                message: String::new(),
            }),
        }
    }
}

fn append(
    st: &mut State,
    scope: &str,
    entity: EntityKind,
    id: Uuid,
    version: u64,
    row: Option<serde_json::Value>,
) -> u64 {
    let log = st
        .scopes
        .entry(scope.to_owned())
        .or_insert_with(|| ScopeLog {
            epoch: 1,
            ..ScopeLog::default()
        });
    log.head += 1;
    let seq = log.head;
    log.changes.push(Change {
        seq,
        entity,
        id,
        server_version: version,
        row,
    });
    seq
}

fn apply(st: &mut State, device: DeviceId, seq: u64, mid: MutationId, op: &Op) -> MutationStatus {
    if st.reject.contains(&seq) {
        return MutationStatus::Rejected {
            code: codes::NOT_ASSIGNED.into(),
            reason: "不在您负责的村".into(),
        };
    }
    let (_, id) = op.target();
    let version = {
        let v = st.ledger.versions.entry(id).or_insert(0);
        *v += 1;
        *v
    };
    st.ledger.effects.push((device, seq, mid));
    if let Op::AttestPhoto { attestation, .. } = op {
        st.attested
            .entry(attestation.sha256.to_string())
            .or_insert((device, attestation.size));
    }
    if let Op::UpdateFields { entity, fields, .. } = op
        && let Some((scope, _, row)) = st.rows.get(&id).cloned()
    {
        let mut row = row;
        for (k, v) in fields {
            row[k] = v.clone();
        }
        st.rows.insert(id, (scope.clone(), *entity, row.clone()));
        append(st, &scope, *entity, id, version, Some(row));
    }
    MutationStatus::Applied {
        server_version: version,
    }
}

impl Transport for FakeServer {
    async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, TransportError> {
        let (mut st, _, drop) = self.enter(Call::Enroll, None)?;
        if !st.codes.remove(&req.code) {
            return Err(TransportError::Refused {
                status: 400,
                code: codes::ENROLLMENT_INVALID.into(),
                message: "unknown, used or expired code".into(),
            });
        }
        st.minted += 1;
        let token = format!("cjd1.token-{}", st.minted);
        st.tokens.insert(token.clone(), req.device_id);
        if drop {
            return Err(TransportError::Timeout);
        }
        Ok(EnrollResponse {
            device_id: req.device_id,
            token,
            person_id: PersonId::from_uuid(Uuid::from_u128(PERSON)),
            person_name: "李秀英".into(),
            role: Role::Inspector,
            township_id: TownshipId::from_uuid(Uuid::from_u128(TOWNSHIP)),
            township_name: "桐木镇".into(),
            server_time_ms: SERVER_TIME_MS,
        })
    }

    async fn push(&self, token: &str, req: &PushRequest) -> Result<PushResponse, TransportError> {
        let (mut st, device, drop) = self.enter(Call::Push, Some(token))?;
        let device = device.expect("authenticated");
        // One transaction: work on a copy, commit only if the whole batch is acceptable.
        let before = st.ledger.clone();
        let rows_before = st.rows.clone();
        let scopes_before = st.scopes.clone();
        let mut results = Vec::new();
        for m in &req.mutations {
            if m.device_id != device {
                st.ledger = before;
                st.rows = rows_before;
                st.scopes = scopes_before;
                return Err(TransportError::Refused {
                    status: 403,
                    code: codes::DEVICE_MISMATCH.into(),
                    message: "batch names another device".into(),
                });
            }
            let last = st.ledger.last_seq.get(&device).copied().unwrap_or(0);
            if m.seq > last + 1 {
                st.ledger = before;
                st.rows = rows_before;
                st.scopes = scopes_before;
                let expected = last + 1;
                return Err(TransportError::SeqGap {
                    expected: Some(expected),
                    message: format!("expected {expected}, got {}", m.seq),
                });
            }
            if m.seq == last + 1 {
                let status = apply(&mut st, device, m.seq, m.mutation_id, &m.payload);
                st.ledger.receipts.insert((device, m.seq), status);
                st.ledger.last_seq.insert(device, m.seq);
            }
            let status = st
                .ledger
                .receipts
                .get(&(device, m.seq))
                .cloned()
                .expect("a settled seq has a receipt");
            results.push(MutationResult { seq: m.seq, status });
        }
        let acked_through = st.ledger.last_seq.get(&device).copied().unwrap_or(0);
        if drop {
            return Err(TransportError::Timeout);
        }
        Ok(PushResponse {
            acked_through,
            results,
            server_time_ms: SERVER_TIME_MS,
        })
    }

    async fn scopes(&self, token: &str) -> Result<ScopeList, TransportError> {
        let (st, _, drop) = self.enter(Call::Scopes, Some(token))?;
        let scopes = st
            .scopes
            .iter()
            .map(|(scope, log)| ScopeInfo {
                scope: scope.clone(),
                epoch: log.epoch,
                head: log.head,
            })
            .collect();
        if drop {
            return Err(TransportError::Timeout);
        }
        Ok(ScopeList {
            scopes,
            server_time_ms: SERVER_TIME_MS,
        })
    }

    async fn pull(
        &self,
        token: &str,
        scope: &str,
        after: u64,
        epoch: u64,
        limit: u32,
    ) -> Result<PullPage, TransportError> {
        // Recorded before faults, so a failed ask shows too.
        self.lock().pulls.push((scope.to_owned(), after, epoch));
        let (st, _, drop) = self.enter(Call::Pull, Some(token))?;
        let log = st
            .scopes
            .get(scope)
            .cloned()
            .ok_or_else(|| TransportError::Refused {
                status: 403,
                code: codes::FORBIDDEN.into(),
                message: "not your scope".into(),
            })?;
        // A stale epoch is answered from 0 in the current one.
        let after = if epoch == log.epoch { after } else { 0 };
        let changes: Vec<Change> = log
            .changes
            .iter()
            .filter(|c| c.seq > after)
            .take(limit as usize)
            .cloned()
            .collect();
        let next_after = changes.last().map_or(after, |c| c.seq);
        if drop {
            return Err(TransportError::Timeout);
        }
        Ok(PullPage {
            scope: scope.to_owned(),
            epoch: log.epoch,
            up_to_date: next_after >= log.head,
            next_after,
            changes,
        })
    }

    async fn blob_exists(&self, token: &str, sha256: &PhotoHash) -> Result<bool, TransportError> {
        let (st, _, drop) = self.enter(Call::BlobExists, Some(token))?;
        let found = st.blobs.contains_key(sha256.as_str());
        if drop {
            return Err(TransportError::Timeout);
        }
        Ok(found)
    }

    async fn create_upload(
        &self,
        token: &str,
        sha256: &PhotoHash,
        length: u64,
    ) -> Result<String, TransportError> {
        let (mut st, device, drop) = self.enter(Call::CreateUpload, Some(token))?;
        let device = device.expect("authenticated");
        match st.attested.get(sha256.as_str()) {
            Some((d, size)) if *d == device && *size == length => {}
            _ => {
                return Err(TransportError::Refused {
                    status: 403,
                    code: codes::NOT_REFERENCED.into(),
                    message: "push the photo's record first".into(),
                });
            }
        }
        let url = format!(
            "https://tongmu.example.cn/api/v1/uploads/{}",
            st.uploads.len() + 1
        );
        st.uploads.insert(
            url.clone(),
            FakeUpload {
                device,
                sha256: sha256.to_string(),
                length,
                bytes: Vec::new(),
                gone: false,
            },
        );
        if drop {
            return Err(TransportError::Timeout);
        }
        Ok(url)
    }

    async fn upload_offset(&self, token: &str, url: &str) -> Result<u64, TransportError> {
        let (mut st, device, drop) = self.enter(Call::UploadOffset, Some(token))?;
        let offset = Self::upload_of(&mut st, device.expect("authenticated"), url)?
            .bytes
            .len();
        if drop {
            return Err(TransportError::Timeout);
        }
        Ok(offset as u64)
    }

    async fn upload_chunk(
        &self,
        token: &str,
        url: &str,
        offset: u64,
        chunk: Vec<u8>,
        checksum: bool,
    ) -> Result<u64, TransportError> {
        {
            let mut st = self.lock();
            st.chunk_bytes += chunk.len() as u64;
            if !checksum {
                st.unchecked_chunks += 1;
            }
        }
        let (mut st, device, drop) = self.enter(Call::UploadChunk, Some(token))?;
        let up = Self::upload_of(&mut st, device.expect("authenticated"), url)?;
        if offset != up.bytes.len() as u64 {
            return Err(TransportError::Refused {
                status: 409,
                code: codes::OFFSET_MISMATCH.into(),
                message: format!("the upload is at {}", up.bytes.len()),
            });
        }
        if offset == up.length {
            return Err(TransportError::Refused {
                status: 409,
                code: codes::OFFSET_MISMATCH.into(),
                message: "the upload is complete".into(),
            });
        }
        if offset + chunk.len() as u64 > up.length {
            return Err(TransportError::Refused {
                status: 413,
                code: codes::TOO_LARGE.into(),
                message: "past the upload's length".into(),
            });
        }
        up.bytes.extend_from_slice(&chunk);
        let new = up.bytes.len() as u64;
        if new == up.length {
            let (sha, bytes) = (up.sha256.clone(), up.bytes.clone());
            if cunjie_sync_test_sha(&bytes) != sha {
                st.uploads.remove(url);
                return Err(TransportError::Refused {
                    status: 422,
                    code: codes::HASH_MISMATCH.into(),
                    message: "the file does not hash to its claim".into(),
                });
            }
            st.blobs.insert(sha, bytes);
        }
        if drop {
            return Err(TransportError::Timeout);
        }
        Ok(new)
    }
}

/// Hex SHA-256, as the server checks a finished upload.
pub(crate) fn cunjie_sync_test_sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
