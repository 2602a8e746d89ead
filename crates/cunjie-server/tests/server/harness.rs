//! Test harness: the app on a fresh database with a fake clock, driven in process with
//! `tower::ServiceExt::oneshot`, and the demo township seeded.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Utc};
use cunjie_domain::clock::{Clock, FakeClock};
use cunjie_domain::hlc::HlcClock;
use cunjie_domain::ids::{DeviceId, IdGen, MutationId, PersonId};
use cunjie_domain::person::Role;
use cunjie_media::DeviceKey;
use cunjie_protocol::SCHEMA_VERSION;
use cunjie_protocol::v1::{EnrollRequest, EnrollResponse, Mutation, Op, PushRequest};
use cunjie_server::demo::{DemoTownship, demo_township};
use cunjie_server::{AppState, Blobs, Db, Township, app};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// A server on `db` with the demo township, photos in a temp dir.
pub(crate) struct Harness {
    pub(crate) router: Router,
    pub(crate) clock: Arc<FakeClock>,
    pub(crate) office: Township,
    pub(crate) demo: DemoTownship,
    pub(crate) state: AppState,
    ids: IdGen<Arc<FakeClock>>,
    keys: std::sync::atomic::AtomicU8,
    _blob_dir: tempfile::TempDir,
}

/// The same app served over real HTTP on 127.0.0.1:0 until dropped.
pub(crate) struct Served {
    pub(crate) url: String,
    pub(crate) addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A phone as the server sees it: its id, token, HLC and next seq.
pub(crate) struct Phone {
    pub(crate) id: DeviceId,
    pub(crate) token: String,
    pub(crate) person: PersonId,
    /// The device's signing key (its public half was registered at enrollment).
    pub(crate) key: DeviceKey,
    hlc: HlcClock,
    pub(crate) next_seq: u64,
}

impl Phone {
    /// The same phone with the token of a new enrollment (its key, HLC and seqs kept).
    pub(crate) fn with_token(&self, token: String) -> Self {
        Self {
            id: self.id,
            token,
            person: self.person,
            key: DeviceKey::from_seed(self.key.seed()),
            hlc: self.hlc.clone(),
            next_seq: self.next_seq,
        }
    }
}

impl Harness {
    pub(crate) fn new(db: Db) -> Self {
        let blob_dir = tempfile::tempdir().expect("blob dir");
        let blobs = Blobs::local(blob_dir.path()).expect("blob folders");
        Self::with_blobs(db, blobs, blob_dir)
    }

    /// A server on `db` keeping photos in `blobs` (`dir` is kept as long as the harness).
    pub(crate) fn with_blobs(db: Db, blobs: Blobs, dir: tempfile::TempDir) -> Self {
        Self::with_township(db, blobs, dir, demo_township(2, 2, 12))
    }

    /// A server on `db` seeded with the given demo township instead of the default one.
    pub(crate) fn with_demo(db: Db, demo: DemoTownship) -> Self {
        let blob_dir = tempfile::tempdir().expect("blob dir");
        let blobs = Blobs::local(blob_dir.path()).expect("blob folders");
        Self::with_township(db, blobs, blob_dir, demo)
    }

    fn with_township(db: Db, blobs: Blobs, dir: tempfile::TempDir, demo: DemoTownship) -> Self {
        let clock = Arc::new(FakeClock::at(2026, 11, 17, 9, 0, 0));
        let office = Township::init(
            db.clone(),
            clock.clone(),
            &demo.township,
            "admin",
            "correct horse battery",
        )
        .expect("township created");
        demo.seed(&office).expect("demo seeded");
        let blob_dir = dir;
        let state = AppState::new(db, clock.clone(), blobs);
        let router = app(state.clone());
        let ids = IdGen::seeded(clock.clone(), 7);
        Self {
            router,
            clock,
            office,
            demo,
            state,
            ids,
            keys: std::sync::atomic::AtomicU8::new(1),
            _blob_dir: blob_dir,
        }
    }

    /// Serves the app over real HTTP on 127.0.0.1:0 (on the test's runtime).
    pub(crate) async fn serve(&self) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(cunjie_server::serve(listener, self.state.clone(), async {
            let _ = stopped.await;
        }));
        Served {
            url: format!("http://{addr}"),
            addr,
            stop: Some(stop),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub(crate) fn new_id<T: From<uuid::Uuid>>(&self) -> T {
        self.ids.next()
    }

    pub(crate) async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let resp = self
            .router
            .clone()
            .oneshot(req.body(body).expect("request builds"))
            .await
            .expect("router answers");
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .expect("body reads")
            .to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, json)
    }

    /// Enrolls a phone for a person in a role, registering a fresh device key.
    pub(crate) async fn enroll(&self, person: PersonId, role: Role) -> Phone {
        let seed = self.keys.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = DeviceKey::from_seed([seed; 32]);
        self.enroll_with(person, role, key, true).await
    }

    /// Enrolls a phone; `register_key: false` is a phone that predates signed photos.
    pub(crate) async fn enroll_with(
        &self,
        person: PersonId,
        role: Role,
        key: DeviceKey,
        register_key: bool,
    ) -> Phone {
        let code = self
            .office
            .enrollment_code(person, role, 7)
            .expect("code issued");
        let id: DeviceId = self.new_id();
        let req = EnrollRequest {
            code,
            device_id: id,
            device_name: "红米 Note 12".into(),
            public_key: register_key.then(|| key.public_key_b64()),
        };
        let (status, body) = self
            .call(
                "POST",
                "/api/v1/enroll",
                None,
                Some(serde_json::to_value(&req).expect("json")),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "enrollment succeeds: {body}");
        let resp: EnrollResponse = serde_json::from_value(body).expect("enroll response");
        Phone {
            id,
            token: resp.token,
            person,
            key,
            hlc: HlcClock::new(id),
            next_seq: 1,
        }
    }

    /// Wraps ops as the phone's next mutations.
    pub(crate) fn mutations(&self, phone: &mut Phone, ops: Vec<(Op, Option<u64>)>) -> PushRequest {
        let mutations = ops
            .into_iter()
            .map(|(payload, base_version)| {
                let m = Mutation {
                    device_id: phone.id,
                    seq: phone.next_seq,
                    mutation_id: self.ids.next::<MutationId>(),
                    base_version,
                    hlc: phone.hlc.tick(self.clock.as_ref()).packed(),
                    schema_version: SCHEMA_VERSION,
                    device_time: None,
                    payload,
                };
                phone.next_seq += 1;
                m
            })
            .collect();
        PushRequest {
            mutations,
            sent_at: None,
        }
    }

    pub(crate) async fn push(&self, phone: &Phone, req: &PushRequest) -> (StatusCode, Value) {
        self.call(
            "POST",
            "/api/v1/sync/push",
            Some(&phone.token),
            Some(serde_json::to_value(req).expect("json")),
        )
        .await
    }
}
