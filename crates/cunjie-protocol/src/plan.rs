//! The sync planner, without I/O: which mutations go in which push, what a push answer settled,
//! and what to do with each scope before pulling.
//!
//! Every function here is pure, so the rules are tested as tables and the engine in
//! `cunjie-sync` only carries out the plan. Outputs are in a stable order (seq order for
//! pushes, scope order for pulls) so that tests and logs read the same every time.

use std::collections::BTreeMap;

use crate::v1::{Mutation, MutationStatus, PushResponse, ScopeList};

/// The JSON around a batch: `{"mutations":[` and `]}`.
const ENVELOPE_BYTES: usize = r#"{"mutations":[]}"#.len();

/// The size of a mutation as JSON, in bytes (`usize::MAX` if it cannot be written, so that it
/// travels alone and the transport reports the error).
fn json_len(m: &Mutation) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    match serde_json::to_writer(&mut c, m) {
        Ok(()) => c.0,
        Err(_) => usize::MAX,
    }
}

/// Splits pending mutations into push batches, in seq order, each with at most `max_count`
/// mutations and at most `max_bytes` bytes of (uncompressed) request JSON.
///
/// A batch is never split so that it exceeds a limit, except that a single mutation larger
/// than `max_bytes` travels alone. A `max_count` of 0 is treated as 1. The size is measured
/// before gzip, so the limit is conservative.
pub fn push_batches(
    pending: &[Mutation],
    max_count: usize,
    max_bytes: usize,
) -> Vec<Vec<Mutation>> {
    let max_count = max_count.max(1);
    let mut sorted: Vec<&Mutation> = pending.iter().collect();
    sorted.sort_by_key(|m| m.seq);
    let mut batches = Vec::new();
    let mut batch: Vec<Mutation> = Vec::new();
    let mut bytes = ENVELOPE_BYTES;
    for m in sorted {
        let len = json_len(m);
        let extra = if batch.is_empty() {
            len
        } else {
            len.saturating_add(1)
        };
        if !batch.is_empty()
            && (batch.len() >= max_count || bytes.saturating_add(extra) > max_bytes)
        {
            batches.push(std::mem::take(&mut batch));
            bytes = ENVELOPE_BYTES.saturating_add(len);
        } else {
            bytes = bytes.saturating_add(extra);
        }
        batch.push(m.clone());
    }
    if !batch.is_empty() {
        batches.push(batch);
    }
    batches
}

/// A mutation the server refused for good (it still counts as settled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The mutation's seq.
    pub seq: u64,
    /// Stable code, e.g. `not_assigned`.
    pub code: String,
    /// Why, in words for a person.
    pub reason: String,
}

/// What a push answer means for the seqs that were sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushOutcome {
    /// Sent seqs the server settled (applied or rejected), ascending. Always a prefix of the
    /// sent seqs: the server settles seqs in order, so a settled seq after an unsettled one
    /// means a confused answer, and it is sent again (the server answers from its receipt).
    pub settled: Vec<u64>,
    /// Sent seqs still waiting, ascending: send them again.
    pub still_pending: Vec<u64>,
    /// The settled seqs that were rejected, with their code and reason.
    pub rejected: Vec<Rejection>,
}

impl PushOutcome {
    /// The highest settled seq, if any: every sent seq up to it is settled.
    pub fn acked_through(&self) -> Option<u64> {
        self.settled.last().copied()
    }
}

/// Reads a push answer against the seqs that were sent. A seq is settled when it is at most
/// `acked_through` *and* the answer carries its result; results for seqs that were not sent
/// are ignored.
pub fn interpret_push(sent_seqs: &[u64], resp: &PushResponse) -> PushOutcome {
    let mut seqs = sent_seqs.to_vec();
    seqs.sort_unstable();
    seqs.dedup();
    let mut by_seq: BTreeMap<u64, &MutationStatus> = BTreeMap::new();
    for r in &resp.results {
        by_seq.entry(r.seq).or_insert(&r.status);
    }
    let mut out = PushOutcome::default();
    for (i, seq) in seqs.iter().copied().enumerate() {
        let status = by_seq.get(&seq).filter(|_| seq <= resp.acked_through);
        match status {
            Some(status) => {
                out.settled.push(seq);
                if let MutationStatus::Rejected { code, reason } = status {
                    out.rejected.push(Rejection {
                        seq,
                        code: code.clone(),
                        reason: reason.clone(),
                    });
                }
            }
            None => {
                out.still_pending = seqs[i..].to_vec();
                break;
            }
        }
    }
    out
}

/// What to do with one scope before (or instead of) pulling it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullAction {
    /// Pull pages from `after` in `epoch` until the scope is up to date.
    Pull {
        /// The scope.
        scope: String,
        /// The phone's cursor (0 for a scope it never pulled).
        after: u64,
        /// The server's epoch.
        epoch: u64,
    },
    /// Wipe the scope's synced rows (never the outbox, drafts or own facts), then pull from 0
    /// in the new epoch.
    Reset {
        /// The scope.
        scope: String,
        /// The server's epoch.
        epoch: u64,
    },
    /// The device may no longer see this scope: wipe its synced rows and its cursor.
    Drop {
        /// The scope.
        scope: String,
    },
    /// Nothing new.
    UpToDate {
        /// The scope.
        scope: String,
    },
}

impl PullAction {
    /// The scope this action is about.
    pub fn scope(&self) -> &str {
        match self {
            Self::Pull { scope, .. }
            | Self::Reset { scope, .. }
            | Self::Drop { scope }
            | Self::UpToDate { scope } => scope,
        }
    }
}

/// Decides, for every scope the phone holds or the server lists, what to do. `local` is
/// `(scope, after, epoch)` for each stored cursor. Sorted by scope.
///
/// - A listed scope the phone never pulled is pulled from 0 (or up to date if it is empty).
/// - A different epoch means a reset.
/// - A cursor past the server's head means the server lost its tail (restored from a backup):
///   a reset too, so the phone does not keep rows the server no longer has.
/// - A scope the phone holds but the server no longer lists is dropped.
pub fn plan_pull(local: &[(String, u64, u64)], server: &ScopeList) -> Vec<PullAction> {
    let local: BTreeMap<&str, (u64, u64)> = local
        .iter()
        .map(|(scope, after, epoch)| (scope.as_str(), (*after, *epoch)))
        .collect();
    let listed: BTreeMap<&str, (u64, u64)> = server
        .scopes
        .iter()
        .map(|s| (s.scope.as_str(), (s.head, s.epoch)))
        .collect();
    let mut actions = Vec::with_capacity(local.len().max(listed.len()));
    for (&scope, &(head, epoch)) in &listed {
        let scope_s = scope.to_owned();
        let action = match local.get(scope) {
            None if head == 0 => PullAction::UpToDate { scope: scope_s },
            None => PullAction::Pull {
                scope: scope_s,
                after: 0,
                epoch,
            },
            Some(&(after, mine)) if mine != epoch || after > head => PullAction::Reset {
                scope: scope_s,
                epoch,
            },
            Some(&(after, _)) if after == head => PullAction::UpToDate { scope: scope_s },
            Some(&(after, _)) => PullAction::Pull {
                scope: scope_s,
                after,
                epoch,
            },
        };
        actions.push(action);
    }
    for &scope in local.keys() {
        if !listed.contains_key(scope) {
            actions.push(PullAction::Drop {
                scope: scope.to_owned(),
            });
        }
    }
    actions.sort_by(|a, b| a.scope().cmp(b.scope()));
    actions
}
