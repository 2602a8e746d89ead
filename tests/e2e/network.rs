//! Phones and a real server on 127.0.0.1: a week offline then sync in random order, a lost
//! response, a revoked phone, and the `cunjie-server demo` township.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Duration;
use cunjie_domain::catalog::{Catalog, SubjectKind};
use cunjie_domain::clock::{Clock, FakeClock};
use cunjie_domain::fact::{
    CheckpointState, CheckpointVisit, CleanerRound, FactStatus, ItemResult, PhotoHash, Subject,
    TracePoint,
};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::person::Role;
use cunjie_domain::place::{Facility, ZoneGeometry};
use cunjie_domain::template::presets;
use cunjie_e2e::phone::Phone;
use cunjie_e2e::server::TestServer;
use cunjie_e2e::sim::{new_inspection, photo_context};
use cunjie_protocol::v1::{
    EnrollRequest, EnrollResponse, EntityKind, PullPage, PushRequest, PushResponse, ScopeList,
};
use cunjie_sync::{HttpTransport, SyncError, Transport, TransportError};

fn clock() -> Arc<FakeClock> {
    Arc::new(FakeClock::at(2026, 11, 16, 7, 30, 0))
}

/// An inspector records `n` household inspections of their village, a third with a failure
/// and a photo, and issues one rectification order.
fn inspect<T: Transport>(
    phone: &mut Phone<T>,
    server: &TestServer,
    village: usize,
    n: usize,
) -> Vec<String> {
    let t = presets::household_sanbao();
    let v = server.demo.villages[village].id;
    let inspector = server.demo.inspector(village).id;
    let households: Vec<_> = server
        .demo
        .households
        .iter()
        .filter(|h| h.village == v)
        .take(n)
        .cloned()
        .collect();
    let mut ids = Vec::new();
    for (k, hh) in households.iter().enumerate() {
        let mut insp = {
            let store = phone.store();
            new_inspection(
                &store,
                &t,
                Subject {
                    kind: SubjectKind::Household,
                    id: *hh.id.as_uuid(),
                },
                v,
                inspector,
                hh.location,
            )
        };
        for item in &t.items {
            insp.answer(ItemResult::pass(&item.item_code));
        }
        if k % 3 == 0 {
            let ctx = photo_context(
                insp.subject,
                hh.location,
                &format!("{} {}", hh.door_plate, hh.head_name),
                "检查员",
            );
            let photo = phone.take_photo(&ctx);
            insp.answer(ItemResult::fail("HH_WHITE_LITTER", 1, vec![photo]));
        }
        let mut store = phone.store();
        store.save_inspection_draft(&insp).expect("draft");
        store
            .submit_inspection(insp.id, &GeoPolicy::default())
            .expect("submit");
        if k == 0 {
            let order = cunjie_domain::fact::RectificationOrder::from_failed_item(
                &store.inspection(insp.id).expect("fact"),
                "HH_WHITE_LITTER",
                cunjie_domain::fact::OrderTerms {
                    id: store.new_id(),
                    issued_by: inspector,
                    assignee: inspector,
                    issued_at: store.clock().now(),
                    due: store.clock().now().date_naive() + Duration::days(7),
                },
            )
            .expect("order from the failed item");
            store.issue_rectification(&order).expect("issued");
        }
        ids.push(insp.id.to_string());
        drop(store);
        phone.clock.advance_ms(40 * 60_000);
    }
    ids
}

/// A cleaner walks their zone twice, servicing every checkpoint.
fn sweep<T: Transport>(phone: &mut Phone<T>, server: &TestServer, zone: usize) -> Vec<String> {
    let z = &server.demo.zones[zone];
    let cleaner = server.demo.cleaner(z.id).id;
    let ZoneGeometry::Line(path) = &z.geometry else {
        panic!("demo zones are roads")
    };
    let facilities: Vec<&Facility> = server
        .demo
        .facilities
        .iter()
        .filter(|f| f.zone == Some(z.id))
        .collect();
    let mut ids = Vec::new();
    for pass in 1..=2u8 {
        let t0 = phone.clock.now();
        let ctx = photo_context(
            Subject {
                kind: SubjectKind::Zone,
                id: *z.id.as_uuid(),
            },
            path.first().copied(),
            &z.name,
            "保洁员",
        );
        let photo = phone.take_photo(&ctx);
        let mut store = phone.store();
        let round = CleanerRound {
            id: store.new_id(),
            zone: z.id,
            cleaner,
            device: store.device_id(),
            pass_no: pass,
            started_at: t0,
            ended_at: Some(t0 + Duration::minutes(45)),
            server_received_at: None,
            trace: path
                .iter()
                .enumerate()
                .map(|(i, p)| TracePoint {
                    point: *p,
                    accuracy_m: 6.0,
                    at: t0 + Duration::minutes(i as i64 * 10),
                })
                .collect(),
            visits: facilities
                .iter()
                .map(|f| CheckpointVisit {
                    facility: f.id,
                    number: f.number.clone(),
                    state: CheckpointState::Cleared,
                    at: t0,
                    fix: None,
                    photos: vec![photo.clone()],
                    note: None,
                })
                .collect(),
            problems: vec![],
            status: FactStatus::Draft,
        };
        store.save_round_draft(&round).expect("draft");
        store
            .submit_round(round.id, Catalog::builtin(), &GeoPolicy::default())
            .expect("submit");
        ids.push(round.id.to_string());
        drop(store);
        phone.clock.advance_ms(5 * 3_600_000);
    }
    ids
}

fn without_server_time(mut v: serde_json::Value) -> serde_json::Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("server_received_at");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_inspectors_and_a_cleaner_work_a_week_offline_then_converge() {
    let server = TestServer::start(2, 2, 24);
    let d = &server.demo;
    let mut phones: Vec<(Phone, Role)> = Vec::new();
    for (person, role) in [
        (d.inspector(0).id, Role::Inspector),
        (d.inspector(1).id, Role::Inspector),
        (d.cleaner(d.zones[0].id).id, Role::Cleaner),
    ] {
        let p = Phone::http(&server.url, clock());
        p.engine
            .enroll(&server.url, &server.code(person, role), "红米 Note 12")
            .await
            .expect("enrolls");
        p.engine
            .sync_once()
            .await
            .expect("first sync pulls the registry");
        phones.push((p, role));
    }
    // A week without signal.
    let mut submitted: Vec<(usize, String)> = Vec::new();
    for day in 0..7 {
        for (i, (phone, role)) in phones.iter_mut().enumerate() {
            let ids = match role {
                Role::Inspector if day < 4 => inspect(phone, &server, i, 3),
                Role::Cleaner => sweep(phone, &server, 0),
                _ => vec![],
            };
            submitted.extend(ids.into_iter().map(|id| (i, id)));
            phone.clock.advance_ms(24 * 3_600_000);
        }
    }
    let pending: u64 = phones
        .iter()
        .map(|(p, _)| p.store().pending_counts().expect("counts").records)
        .sum();
    assert!(
        pending > 20,
        "a week of work waits in the outboxes: {pending}"
    );
    // Signal returns; the phones sync in a seeded random order, several rounds.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    for _ in 0..3 {
        let mut order: Vec<usize> = (0..phones.len()).collect();
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(i, (seed % (i as u64 + 1)) as usize);
        }
        for i in order {
            phones[i].0.engine.sync_once().await.expect("sync");
        }
    }
    // The server and every phone agree.
    let server_facts: BTreeMap<String, serde_json::Value> = server
        .office
        .fact_rows()
        .expect("facts")
        .into_iter()
        .collect();
    assert_eq!(
        server_facts.len(),
        submitted.len(),
        "0 lost, 0 duplicated: every submitted fact once"
    );
    for (i, id) in &submitted {
        let store = phones[*i].0.store();
        let local = match phones[*i].1 {
            Role::Cleaner => {
                serde_json::to_value(store.round(id.parse().expect("id")).expect("round"))
                    .expect("json")
            }
            _ => serde_json::to_value(
                store
                    .inspection(id.parse().expect("id"))
                    .expect("inspection"),
            )
            .expect("json"),
        };
        let remote = server_facts
            .get(id)
            .unwrap_or_else(|| panic!("fact {id} reached the server"));
        assert_eq!(
            without_server_time(remote.clone()),
            without_server_time(local),
            "fact {id} is the same row on phone and server"
        );
        assert!(
            remote["server_received_at"].is_string(),
            "the server stamped its receive time on {id}"
        );
    }
    for (i, (phone, role)) in phones.iter().enumerate() {
        let store = phone.store();
        assert_eq!(
            store.pending_counts().expect("counts").records,
            0,
            "phone {i}: outbox empty"
        );
        if *role == Role::Inspector {
            let v = d.villages[i].id;
            let local = store.households_in(v, None, 1_000, 0).expect("households");
            assert_eq!(
                local.len(),
                d.households.iter().filter(|h| h.village == v).count(),
                "phone {i}: the whole village"
            );
            for h in &local {
                let remote = server
                    .office
                    .household(&h.household.id.to_string())
                    .expect("read")
                    .expect("exists");
                assert_eq!(
                    remote,
                    serde_json::to_value(&h.household).expect("json"),
                    "phone {i}: household {} row by row",
                    h.household.door_plate
                );
            }
            let other = d.villages[1 - i].id;
            assert!(
                store
                    .households_in(other, None, 10, 0)
                    .expect("households")
                    .is_empty(),
                "phone {i}: nothing from the other village"
            );
        } else {
            let facilities: Vec<Facility> = store
                .records(EntityKind::Facility, None)
                .expect("facilities");
            let ids: BTreeSet<_> = facilities.iter().map(|f| f.id).collect();
            let expected: BTreeSet<_> = d
                .facilities
                .iter()
                .filter(|f| f.zone == Some(d.zones[0].id))
                .map(|f| f.id)
                .collect();
            assert_eq!(
                ids, expected,
                "the cleaner holds exactly the checkpoints of their zone"
            );
        }
    }
    let counts = server.office.counts().expect("counts");
    assert_eq!(
        counts.rectifications, 8,
        "one order a day from each inspector, four days each"
    );
}

/// A transport that loses the first push response after the server committed it.
#[derive(Debug)]
struct LosesFirstAnswer {
    inner: HttpTransport,
    lost: std::sync::atomic::AtomicBool,
}

impl Transport for LosesFirstAnswer {
    async fn enroll(&self, req: &EnrollRequest) -> Result<EnrollResponse, TransportError> {
        self.inner.enroll(req).await
    }
    async fn push(&self, token: &str, req: &PushRequest) -> Result<PushResponse, TransportError> {
        let resp = self.inner.push(token, req).await?;
        if !self.lost.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return Err(TransportError::Interrupted(
                "response lost on the way back".into(),
            ));
        }
        Ok(resp)
    }
    async fn scopes(&self, token: &str) -> Result<ScopeList, TransportError> {
        self.inner.scopes(token).await
    }
    async fn pull(
        &self,
        token: &str,
        scope: &str,
        after: u64,
        epoch: u64,
        limit: u32,
    ) -> Result<PullPage, TransportError> {
        self.inner.pull(token, scope, after, epoch, limit).await
    }
    async fn blob_exists(&self, token: &str, sha256: &PhotoHash) -> Result<bool, TransportError> {
        self.inner.blob_exists(token, sha256).await
    }
    async fn create_upload(
        &self,
        token: &str,
        sha256: &PhotoHash,
        length: u64,
    ) -> Result<String, TransportError> {
        self.inner.create_upload(token, sha256, length).await
    }
    async fn upload_offset(&self, token: &str, url: &str) -> Result<u64, TransportError> {
        self.inner.upload_offset(token, url).await
    }
    async fn upload_chunk(
        &self,
        token: &str,
        url: &str,
        offset: u64,
        chunk: Vec<u8>,
        checksum: bool,
    ) -> Result<u64, TransportError> {
        self.inner
            .upload_chunk(token, url, offset, chunk, checksum)
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_whose_response_is_lost_has_exactly_one_effect() {
    let server = TestServer::start(1, 1, 12);
    let transport = LosesFirstAnswer {
        inner: HttpTransport::new(&server.url).expect("transport"),
        lost: false.into(),
    };
    let mut phone = Phone::with_transport(transport, clock());
    phone
        .engine
        .enroll(
            &server.url,
            &server.code(server.demo.inspector(0).id, Role::Inspector),
            "phone",
        )
        .await
        .expect("enrolls");
    phone.engine.sync_once().await.expect("registry");
    let ids = inspect(&mut phone, &server, 0, 5);
    let report = phone
        .engine
        .sync_once()
        .await
        .expect("the retry after the lost answer succeeds");
    assert!(report.settled >= 6, "all mutations settled: {report:?}");
    let counts = server.office.counts().expect("counts");
    assert_eq!(
        counts.facts,
        ids.len() as u64,
        "each inspection stored once"
    );
    assert_eq!(
        counts.receipts,
        ids.len() as u64 + 1 + 2,
        "one receipt per mutation (5 inspections + 1 order + 2 photo attestations)"
    );
    assert_eq!(
        phone.store().pending_counts().expect("counts").records,
        0,
        "outbox empty"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_phone_keeps_everything_and_asks_to_re_enroll() {
    let server = TestServer::start(1, 1, 12);
    let mut phone = Phone::http(&server.url, clock());
    phone
        .engine
        .enroll(
            &server.url,
            &server.code(server.demo.inspector(0).id, Role::Inspector),
            "phone",
        )
        .await
        .expect("enrolls");
    let device = phone.store().device_id();
    phone.engine.sync_once().await.expect("registry");
    inspect(&mut phone, &server, 0, 4);
    let before = cunjie_e2e::sim::snapshot_counts(&phone.db_path());
    assert!(server.office.revoke(device).expect("revoke"), "revoked");
    let err = phone
        .engine
        .sync_once()
        .await
        .expect_err("a revoked phone cannot sync");
    assert!(
        matches!(
            err,
            SyncError::NeedsReenroll | SyncError::Transport(TransportError::Unauthorised { .. })
        ),
        "{err:?}"
    );
    assert!(
        phone.engine.current_status().needs_reenroll,
        "the badge asks to re-enroll"
    );
    assert!(
        err.to_string().contains("重新"),
        "the message is Chinese and says what to do: {err}"
    );
    let after = cunjie_e2e::sim::snapshot_counts(&phone.db_path());
    assert_eq!(
        after.get("outbox"),
        before.get("outbox"),
        "100 % of the outbox kept"
    );
    assert_eq!(
        after.get("photo"),
        before.get("photo"),
        "100 % of the photos kept"
    );
    assert_eq!(
        after.get("fact"),
        before.get("fact"),
        "every submitted fact kept"
    );
    assert!(
        after.get("outbox").copied().unwrap_or(0) > 0,
        "there was something to keep"
    );
    assert_eq!(
        server.office.counts().expect("counts").facts,
        0,
        "nothing reached the server after revocation"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_township_serves_a_phone_that_enrolls_and_syncs() {
    let dir = tempfile::tempdir().expect("dir");
    let demo =
        cunjie_server::demo::prepare(dir.path(), Arc::new(cunjie_domain::clock::SystemClock))
            .expect("demo prepared");
    assert!(
        demo.admin_password.is_some(),
        "a fresh demo creates its administrator"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let state = cunjie_server::AppState::new(
        demo.db.clone(),
        Arc::new(cunjie_domain::clock::SystemClock),
        cunjie_server::Blobs::local(dir.path()).expect("blob folders"),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(cunjie_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let (_, role, code) = &demo.codes[0];
    assert_eq!(*role, Role::Inspector, "the first code is the inspector's");
    let phone = Phone::http(&url, clock());
    let e = phone
        .engine
        .enroll(&url, code, "demo phone")
        .await
        .expect("enrolls with the printed code");
    assert_eq!(e.township_name, "桐木镇", "the demo township");
    phone.engine.sync_once().await.expect("syncs");
    let v = demo.demo.villages[0].id;
    let n = phone
        .store()
        .households_in(v, None, 1_000, 0)
        .expect("households")
        .len();
    assert_eq!(
        n, 60,
        "the inspector's phone holds the 60 households of 太平村"
    );
    assert!(
        phone.store().template_by_code("HH_SANBAO_MONTHLY").is_ok(),
        "and the checklist in force"
    );
    let _ = stop.send(());
    serving.await.expect("joins").expect("served");
    // Preparing again reuses the township and only issues new codes.
    let again =
        cunjie_server::demo::prepare(dir.path(), Arc::new(cunjie_domain::clock::SystemClock))
            .expect("again");
    assert!(again.admin_password.is_none(), "not seeded twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reassigned_inspector_gets_the_new_village_and_loses_the_old_one() {
    use cunjie_domain::person::{Assignment, AssignmentTarget};
    let server = TestServer::start(2, 1, 10);
    let d = &server.demo;
    let inspector = d.inspector(0).clone();
    let mut phone = Phone::http(&server.url, clock());
    phone
        .engine
        .enroll(
            &server.url,
            &server.code(inspector.id, Role::Inspector),
            "phone",
        )
        .await
        .expect("enrolls");
    phone.engine.sync_once().await.expect("sync");
    let (v0, v1) = (d.villages[0].id, d.villages[1].id);
    assert_eq!(
        phone
            .store()
            .households_in(v0, None, 100, 0)
            .expect("list")
            .len(),
        10,
        "holds village 0"
    );
    // Work recorded offline before the reassignment is kept and still accepted.
    let ids = inspect(&mut phone, &server, 0, 2);
    let old = d
        .assignments
        .iter()
        .find(|a| a.person == inspector.id)
        .expect("assignment")
        .clone();
    let now = cunjie_domain::clock::SystemClock.now();
    server
        .office
        .put_assignment(&Assignment {
            valid_to: Some(now),
            ..old
        })
        .expect("ends");
    server
        .office
        .put_assignment(&Assignment {
            id: cunjie_domain::ids::AssignmentId::from_uuid(uuid::Uuid::from_u128(0xABCD)),
            person: inspector.id,
            role: Role::Inspector,
            target: AssignmentTarget::Villages { villages: vec![v1] },
            valid_from: now,
            valid_to: None,
        })
        .expect("new");
    let report = phone
        .engine
        .sync_once()
        .await
        .expect("sync after reassignment");
    assert!(
        report.scopes_dropped >= 1,
        "the old village's scope is dropped: {report:?}"
    );
    assert!(
        phone
            .store()
            .households_in(v0, None, 100, 0)
            .expect("list")
            .is_empty(),
        "the old village's households left the phone"
    );
    assert_eq!(
        phone
            .store()
            .households_in(v1, None, 100, 0)
            .expect("list")
            .len(),
        10,
        "the new village arrived"
    );
    for id in &ids {
        assert!(
            phone.store().inspection(id.parse().expect("id")).is_ok(),
            "own facts stay on the phone"
        );
    }
    assert_eq!(
        server.office.counts().expect("counts").facts,
        2,
        "work captured under the old assignment was accepted"
    );
}
