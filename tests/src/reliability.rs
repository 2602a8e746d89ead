//! The fleet of the reliability tests (R1, R2): a real server, a [`FaultProxy`] with a lane
//! per phone, and simulated phones (`Phone`: a real store and the real sync engine) for every
//! inspector and cleaner of a demo township, doing field work day by day and syncing through
//! the proxy; then the **final check** of sync.md §6: heal every fault, sync until quiet, and
//! compare the server and every phone row by row and photo by photo, and count receipts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cunjie_domain::catalog::{Catalog, SubjectKind};
use cunjie_domain::clock::{Clock, FakeClock};
use cunjie_domain::fact::{
    CheckpointState, CheckpointVisit, CleanerRound, FactStatus, ItemResult, OrderTerms, PhotoHash,
    RectificationOrder, Subject, TracePoint,
};
use cunjie_domain::geo::GeoPolicy;
use cunjie_domain::ids::{PersonId, RectificationId};
use cunjie_domain::person::Role;
use cunjie_domain::place::{Facility, Household, ZoneGeometry};
use cunjie_domain::template::presets;
use cunjie_server::Db;
use cunjie_server::demo::demo_township;
use cunjie_server::store::Value;
use cunjie_sync::SyncReport;

use crate::evidence::sha256_hex;
use crate::fault::{FaultCounts, FaultProxy, Faults};
use crate::phone::Phone;
use crate::proxy::Rng;
use crate::server::TestServer;
use crate::sim::{new_inspection, photo_context, take_photo};

/// The seed of a randomised run: `CUNJIE_SEED` replays one, else `default`.
pub fn seed(default: u64) -> u64 {
    let seed = std::env::var("CUNJIE_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default);
    eprintln!("seed {seed} (replay with CUNJIE_SEED={seed})");
    seed
}

/// Whether the full-size run was asked for (`CUNJIE_FULL=1`).
pub fn full_size() -> bool {
    std::env::var("CUNJIE_FULL").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// How big a run is.
#[derive(Debug, Clone, Copy)]
pub struct FleetSize {
    /// Villages of the demo township (at most 4): one inspector each.
    pub villages: usize,
    /// Groups per village: one road zone and one cleaner each.
    pub groups: u32,
    /// Households per village.
    pub households: u32,
    /// Days of field work.
    pub days: u32,
    /// Records (mutations other than photo attestations) each phone makes, in all.
    pub records_per_phone: u32,
    /// Photos in all (each one a real capture; split between the phones).
    pub photos: u32,
}

impl FleetSize {
    /// The demo township of this size.
    pub fn demo(&self) -> cunjie_server::demo::DemoTownship {
        demo_township(self.villages, self.groups, self.households)
    }

    /// Phones: one per inspector and cleaner.
    pub fn phones(&self) -> usize {
        self.villages * (1 + self.groups as usize)
    }
}

/// One member of the fleet.
#[derive(Debug)]
struct Member {
    phone: Arc<Phone>,
    role: Role,
    person: PersonId,
    /// Village index (inspectors) or zone index (cleaners).
    place: usize,
    photos_left: u32,
    photo_seed: u32,
    /// Orders this phone issued, waiting for the fix / the review.
    open_orders: Vec<RectificationId>,
    fixed_orders: Vec<RectificationId>,
    next_household: usize,
    pass_no: u8,
    /// How far its clock is off the fleet's true time now, in ms.
    skew_ms: i64,
    /// Its clock's error from each seq on: `(first seq made with it, skew ms, true time ms
    /// when it changed)`.
    skews: Vec<(u64, i64, i64)>,
}

/// What the phones recorded (what the final check expects on the server).
#[derive(Debug, Default, Clone)]
pub struct Recorded {
    /// Inspections and rounds.
    pub facts: u64,
    /// Rectification orders issued.
    pub orders: u64,
    /// Fixes submitted and reviews made.
    pub steps: u64,
    /// Household field edits.
    pub edits: u64,
    /// Photos taken.
    pub photos: u64,
    /// Bytes of the photos (upload derivatives).
    pub photo_bytes: u64,
}

impl Recorded {
    /// Mutations other than photo attestations.
    pub fn records(&self) -> u64 {
        self.facts + self.orders + self.steps + self.edits
    }
}

/// The result of the final check, with the figures of the run.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Phones.
    pub phones: usize,
    /// What they recorded.
    pub recorded: Recorded,
    /// Receipts on the server (one per mutation, attestations included).
    pub receipts: u64,
    /// What the proxy did.
    pub faults: FaultCounts,
    /// `sync_once` calls, and how many of them failed (a fault broke them).
    pub syncs: u64,
    /// Failed syncs.
    pub failed_syncs: u64,
    /// Sync rounds after healing until quiet.
    pub rounds_to_quiet: u32,
    /// Photo chunk bytes the links carried per photo byte.
    pub photo_ratio: f64,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.recorded;
        write!(
            f,
            "{} phones; {} records ({} facts, {} orders, {} steps, {} edits) and {} photos ({} bytes); {} receipts; 0 lost, 0 duplicated, 0 corrupt, all converged in {} rounds after healing; {} syncs ({} broken by faults); photo bytes on the links {:.3} × photo bytes; {}; {:.1} s",
            self.phones,
            r.records(),
            r.facts,
            r.orders,
            r.steps,
            r.edits,
            r.photos,
            r.photo_bytes,
            self.receipts,
            self.rounds_to_quiet,
            self.syncs,
            self.failed_syncs,
            self.photo_ratio,
            self.faults,
            self.elapsed.as_secs_f64()
        )
    }
}

/// A server, a fault proxy and the phones.
pub struct Fleet {
    /// The seed of everything random here.
    pub seed: u64,
    /// The server.
    pub server: TestServer,
    /// The proxy between them.
    pub proxy: FaultProxy,
    members: Vec<Member>,
    rng: Rng,
    recorded: Recorded,
    syncs: u64,
    failed_syncs: u64,
    started: Instant,
    initial_versions: BTreeMap<String, i64>,
    edits: BTreeMap<String, i64>,
    days_left: u32,
    /// The true time the server runs on, when the fleet has one ([`Fleet::start_on_true_time`]).
    true_clock: Option<Arc<FakeClock>>,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("seed", &self.seed)
            .field("phones", &self.members.len())
            .finish_non_exhaustive()
    }
}

impl Fleet {
    /// Starts a server (in this process, on SQLite) with the demo township of `size`, a proxy
    /// with a clean lane per phone, and enrolls every phone through its lane (then one clean
    /// sync pulls the registry).
    pub async fn start(size: FleetSize, seed: u64) -> Self {
        let started = Instant::now();
        let dir = tempfile::tempdir().expect("server dir");
        let url = format!("sqlite://{}", dir.path().join("server.db").display());
        let server = TestServer::start_on(dir, &url, size.demo());
        Self::start_with(size, seed, server, started).await
    }

    /// As [`Fleet::start`], but the server runs on the fleet's true time, a fake clock that
    /// starts with the phones' (2026-11-02 00:30) and that [`Fleet::sync_round`] moves on to
    /// the latest time any phone has reached; each phone's clock can then be set off it by
    /// [`Fleet::set_clock_skew`] (R4).
    pub async fn start_on_true_time(size: FleetSize, seed: u64) -> Self {
        let started = Instant::now();
        let truth = Arc::new(FakeClock::at(2026, 11, 2, 0, 30, 0));
        let dir = tempfile::tempdir().expect("server dir");
        let url = format!("sqlite://{}", dir.path().join("server.db").display());
        let server = TestServer::start_with_clock(dir, &url, size.demo(), truth.clone());
        let mut fleet = Self::start_with(size, seed, server, started).await;
        fleet.true_clock = Some(truth);
        fleet
    }

    /// As [`Fleet::start`], on a server already started with `size.demo()` seeded (a child
    /// process, PostgreSQL…); `started` is when the run began.
    pub async fn start_with(
        size: FleetSize,
        seed: u64,
        server: TestServer,
        started: Instant,
    ) -> Self {
        let proxy = FaultProxy::start(server.addr(), seed, size.phones()).expect("proxy");
        let d = &server.demo;
        let mut who: Vec<(Role, PersonId, usize)> = (0..size.villages)
            .map(|v| (Role::Inspector, d.inspector(v).id, v))
            .collect();
        who.extend(
            d.zones
                .iter()
                .enumerate()
                .map(|(z, zone)| (Role::Cleaner, d.cleaner(zone.id).id, z)),
        );
        assert_eq!(who.len(), size.phones(), "a phone per person");
        let n = who.len() as u32;
        let mut members = Vec::new();
        for (lane, (role, person, place)) in who.into_iter().enumerate() {
            let url = proxy.url(lane);
            let clock = Arc::new(FakeClock::at(2026, 11, 2, 0, 30, 0));
            let phone = Phone::http(&url, clock);
            phone
                .engine
                .enroll(&url, &server.code(person, role), &format!("phone {lane}"))
                .await
                .expect("enrolls through a clean lane");
            phone
                .engine
                .sync_once()
                .await
                .expect("first sync pulls the registry");
            members.push(Member {
                phone: Arc::new(phone),
                role,
                person,
                place,
                photos_left: size.photos / n + u32::from((lane as u32) < size.photos % n),
                photo_seed: lane as u32 * 1_000_000,
                open_orders: vec![],
                fixed_orders: vec![],
                next_household: 0,
                pass_no: 0,
                skew_ms: 0,
                skews: vec![(1, 0, 0)],
            });
        }
        let mut fleet = Self {
            seed,
            server,
            proxy,
            members,
            rng: Rng::new(seed ^ 0x5EED),
            recorded: Recorded::default(),
            syncs: 0,
            failed_syncs: 0,
            started,
            initial_versions: BTreeMap::new(),
            edits: BTreeMap::new(),
            days_left: 1,
            true_clock: None,
        };
        fleet.initial_versions = fleet.household_versions();
        fleet
    }

    /// Phones.
    pub fn phones(&self) -> usize {
        self.members.len()
    }

    /// What the phones recorded so far.
    pub fn recorded(&self) -> &Recorded {
        &self.recorded
    }

    fn household_versions(&self) -> BTreeMap<String, i64> {
        query(
            &self.server.db,
            "SELECT id, server_version FROM record WHERE entity = 'household'",
            &[],
        )
        .iter()
        .map(|r| (text(&r[0]), int(&r[1])))
        .collect()
    }

    /// Sets phone `lane`'s clock `skew_ms` off the fleet's true time from now on (a phone set
    /// to the wrong date, or whose clock jumps): its clock moves by the difference, backwards
    /// or forwards.
    pub fn set_clock_skew(&mut self, lane: usize, skew_ms: i64) {
        let next_seq: i64 = rusqlite::Connection::open(self.members[lane].phone.db_path())
            .expect("phone db")
            .query_row("SELECT next_seq FROM device_state", [], |r| r.get(0))
            .expect("next seq");
        // A moment passes, so that every sync is before or after the change.
        let now = self.true_clock.as_ref().map_or(0, |c| {
            c.advance_ms(1);
            c.now_ms()
        });
        let m = &mut self.members[lane];
        m.phone.clock.advance_ms(skew_ms - m.skew_ms);
        m.skew_ms = skew_ms;
        m.skews.push((next_seq as u64, skew_ms, now));
    }

    /// Phone `lane`'s clock error from each seq on: `(first seq, skew ms, true time ms when
    /// it changed)`, in seq order.
    pub fn clock_skews(&self, lane: usize) -> &[(u64, i64, i64)] {
        &self.members[lane].skews
    }

    /// A second connection to phone `lane`'s database.
    pub fn phone_db(&self, lane: usize) -> rusqlite::Connection {
        rusqlite::Connection::open(self.members[lane].phone.db_path()).expect("phone db")
    }

    /// Phone `lane`'s data folder (`cunjie.db`, `photos/`).
    pub fn phone_dir(&self, lane: usize) -> PathBuf {
        self.members[lane]
            .phone
            .db_path()
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default()
    }

    /// Whether phone `lane` waits for a new enrollment (an auth failure set it).
    pub fn phone_needs_reenroll(&self, lane: usize) -> bool {
        self.members[lane]
            .phone
            .store()
            .enrollment()
            .expect("enrollment")
            .is_some_and(|e| e.needs_reenroll)
    }

    /// Phone `lane`'s device id.
    pub fn device_id(&self, lane: usize) -> cunjie_domain::ids::DeviceId {
        self.members[lane].phone.store().device_id()
    }

    /// The server's data folder (its SQLite file `server.db`, blobs, uploads).
    pub fn server_dir(&self) -> std::path::PathBuf {
        self.server.data_dir()
    }

    /// Moves the fleet's true time (the server's clock) on by `ms` while the phones are off
    /// (R5: a token idle long enough expires).
    pub fn advance_true_time(&self, ms: i64) {
        if let Some(truth) = &self.true_clock {
            truth.advance_ms(ms);
        }
    }

    /// Enrolls phone `lane` again with a fresh code for its person, as the office would after
    /// a revocation or an expiry: the same device, through its lane.
    pub async fn enroll_again(&self, lane: usize) {
        let m = &self.members[lane];
        let url = self.proxy.url(lane);
        m.phone
            .engine
            .enroll(
                &url,
                &self.server.code(m.person, m.role),
                &format!("phone {lane}"),
            )
            .await
            .unwrap_or_else(|e| panic!("phone {lane} enrolls again: {e:?} (seed {})", self.seed));
    }

    /// Moves the true time on to the latest time any phone has reached, and every phone's
    /// clock to it (plus its skew): the phones sync at the same moment.
    fn align_clocks(&self) {
        let Some(truth) = &self.true_clock else {
            return;
        };
        let latest = self
            .members
            .iter()
            .map(|m| m.phone.clock.now_ms() - m.skew_ms)
            .chain([truth.now_ms()])
            .max()
            .unwrap_or(0);
        truth.advance_ms(latest - truth.now_ms());
        for m in &self.members {
            let behind = latest + m.skew_ms - m.phone.clock.now_ms();
            if behind > 0 {
                m.phone.clock.advance_ms(behind);
            }
        }
    }

    /// Sets the faults of every lane.
    pub fn set_faults(&self, f: impl Fn(usize) -> Faults) {
        for lane in 0..self.members.len() {
            self.proxy.set_faults(lane, f(lane));
        }
    }

    /// Caps the photos a phone will take (a phone on a 2G lane, say); the rest go to the
    /// other phones.
    pub fn limit_photos(&mut self, lane: usize, max: u32) {
        let excess = self.members[lane].photos_left.saturating_sub(max);
        self.members[lane].photos_left -= excess;
        let others: Vec<usize> = (0..self.members.len()).filter(|i| *i != lane).collect();
        for k in 0..excess as usize {
            if let Some(&o) = others.get(k % others.len().max(1)) {
                self.members[o].photos_left += 1;
            }
        }
    }

    /// One day of field work on every phone, `records` records each (offline: nothing is
    /// sent); `days_left` (this one included) spreads the cleaners' photos over the days.
    pub fn work_day(&mut self, day: u32, records: u32, days_left: u32) {
        self.days_left = days_left.max(1);
        for i in 0..self.members.len() {
            let day_start = FakeClock::at(2026, 11, 2, 0, 30, 0).now()
                + chrono::Duration::days(day.into())
                + chrono::Duration::milliseconds(self.members[i].skew_ms);
            let m = &self.members[i];
            let now = m.phone.clock.now();
            if now < day_start {
                m.phone
                    .clock
                    .advance_ms((day_start - now).num_milliseconds().max(0));
            }
            match self.members[i].role {
                Role::Cleaner => self.cleaner_day(i, records),
                _ => self.inspector_day(i, records),
            }
        }
    }

    fn photo(&mut self, i: usize, ctx: &cunjie_device::CaptureContext) -> Option<PhotoHash> {
        let m = &mut self.members[i];
        if m.photos_left == 0 {
            return None;
        }
        m.photos_left -= 1;
        m.photo_seed += 1;
        let sha = take_photo(&mut m.phone.store(), m.photo_seed, ctx).expect("photo saved");
        let size = m.phone.store().photo(&sha).expect("photo row").size;
        self.recorded.photos += 1;
        self.recorded.photo_bytes += size;
        Some(sha)
    }

    fn inspector_day(&mut self, i: usize, records: u32) {
        let t = presets::household_sanbao();
        let (village_idx, person) = (self.members[i].place, self.members[i].person);
        let village = self.server.demo.villages[village_idx].id;
        let households: Vec<Household> = self
            .server
            .demo
            .households
            .iter()
            .filter(|h| h.village == village)
            .cloned()
            .collect();
        let mut left = records;
        // Yesterday's fixes are reviewed, and the orders before them fixed (an "after" photo).
        let fixed = std::mem::take(&mut self.members[i].fixed_orders);
        for id in fixed {
            if left == 0 {
                self.members[i].fixed_orders.push(id);
                continue;
            }
            self.members[i]
                .phone
                .store()
                .review_rectification(id, true, Some("已整改".into()))
                .expect("review");
            self.recorded.steps += 1;
            left -= 1;
        }
        let open = std::mem::take(&mut self.members[i].open_orders);
        for id in open {
            let hh = &households[self.rng.below(households.len() as u64) as usize];
            let ctx = photo_context(
                Subject {
                    kind: SubjectKind::Household,
                    id: *hh.id.as_uuid(),
                },
                hh.location,
                &format!("{} {}", hh.door_plate, hh.head_name),
                "检查员",
            );
            if left == 0 || self.members[i].photos_left == 0 {
                self.members[i].open_orders.push(id);
                continue;
            }
            let Some(after) = self.photo(i, &ctx) else {
                continue;
            };
            self.members[i]
                .phone
                .store()
                .submit_rectification_fix(id, vec![after], Some("已清理".into()))
                .expect("fix");
            self.members[i].fixed_orders.push(id);
            self.recorded.steps += 1;
            left -= 1;
        }
        // A door plate changed: one household edit a day.
        if left > 0 {
            let hh = &households[self.rng.below(households.len() as u64) as usize];
            let members = self.members[i]
                .phone
                .store()
                .household(hh.id)
                .expect("household")
                .household
                .members;
            let fields = BTreeMap::from([("members".to_owned(), serde_json::json!(members + 1))]);
            self.members[i]
                .phone
                .store()
                .update_household_fields(hh.id, fields)
                .expect("edit");
            *self.edits.entry(hh.id.to_string()).or_default() += 1;
            self.recorded.edits += 1;
            left -= 1;
        }
        while left > 0 {
            let k = self.members[i].next_household % households.len();
            self.members[i].next_household += 1;
            let hh = households[k].clone();
            let subject = Subject {
                kind: SubjectKind::Household,
                id: *hh.id.as_uuid(),
            };
            let mut insp = {
                let store = self.members[i].phone.store();
                new_inspection(&store, &t, subject, village, person, hh.location)
            };
            for item in &t.items {
                insp.answer(ItemResult::pass(&item.item_code));
            }
            // A failure in one of four, and on the last day while photos are left.
            let last_day = self.days_left == 1 && self.members[i].photos_left > 0;
            let fails = left >= 2 && (self.rng.below(4) == 0 || last_day);
            let photo = if fails {
                let ctx = photo_context(
                    subject,
                    hh.location,
                    &format!("{} {}", hh.door_plate, hh.head_name),
                    "检查员",
                );
                self.photo(i, &ctx)
            } else {
                None
            };
            let failed = photo.is_some();
            if let Some(p) = photo {
                insp.answer(ItemResult::fail("HH_WHITE_LITTER", 1, vec![p]));
            }
            let phone = self.members[i].phone.clone();
            let mut store = phone.store();
            store.save_inspection_draft(&insp).expect("draft");
            store
                .submit_inspection(insp.id, &GeoPolicy::default())
                .expect("submit");
            self.recorded.facts += 1;
            left -= 1;
            if failed {
                let now = store.clock().now();
                let order = RectificationOrder::from_failed_item(
                    &store.inspection(insp.id).expect("fact"),
                    "HH_WHITE_LITTER",
                    OrderTerms {
                        id: store.new_id(),
                        issued_by: person,
                        assignee: person,
                        issued_at: now,
                        due: now.date_naive() + chrono::Duration::days(7),
                    },
                )
                .expect("order from the failed item");
                store.issue_rectification(&order).expect("issued");
                drop(store);
                self.members[i].open_orders.push(order.id);
                self.recorded.orders += 1;
                left -= 1;
            }
            phone.clock.advance_ms(7 * 60_000);
        }
    }

    fn cleaner_day(&mut self, i: usize, records: u32) {
        let z = self.server.demo.zones[self.members[i].place].clone();
        let cleaner = self.members[i].person;
        let ZoneGeometry::Line(path) = &z.geometry else {
            panic!("demo zones are roads")
        };
        let facilities: Vec<Facility> = self
            .server
            .demo
            .facilities
            .iter()
            .filter(|f| f.zone == Some(z.id))
            .cloned()
            .collect();
        self.members[i].pass_no = 0;
        // Photos spread over the days left: the first rounds of the day take them.
        let quota = self.members[i].photos_left.div_ceil(self.days_left);
        for _ in 0..records {
            let phone = self.members[i].phone.clone();
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
            let photo = if u32::from(self.members[i].pass_no) < quota {
                self.photo(i, &ctx)
            } else {
                None
            };
            self.members[i].pass_no = self.members[i].pass_no.saturating_add(1);
            let mut store = phone.store();
            let round = CleanerRound {
                id: store.new_id(),
                zone: z.id,
                cleaner,
                device: store.device_id(),
                pass_no: self.members[i].pass_no,
                started_at: t0,
                ended_at: Some(t0 + chrono::Duration::minutes(6)),
                server_received_at: None,
                trace: path
                    .iter()
                    .enumerate()
                    .map(|(k, p)| TracePoint {
                        point: *p,
                        accuracy_m: 6.0,
                        at: t0 + chrono::Duration::seconds(k as i64 * 30),
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
                        photos: photo.iter().cloned().collect(),
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
            drop(store);
            self.recorded.facts += 1;
            phone.clock.advance_ms(7 * 60_000);
        }
    }

    /// Every phone syncs once, all at the same time (so their requests interleave at the
    /// server). A sync a fault broke is counted, not an error.
    pub async fn sync_round(&mut self) -> Vec<Result<SyncReport, String>> {
        self.align_clocks();
        let mut set = tokio::task::JoinSet::new();
        for (i, m) in self.members.iter().enumerate() {
            let phone = m.phone.clone();
            set.spawn(async move {
                (
                    i,
                    phone.engine.sync_once().await.map_err(|e| format!("{e:?}")),
                )
            });
        }
        let mut out: Vec<Option<Result<SyncReport, String>>> =
            (0..self.members.len()).map(|_| None).collect();
        while let Some(r) = set.join_next().await {
            let (i, r) = r.expect("sync task");
            self.syncs += 1;
            if r.is_err() {
                self.failed_syncs += 1;
            }
            out[i] = Some(r);
        }
        out.into_iter().map(|r| r.expect("every phone")).collect()
    }

    /// Faults still to inject under the lanes' budgets.
    pub fn budget_left(&self) -> u64 {
        (0..self.members.len())
            .filter_map(|l| self.proxy.budget_left(l))
            .sum()
    }

    /// Heals every fault, then syncs every phone until a round changes nothing, at most
    /// `max_rounds` rounds. Answers the rounds it took.
    pub async fn heal_and_quiesce(&mut self, max_rounds: u32) -> u32 {
        self.proxy.heal();
        for round in 1..=max_rounds {
            let results = self.sync_round().await;
            let quiet = results.iter().all(|r| {
                r.as_ref().is_ok_and(|s| {
                    s.settled == 0
                        && s.changes == 0
                        && s.photos_uploaded == 0
                        && s.photos_deduplicated == 0
                        && s.photos_failed == 0
                })
            });
            let empty = self.members.iter().all(|m| {
                let c = m.phone.store().pending_counts().expect("counts");
                c.records == 0 && c.photos == 0
            });
            if quiet && empty {
                return round;
            }
        }
        panic!(
            "not quiet after {max_rounds} rounds on a healed link (seed {})",
            self.seed
        );
    }

    /// The final check of sync.md §6 (call after [`Fleet::heal_and_quiesce`]): 0 lost, 0
    /// duplicated, 0 corrupt, every phone equal to the server. Panics with the seed.
    pub async fn final_check(&self, rounds_to_quiet: u32) -> Verdict {
        let seed = self.seed;
        let db = &self.server.db;
        let d = &self.server.demo;

        check_receipts(db, seed);
        let mut receipts = 0u64;
        let mut fact_ids: BTreeSet<String> = BTreeSet::new();
        let mut photos: Vec<(PhotoHash, Vec<u8>)> = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            let store = m.phone.store();
            let local = rusqlite::Connection::open(m.phone.db_path()).expect("phone db");
            receipts += check_phone(db, i, &store, &local, seed, &mut fact_ids, &mut photos);

            // Inspectors: every household of the village, row by row.
            if m.role == Role::Inspector {
                let v = d.villages[m.place].id;
                let local = store.households_in(v, None, 10_000, 0).expect("households");
                assert_eq!(
                    local.len(),
                    d.households.iter().filter(|h| h.village == v).count(),
                    "phone {i}: the whole village (seed {seed})"
                );
                for h in &local {
                    let id = h.household.id.to_string();
                    let (remote, version): (String, i64) = one(
                        db,
                        "SELECT row_json, server_version FROM record WHERE entity = 'household' AND id = $1",
                        &id,
                    )
                    .map(|r| (text(&r[0]), int(&r[1])))
                    .expect("household on the server");
                    assert_eq!(
                        json(&remote),
                        serde_json::to_value(&h.household).expect("json"),
                        "phone {i}: household {id} row by row (seed {seed})"
                    );
                    assert_eq!(
                        (version, h.server_version as i64),
                        (
                            self.initial_versions.get(&id).copied().unwrap_or(0)
                                + self.edits.get(&id).copied().unwrap_or(0),
                            version
                        ),
                        "phone {i}: household {id} took each edit once, and the phone has its version (seed {seed})"
                    );
                }
            }
        }
        let total_receipts: i64 = count(db, "SELECT count(*) FROM receipt", &[]);
        assert_eq!(
            total_receipts as u64, receipts,
            "no receipt from anywhere else (seed {seed})"
        );
        let r = &self.recorded;
        assert_eq!(
            receipts,
            r.records() + r.photos,
            "one receipt per record and per photo attestation (seed {seed})"
        );
        let server_facts: i64 = count(db, "SELECT count(*) FROM fact", &[]);
        assert_eq!(
            (server_facts as u64, fact_ids.len() as u64),
            (r.facts, r.facts),
            "0 lost, 0 duplicated: every fact once on the server and on its phone (seed {seed})"
        );
        let server_orders: i64 = count(db, "SELECT count(*) FROM rectification", &[]);
        assert_eq!(
            server_orders as u64, r.orders,
            "every order once (seed {seed})"
        );
        let server_photos: i64 = count(db, "SELECT count(*) FROM photo", &[]);
        assert_eq!(
            (server_photos as u64, photos.len() as u64),
            (r.photos, r.photos),
            "every photo once (seed {seed})"
        );
        check_blobs(&self.server.data_dir(), &photos, seed);
        let faults = self.proxy.counts();
        Verdict {
            phones: self.members.len(),
            recorded: r.clone(),
            receipts,
            faults,
            syncs: self.syncs,
            failed_syncs: self.failed_syncs,
            rounds_to_quiet,
            photo_ratio: faults.photo_up as f64 / r.photo_bytes.max(1) as f64,
            elapsed: self.started.elapsed(),
        }
    }
}

/// The final check's receipts on the server: no `mutation_id` has two receipts, and every
/// receipt is `applied`.
pub fn check_receipts(db: &Db, seed: u64) {
    // Receipts: one per mutation, the same (seq, mutation id) pairs as each phone's log.
    let dup_receipts = count(
        db,
        "SELECT count(*) FROM (SELECT mutation_id FROM receipt GROUP BY mutation_id HAVING count(*) > 1) AS d",
        &[],
    );
    assert_eq!(
        dup_receipts, 0,
        "0 duplicated: one receipt per mutation id (seed {seed})"
    );
    let rejected: Vec<(String, String)> = query(
        db,
        "SELECT code, reason FROM receipt WHERE status != 'applied'",
        &[],
    )
    .iter()
    .map(|r| (text(&r[0]), text(&r[1])))
    .collect();
    assert!(
        rejected.is_empty(),
        "every mutation applied, none refused (seed {seed}): {rejected:?}"
    );
}

/// The final check of one phone against the server (sync.md §6): outbox and photo queue empty,
/// `PRAGMA integrity_check` ok, every seq it made acknowledged, the server's receipts exactly its
/// `(seq, mutation_id)` pairs and `last_seq` its last seq; each of its facts and rectification
/// orders the same row (and version) on the server; each of its photos `stored` on the server.
/// Adds its own facts to `fact_ids` (a fact made on two phones panics) and its photos' bytes to
/// `photos` (for [`check_blobs`]); answers its receipts. Panics with the seed.
pub fn check_phone(
    db: &Db,
    i: usize,
    store: &cunjie_store::Store,
    local: &rusqlite::Connection,
    seed: u64,
    fact_ids: &mut BTreeSet<String>,
    photos: &mut Vec<(PhotoHash, Vec<u8>)>,
) -> u64 {
    let device = store.device_id().to_string();
    let counts = store.pending_counts().expect("counts");
    assert_eq!(
        (counts.records, counts.photos),
        (0, 0),
        "phone {i}: outbox and photo queue empty (seed {seed})"
    );
    assert!(
        store.integrity_ok().expect("check"),
        "phone {i}: integrity ok"
    );
    let acked: BTreeSet<(i64, String)> = rows2(local, "SELECT seq, mutation_id FROM acked_log", []);
    let next_seq: i64 = local
        .query_row("SELECT next_seq FROM device_state", [], |r| r.get(0))
        .expect("next seq");
    // The phone keeps its acknowledged log 30 days (sync.md §5.8): after a longer pause only
    // the oldest seqs may be gone from it, never from the server.
    let kept_from = acked.iter().map(|(s, _)| *s).min().unwrap_or(next_seq);
    assert_eq!(
        acked.len() as i64,
        next_seq - kept_from,
        "phone {i}: every seq it made since its oldest kept one is acknowledged (seed {seed})"
    );
    let on_server: BTreeSet<(i64, String)> = query(
        db,
        "SELECT seq, mutation_id FROM receipt WHERE device_id = $1",
        &[device.clone().into()],
    )
    .iter()
    .map(|r| (int(&r[0]), text(&r[1])))
    .collect();
    assert_eq!(
        on_server.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        (1..next_seq).collect::<Vec<_>>(),
        "phone {i}: the server has one receipt for every seq the phone made (seed {seed})"
    );
    assert!(
        acked.is_subset(&on_server),
        "phone {i}: the server's receipts are the phone's acknowledged mutations (seed {seed})"
    );
    let last_seq = one(db, "SELECT last_seq FROM device WHERE id = $1", &device)
        .map(|r| int(&r[0]))
        .expect("device row");
    assert_eq!(
        last_seq,
        next_seq - 1,
        "phone {i}: server last_seq = the phone's last acknowledged seq (seed {seed})"
    );

    // Facts: each of the phone's facts on the server, the same row.
    let local_facts: BTreeSet<(String, String)> =
        rows2(local, "SELECT id, origin || '|' || row_json FROM fact", []);
    for (id, row) in local_facts {
        let (origin, row) = row.split_once('|').expect("origin|row");
        let remote: Option<String> =
            one(db, "SELECT row_json FROM fact WHERE id = $1", &id).map(|r| text(&r[0]));
        let remote = remote
            .unwrap_or_else(|| panic!("phone {i}: fact {id} reached the server (seed {seed})"));
        assert_eq!(
            without_server_time(&remote),
            without_server_time(row),
            "phone {i}: fact {id} is the same row on phone and server (seed {seed})"
        );
        if origin == "local" {
            assert!(fact_ids.insert(id), "a fact made on one phone only");
        }
    }

    // Rectifications this phone holds: the same row and version as the server's.
    let local_orders: BTreeSet<(String, String)> = rows2(
        local,
        "SELECT id, row_json || '|' || server_version FROM rectification",
        [],
    );
    for (id, row) in local_orders {
        let remote = one(
            db,
            "SELECT row_json, server_version FROM rectification WHERE id = $1",
            &id,
        )
        .map(|r| (text(&r[0]), text(&r[1])))
        .unwrap_or_else(|| panic!("phone {i}: order {id} on the server (seed {seed})"));
        let (l, lv) = row.rsplit_once('|').expect("row|version");
        let (r, rv) = (remote.0.as_str(), remote.1.as_str());
        assert_eq!(
            (json(r), rv),
            (json(l), lv),
            "phone {i}: order {id} is the same row and version on phone and server (seed {seed})"
        );
    }

    // Photos: every one stored on the server, byte-identical, hashing to its name.
    let local_photos: BTreeSet<(String, String)> =
        rows2(local, "SELECT sha256, local_path FROM photo", []);
    for (sha, path) in local_photos {
        let bytes = std::fs::read(store.photo_file(&path)).expect("the phone's copy");
        let state = one(db, "SELECT state FROM photo WHERE sha256 = $1", &sha)
            .map(|r| text(&r[0]))
            .unwrap_or_else(|| panic!("phone {i}: photo {sha} attested (seed {seed})"));
        assert_eq!(
            state, "stored",
            "phone {i}: photo {sha} stored (seed {seed})"
        );
        let h: PhotoHash = sha.parse().expect("hash");
        photos.push((h, bytes));
    }
    on_server.len() as u64
}

/// Every photo in the server's blob store under `server_dir`, hashing to its name and
/// byte-identical to the phone's copy.
pub fn check_blobs(server_dir: &std::path::Path, photos: &[(PhotoHash, Vec<u8>)], seed: u64) {
    for (h, bytes) in photos {
        let path = server_dir
            .join("blobs")
            .join(&h.as_str()[0..2])
            .join(&h.as_str()[2..4])
            .join(h.as_str());
        let stored = std::fs::read(&path)
            .unwrap_or_else(|_| panic!("photo {h} in the server's blob store (seed {seed})"));
        assert_eq!(
            sha256_hex(&stored),
            h.clone(),
            "0 corrupt: the stored bytes hash to the name (seed {seed})"
        );
        assert!(
            stored == *bytes,
            "0 corrupt: photo {h} is byte-identical on phone and server (seed {seed})"
        );
    }
}

fn rows2<A, B, P>(db: &rusqlite::Connection, sql: &str, params: P) -> BTreeSet<(A, B)>
where
    A: rusqlite::types::FromSql + Ord,
    B: rusqlite::types::FromSql + Ord,
    P: rusqlite::Params,
{
    db.prepare(sql)
        .expect("prepare")
        .query_map(params, |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// Rows of a query on the server's database (either backend: `$n` placeholders).
fn query(db: &Db, sql: &str, params: &[Value]) -> Vec<Vec<Value>> {
    db.tx(|tx| tx.query(sql, params))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The row a query finds by one text key, if any.
fn one(db: &Db, sql: &str, key: &str) -> Option<Vec<Value>> {
    query(db, sql, &[key.to_owned().into()]).into_iter().next()
}

fn count(db: &Db, sql: &str, params: &[Value]) -> i64 {
    query(db, sql, params)
        .first()
        .and_then(|r| r.first())
        .map(int)
        .unwrap_or_else(|| panic!("{sql} counts"))
}

fn int(v: &Value) -> i64 {
    match v {
        Value::Int(i) => *i,
        Value::Text(t) => t.parse().unwrap_or_else(|_| panic!("an integer: {t}")),
        Value::Null => panic!("an integer, not NULL"),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(t) => t.clone(),
        Value::Int(i) => i.to_string(),
        Value::Null => String::new(),
    }
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).expect("stored JSON")
}

fn without_server_time(s: &str) -> serde_json::Value {
    let mut v = json(s);
    if let Some(o) = v.as_object_mut() {
        o.remove("server_received_at");
    }
    v
}
