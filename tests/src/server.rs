//! A real township server for tests: the demo township seeded, served on 127.0.0.1:0 by its
//! own Tokio runtime on a thread, or by the `cunjie-server serve` binary as a child process
//! (whose memory can then be read from `/proc`); stopped and deleted on drop.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;

use cunjie_domain::clock::{Clock, SystemClock};
use cunjie_domain::person::Role;
use cunjie_server::demo::{DemoTownship, demo_township};
use cunjie_server::{AppState, Blobs, Db, Township};

/// A running server.
#[derive(Debug)]
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The office's operations on the same database.
    pub office: Township,
    /// What was seeded.
    pub demo: DemoTownship,
    /// The server's database, opened by the test too (to read what the server stored).
    pub db: Db,
    dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    child: Option<Child>,
}

impl TestServer {
    /// Starts a server on a fresh SQLite file with the demo township (`villages` villages,
    /// `groups` groups and `households` households each).
    pub fn start(villages: usize, groups: u32, households: u32) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("server.db").display());
        Self::start_on(dir, &url, demo_township(villages, groups, households))
    }

    /// Starts a server on `db_url` with `demo` seeded.
    pub fn start_on(dir: tempfile::TempDir, db_url: &str, demo: DemoTownship) -> Self {
        Self::start_with_clock(dir, db_url, demo, Arc::new(SystemClock))
    }

    /// Starts a server on `db_url` with `demo` seeded, reading the time from `clock` (R4 runs
    /// the server on the fleet's true time).
    pub fn start_with_clock(
        dir: tempfile::TempDir,
        db_url: &str,
        demo: DemoTownship,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let (db, office) = seed_township_at(db_url, &demo, clock.clone());
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", std_listener.local_addr().expect("addr"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let blobs = Blobs::local(dir.path()).expect("blob folders");
        let state = AppState::new(db.clone(), clock, blobs);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
                cunjie_server::serve(listener, state, async {
                    let _ = stopped.await;
                })
                .await
                .expect("server runs");
            });
        });
        Self {
            url,
            office,
            demo,
            db,
            dir,
            stop: Some(stop),
            thread: Some(thread),
            child: None,
        }
    }

    /// Seeds `demo` on `db_url` (the data folder `dir`), then runs `bin serve --data-dir DIR
    /// --database URL --listen 127.0.0.1:0` (the `cunjie-server` binary) as a child process and
    /// waits for the address it prints.
    pub fn spawn_on(bin: &Path, dir: tempfile::TempDir, db_url: &str, demo: DemoTownship) -> Self {
        let (db, office) = seed_township(db_url, &demo);
        let mut child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--database", db_url])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", bin.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(i) = line.find("http://") {
                        break line[i..].trim().to_owned();
                    }
                }
                _ => {
                    let _ = child.kill();
                    panic!("{} exited before printing its address", bin.display());
                }
            }
        };
        // Keep reading (and dropping) what it prints, so it never blocks on a full pipe.
        std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
        Self {
            url,
            office,
            demo,
            db,
            dir,
            stop: None,
            thread: None,
            child: Some(child),
        }
    }

    /// The server's process id, when it runs as a child process.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its data folder (photos under `blobs/`).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.url
            .trim_start_matches("http://")
            .parse()
            .expect("the server URL is http://IP:PORT")
    }

    /// What a photo of the first household of the first village is evidence of, as the
    /// village's inspector takes it (the upload tests and bench photograph it).
    pub fn first_household_photo(&self) -> cunjie_device::CaptureContext {
        let v = self.demo.villages[0].id;
        let hh = self
            .demo
            .households
            .iter()
            .find(|h| h.village == v)
            .expect("the demo village has households");
        crate::sim::photo_context(
            cunjie_domain::fact::Subject {
                kind: cunjie_domain::catalog::SubjectKind::Household,
                id: *hh.id.as_uuid(),
            },
            hh.location,
            &format!("{} {}", hh.door_plate, hh.head_name),
            &format!("检查员 {}", self.demo.inspector(0).name),
        )
    }

    /// A one-time enrollment code for a person.
    pub fn code(&self, person: cunjie_domain::ids::PersonId, role: Role) -> String {
        self.office
            .enrollment_code(person, role, 7)
            .expect("enrollment code")
    }
}

/// Opens the server database at `db_url`, creates the demo township with its administrator
/// (`admin` / `correct horse battery`) and seeds it. Answers the database and the office.
pub fn seed_township(db_url: &str, demo: &DemoTownship) -> (Db, Township) {
    seed_township_at(db_url, demo, Arc::new(SystemClock))
}

/// [`seed_township`] with the office reading the time from `clock`.
pub fn seed_township_at(
    db_url: &str,
    demo: &DemoTownship,
    clock: Arc<dyn Clock>,
) -> (Db, Township) {
    let db = Db::open(db_url).expect("server database opens");
    let office = Township::init(
        db.clone(),
        clock,
        &demo.township,
        "admin",
        "correct horse battery",
    )
    .expect("township");
    demo.seed(&office).expect("demo seeded");
    (db, office)
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
