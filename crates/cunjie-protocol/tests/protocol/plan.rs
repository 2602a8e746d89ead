//! The sans-io planner, as tables: each case is (input, expected, why).

use cunjie_domain::ids::{DeviceId, MutationId, RectificationId};
use cunjie_protocol::plan::{
    PullAction, PushOutcome, Rejection, interpret_push, plan_pull, push_batches,
};
use cunjie_protocol::v1::{
    Mutation, MutationResult, MutationStatus, Op, PushRequest, PushResponse, ScopeInfo, ScopeList,
};
use proptest::prelude::*;
use uuid::Uuid;

/// (pending, max_count, max_bytes, expected seqs per batch, why).
type BatchCase<'a> = (Vec<Mutation>, usize, usize, Vec<Vec<u64>>, &'a str);
/// (local cursors, server scopes, expected actions, why).
type PullCase<'a> = (Vec<(String, u64, u64)>, ScopeList, Vec<PullAction>, &'a str);

/// A mutation whose JSON size grows with `note_len` (a review with a note of that many bytes).
fn mutation(seq: u64, note_len: usize) -> Mutation {
    Mutation {
        device_id: DeviceId::from_uuid(Uuid::from_u128(0xd1)),
        seq,
        mutation_id: MutationId::from_uuid(Uuid::from_u128(0x1000 + u128::from(seq))),
        base_version: Some(1),
        hlc: (1_000 + seq) << 16,
        schema_version: 1,
        device_time: None,
        payload: Op::ReviewRectification {
            id: RectificationId::from_uuid(Uuid::from_u128(0x2000)),
            accepted: true,
            note: Some("x".repeat(note_len)),
        },
    }
}

fn json_len<T: serde::Serialize>(v: &T) -> usize {
    serde_json::to_vec(v).expect("json").len()
}

fn seqs(batches: &[Vec<Mutation>]) -> Vec<Vec<u64>> {
    batches
        .iter()
        .map(|b| b.iter().map(|m| m.seq).collect())
        .collect()
}

#[test]
fn push_batches_table() {
    // Single-digit seqs and equal notes: every mutation has the same size.
    let one = json_len(&mutation(1, 10));
    let two = json_len(&PushRequest {
        mutations: vec![mutation(1, 10), mutation(2, 10)],
        sent_at: None,
    });
    assert_eq!(
        two,
        16 + 2 * one + 1,
        "the size model: envelope, items, commas"
    );
    let big = 1 << 20;
    let ms = |list: &[u64]| list.iter().map(|&s| mutation(s, 10)).collect::<Vec<_>>();
    let cases: Vec<BatchCase<'_>> = vec![
        (vec![], 10, big, vec![], "nothing pending, no batch"),
        (
            ms(&[1, 2, 3, 4, 5]),
            2,
            big,
            vec![vec![1, 2], vec![3, 4], vec![5]],
            "count limit",
        ),
        (
            ms(&[3, 1, 2]),
            10,
            big,
            vec![vec![1, 2, 3]],
            "seq order whatever the input order",
        ),
        (
            ms(&[1, 2, 3, 4]),
            10,
            two,
            vec![vec![1, 2], vec![3, 4]],
            "byte limit fits exactly two",
        ),
        (
            ms(&[1, 2, 3]),
            10,
            two - 1,
            vec![vec![1], vec![2], vec![3]],
            "one byte less: one each",
        ),
        (
            ms(&[1, 2, 3]),
            0,
            big,
            vec![vec![1], vec![2], vec![3]],
            "a count of 0 means 1",
        ),
        (
            vec![mutation(1, 10), mutation(2, 5_000), mutation(3, 10)],
            10,
            two,
            vec![vec![1], vec![2], vec![3]],
            "an oversized mutation travels alone, never merged",
        ),
        (
            vec![mutation(1, 5_000)],
            10,
            100,
            vec![vec![1]],
            "a lone oversized mutation is still sent",
        ),
    ];
    for (pending, max_count, max_bytes, expected, why) in cases {
        let got = push_batches(&pending, max_count, max_bytes);
        assert_eq!(seqs(&got), expected, "{why}");
    }
}

proptest! {
    #[test]
    fn push_batches_keep_order_and_limits(
        notes in proptest::collection::vec(0usize..600, 0..40),
        max_count in 1usize..8,
        max_bytes in 200usize..3_000,
    ) {
        let pending: Vec<Mutation> = notes
            .iter()
            .enumerate()
            .map(|(i, &n)| mutation(i as u64 + 1, n))
            .collect();
        let batches = push_batches(&pending, max_count, max_bytes);
        let flat: Vec<u64> = batches.iter().flatten().map(|m| m.seq).collect();
        prop_assert_eq!(
            flat,
            pending.iter().map(|m| m.seq).collect::<Vec<_>>(),
            "every mutation once, in seq order"
        );
        for b in &batches {
            prop_assert!(!b.is_empty(), "no empty batch");
            prop_assert!(b.len() <= max_count, "count limit");
            let size = json_len(&PushRequest {
 mutations: b.clone(),
 sent_at: None,
 });
            prop_assert!(
                b.len() == 1 || size <= max_bytes,
                "a multi-mutation batch of {} bytes is within {}", size, max_bytes
            );
        }
    }
}

fn applied(seq: u64) -> MutationResult {
    MutationResult {
        seq,
        status: MutationStatus::Applied {
            server_version: seq,
        },
    }
}

fn rejected(seq: u64) -> MutationResult {
    MutationResult {
        seq,
        status: MutationStatus::Rejected {
            code: "not_assigned".into(),
            reason: "不在您负责的村".into(),
        },
    }
}

fn resp(acked_through: u64, results: Vec<MutationResult>) -> PushResponse {
    PushResponse {
        acked_through,
        results,
        server_time_ms: 0,
    }
}

fn outcome(settled: &[u64], still_pending: &[u64], rejected: &[u64]) -> PushOutcome {
    PushOutcome {
        settled: settled.to_vec(),
        still_pending: still_pending.to_vec(),
        rejected: rejected
            .iter()
            .map(|&seq| Rejection {
                seq,
                code: "not_assigned".into(),
                reason: "不在您负责的村".into(),
            })
            .collect(),
    }
}

#[test]
fn interpret_push_table() {
    let cases: Vec<(Vec<u64>, PushResponse, PushOutcome, &str)> = vec![
        (
            vec![1, 2, 3],
            resp(3, vec![applied(1), applied(2), applied(3)]),
            outcome(&[1, 2, 3], &[], &[]),
            "all applied",
        ),
        (
            vec![1, 2, 3],
            resp(3, vec![applied(1), rejected(2), applied(3)]),
            outcome(&[1, 2, 3], &[], &[2]),
            "a rejection is settled too, and reported",
        ),
        (
            vec![1, 2, 3],
            resp(2, vec![applied(1), applied(2), applied(3)]),
            outcome(&[1, 2], &[3], &[]),
            "a result past acked_through is not settled",
        ),
        (
            vec![1, 2, 3],
            resp(3, vec![applied(1), applied(3)]),
            outcome(&[1], &[2, 3], &[]),
            "a missing result stops the settled prefix; the rest is resent",
        ),
        (
            vec![4, 5],
            resp(9, vec![applied(4), applied(5)]),
            outcome(&[4, 5], &[], &[]),
            "the server may be ahead of this batch (an earlier answer was lost)",
        ),
        (
            vec![1, 2],
            resp(0, vec![]),
            outcome(&[], &[1, 2], &[]),
            "an empty answer settles nothing",
        ),
        (
            vec![1],
            resp(2, vec![applied(1), applied(2)]),
            outcome(&[1], &[], &[]),
            "results for seqs not sent are ignored",
        ),
        (
            vec![3, 1, 2, 2],
            resp(3, vec![applied(3), applied(2), applied(1)]),
            outcome(&[1, 2, 3], &[], &[]),
            "sent seqs are sorted and deduplicated",
        ),
        (
            vec![],
            resp(3, vec![applied(1)]),
            outcome(&[], &[], &[]),
            "nothing sent, nothing settled",
        ),
    ];
    for (sent, response, expected, why) in cases {
        assert_eq!(interpret_push(&sent, &response), expected, "{why}");
    }
    assert_eq!(
        outcome(&[1, 2], &[3], &[]).acked_through(),
        Some(2),
        "acked_through is the last settled seq"
    );
    assert_eq!(
        outcome(&[], &[3], &[]).acked_through(),
        None,
        "nothing settled, nothing acked"
    );
}

fn scopes(list: &[(&str, u64, u64)]) -> ScopeList {
    ScopeList {
        scopes: list
            .iter()
            .map(|&(scope, epoch, head)| ScopeInfo {
                scope: scope.into(),
                epoch,
                head,
            })
            .collect(),
        server_time_ms: 0,
    }
}

fn local(list: &[(&str, u64, u64)]) -> Vec<(String, u64, u64)> {
    list.iter()
        .map(|&(s, after, epoch)| (s.to_owned(), after, epoch))
        .collect()
}

fn pull(scope: &str, after: u64, epoch: u64) -> PullAction {
    PullAction::Pull {
        scope: scope.into(),
        after,
        epoch,
    }
}

#[test]
fn plan_pull_table() {
    let up = |s: &str| PullAction::UpToDate { scope: s.into() };
    let reset = |s: &str, epoch| PullAction::Reset {
        scope: s.into(),
        epoch,
    };
    let drop = |s: &str| PullAction::Drop { scope: s.into() };
    // local: (scope, after, epoch); server: (scope, epoch, head).
    let cases: Vec<PullCase<'_>> = vec![
        (local(&[]), scopes(&[]), vec![], "nothing anywhere"),
        (
            local(&[]),
            scopes(&[("village:a", 1, 12)]),
            vec![pull("village:a", 0, 1)],
            "a new scope is pulled from 0",
        ),
        (
            local(&[]),
            scopes(&[("zone:z", 1, 0)]),
            vec![up("zone:z")],
            "a new empty scope has nothing to pull",
        ),
        (
            local(&[("village:a", 7, 1)]),
            scopes(&[("village:a", 1, 12)]),
            vec![pull("village:a", 7, 1)],
            "behind in the same epoch: pull from the cursor",
        ),
        (
            local(&[("village:a", 12, 1)]),
            scopes(&[("village:a", 1, 12)]),
            vec![up("village:a")],
            "at the head: up to date",
        ),
        (
            local(&[("village:a", 12, 1)]),
            scopes(&[("village:a", 2, 3)]),
            vec![reset("village:a", 2)],
            "a new epoch: wipe and pull from 0",
        ),
        (
            local(&[("village:a", 12, 1)]),
            scopes(&[("village:a", 1, 9)]),
            vec![reset("village:a", 1)],
            "cursor past the head (server restored from a backup): reset",
        ),
        (
            local(&[("village:gone", 4, 1)]),
            scopes(&[]),
            vec![drop("village:gone")],
            "a scope no longer listed is dropped",
        ),
        (
            local(&[
                ("zone:z", 3, 1),
                ("village:old", 9, 1),
                ("township:t", 5, 1),
            ]),
            scopes(&[
                ("village:new", 1, 4),
                ("township:t", 1, 5),
                ("zone:z", 2, 3),
            ]),
            vec![
                up("township:t"),
                pull("village:new", 0, 1),
                drop("village:old"),
                reset("zone:z", 2),
            ],
            "mixed, sorted by scope",
        ),
    ];
    for (local, server, expected, why) in cases {
        assert_eq!(plan_pull(&local, &server), expected, "{why}");
    }
}
