//! A fault-injecting HTTP proxy on 127.0.0.1, between simulated phones and a real server
//! (sync.md §6, the proxy of the reliability tests R1 and R2).
//!
//! Each phone gets a **lane**: a listener of its own with its own seeded generator, so the
//! faults a phone meets are a function of the seed, the lane and the number of requests the
//! phone made before (the `k`-th exchange of lane `i` always draws the same numbers). The
//! scheduling between phones, and so the server's answers, are not deterministic; the fault plan
//! is, and a failing seed replays it.
//!
//! The proxy is HTTP-aware (HTTP/1.1: the request head, then a `Content-Length` or chunked body,
//! the same for the answer). It reads each request whole from the phone, then forwards it on a
//! fresh connection to the server, reads the answer whole and forwards it back. On the way it
//! can, per exchange:
//!
//! - **cut** the request after a random number of its bytes (the server sees a short request),
//!   or the answer after a random number of its bytes (the server committed, the phone reads
//!   half an answer); both ends are closed with a FIN;
//! - **reset** at a random byte offset in either direction (the same with an RST: `SO_LINGER` 0);
//! - **drop the answer**: the server answered in full, the phone never hears it;
//! - **duplicate** the request: sent twice to the server, one after the other, or both at once,
//!   or the copy sent late, after the phone got its answer (so it arrives after the phone's
//!   next requests: a reordering of one phone's requests); one answer goes back;
//! - **hold** the request a random while before forwarding it, so concurrent requests from
//!   other phones overtake it (the reordering of concurrent requests);
//! - add **latency** with jitter each way, and limit the **bandwidth** each way (down to 2G's
//!   50 kbit/s).
//!
//! A lane can have a **budget** of faults (cuts, resets, dropped answers, duplicates): after it,
//! the lane only adds latency and limits bandwidth. `heal` turns every fault off.
//!
//! One phone's requests are sequential (one keep-alive connection, the sync engine awaits each
//! answer), so reordering within a phone happens only through late duplicates; the cut at
//! random byte offsets of [`crate::proxy::CutProxy`] stays for the tests written against it.

use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};

use crate::proxy::Rng;

/// What a lane does to the exchanges that pass through it. Probabilities are per exchange
/// (one request and its answer) and are tried in the order of the fields; their sum is at
/// most 1. The default is a clean link.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Cut the request after a random number of its bytes.
    pub cut_up: f64,
    /// Cut the answer after a random number of its bytes (the server has committed).
    pub cut_down: f64,
    /// Reset (RST) at a random byte offset of the request or the answer.
    pub reset: f64,
    /// Drop the whole answer after the server gave it.
    pub drop_response: f64,
    /// Send the request twice to the server; return one answer.
    pub duplicate: f64,
    /// Hold the request a random while (`hold_ms`) before forwarding it.
    pub hold: f64,
    /// How long a held request waits, in ms (uniform in the range).
    pub hold_ms: (u64, u64),
    /// Added one-way latency in ms (uniform in the range), each way.
    pub latency_ms: (u64, u64),
    /// Jitter added to each latency, in ms (uniform in `0..=jitter_ms`).
    pub jitter_ms: u64,
    /// Bandwidth each way in bits per second (`None`: unlimited).
    pub bandwidth_bps: Option<u64>,
    /// Most faults (cuts, resets, dropped answers, duplicates) this lane injects; `None`:
    /// no limit.
    pub budget: Option<u64>,
}

impl Faults {
    /// A clean link: nothing added.
    pub fn clean() -> Self {
        Self::default()
    }

    /// The same link with no more faults (latency and bandwidth stay).
    pub fn healed(&self) -> Self {
        Self {
            latency_ms: self.latency_ms,
            jitter_ms: self.jitter_ms,
            bandwidth_bps: self.bandwidth_bps,
            ..Self::default()
        }
    }
}

/// What happened, summed over every lane.
#[derive(Debug, Default)]
pub struct FaultStats {
    /// Connections accepted from phones.
    pub connections: AtomicU64,
    /// Requests read whole from phones.
    pub exchanges: AtomicU64,
    /// Requests cut on the way up.
    pub cuts_up: AtomicU64,
    /// Answers cut on the way down.
    pub cuts_down: AtomicU64,
    /// Resets (either way).
    pub resets: AtomicU64,
    /// Answers dropped after the server gave them.
    pub dropped: AtomicU64,
    /// Requests sent twice.
    pub duplicated: AtomicU64,
    /// Of those, copies sent after the phone had its answer.
    pub late_duplicates: AtomicU64,
    /// Requests held back.
    pub held: AtomicU64,
    /// Bytes forwarded to the server (copies included).
    pub up: AtomicU64,
    /// Bytes forwarded to the phones.
    pub down: AtomicU64,
    /// Bytes of `PATCH` bodies (photo chunks) forwarded to the server, cut ones and copies
    /// included: the photo bytes the links carried.
    pub photo_up: AtomicU64,
    /// Exchanges that failed because the server side broke (not injected).
    pub upstream_errors: AtomicU64,
    /// Every answer the server gave in full: what was asked, the status and how long it took.
    pub answers: Mutex<Vec<Answer>>,
}

/// One answer the server gave, timed by the proxy from connecting to the server until the
/// answer was read whole (what the phone waits for, less the lane's latency).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The request's method.
    pub method: String,
    /// The request's path (without the query).
    pub path: String,
    /// The answer's status.
    pub status: u16,
    /// Server time, in microseconds.
    pub micros: u64,
}

/// A snapshot of [`FaultStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultCounts {
    /// Connections accepted from phones.
    pub connections: u64,
    /// Requests read whole from phones.
    pub exchanges: u64,
    /// Requests cut on the way up.
    pub cuts_up: u64,
    /// Answers cut on the way down.
    pub cuts_down: u64,
    /// Resets.
    pub resets: u64,
    /// Answers dropped after the server gave them.
    pub dropped: u64,
    /// Requests sent twice.
    pub duplicated: u64,
    /// Copies sent late.
    pub late_duplicates: u64,
    /// Requests held back.
    pub held: u64,
    /// Bytes to the server.
    pub up: u64,
    /// Bytes to the phones.
    pub down: u64,
    /// Photo chunk bytes to the server.
    pub photo_up: u64,
    /// Server-side breaks.
    pub upstream_errors: u64,
}

impl FaultCounts {
    /// Cuts and resets: the link broke mid-exchange.
    pub fn cuts(&self) -> u64 {
        self.cuts_up + self.cuts_down + self.resets
    }

    /// Every injected fault (cuts, resets, dropped answers, duplicates).
    pub fn faults(&self) -> u64 {
        self.cuts() + self.dropped + self.duplicated
    }
}

impl std::fmt::Display for FaultCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} exchanges on {} connections; {} cuts up, {} cuts down, {} resets, {} answers dropped, {} duplicated ({} late), {} held; {} bytes up ({} photo), {} down",
            self.exchanges,
            self.connections,
            self.cuts_up,
            self.cuts_down,
            self.resets,
            self.dropped,
            self.duplicated,
            self.late_duplicates,
            self.held,
            self.up,
            self.photo_up,
            self.down
        )
    }
}

impl FaultStats {
    fn snapshot(&self) -> FaultCounts {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FaultCounts {
            connections: g(&self.connections),
            exchanges: g(&self.exchanges),
            cuts_up: g(&self.cuts_up),
            cuts_down: g(&self.cuts_down),
            resets: g(&self.resets),
            dropped: g(&self.dropped),
            duplicated: g(&self.duplicated),
            late_duplicates: g(&self.late_duplicates),
            held: g(&self.held),
            up: g(&self.up),
            down: g(&self.down),
            photo_up: g(&self.photo_up),
            upstream_errors: g(&self.upstream_errors),
        }
    }
}

/// One phone's link.
#[derive(Debug)]
struct Lane {
    rng: Mutex<Rng>,
    faults: Mutex<Faults>,
    injected: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Dup {
    /// Twice in a row; the first or the second answer goes back.
    Sequential { second: bool },
    /// Both at once; the first to finish goes back.
    Concurrent,
    /// The copy after the phone had its answer, after a delay.
    Late(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    None,
    CutUp,
    CutDown,
    Reset { up: bool },
    Drop { rst: bool },
    Duplicate(Dup),
}

/// The fate of one exchange, drawn whole from the lane's generator (always the same count of
/// draws, so a seed replays the plan whatever the sizes).
#[derive(Debug, Clone, Copy)]
struct Plan {
    kind: Kind,
    /// Where in the message a cut or a reset falls, as a fraction of its bytes.
    at: f64,
    latency_up: Duration,
    latency_down: Duration,
    hold: Option<Duration>,
    bandwidth_bps: Option<u64>,
}

fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn between(lo_hi: (u64, u64), u: f64) -> u64 {
    let (lo, hi) = (lo_hi.0.min(lo_hi.1), lo_hi.0.max(lo_hi.1));
    lo + ((hi - lo) as f64 * u) as u64
}

impl Lane {
    fn plan(&self) -> Plan {
        let f = self
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let u: [f64; 10] = {
            let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
            std::array::from_fn(|_| unit(&mut rng))
        };
        let spent = f
            .budget
            .is_some_and(|b| self.injected.load(Ordering::Relaxed) >= b);
        let mut kind = Kind::None;
        if !spent {
            let mut edge = 0.0;
            let mut pick = |p: f64, k: Kind| {
                if kind == Kind::None && u[0] < edge + p {
                    kind = k;
                }
                edge += p;
            };
            pick(f.cut_up, Kind::CutUp);
            pick(f.cut_down, Kind::CutDown);
            pick(f.reset, Kind::Reset { up: u[8] < 0.5 });
            pick(f.drop_response, Kind::Drop { rst: u[8] < 0.5 });
            let dup = if u[8] < 0.3 {
                Dup::Sequential { second: u[9] < 0.5 }
            } else if u[8] < 0.6 {
                Dup::Concurrent
            } else {
                Dup::Late(Duration::from_millis(20 + (u[9] * 400.0) as u64))
            };
            pick(f.duplicate, Kind::Duplicate(dup));
            if kind != Kind::None {
                self.injected.fetch_add(1, Ordering::Relaxed);
            }
        }
        let jitter = |x: f64| Duration::from_millis((x * f.jitter_ms as f64) as u64);
        Plan {
            kind,
            at: u[1],
            latency_up: Duration::from_millis(between(f.latency_ms, u[2])) + jitter(u[3]),
            latency_down: Duration::from_millis(between(f.latency_ms, u[4])) + jitter(u[5]),
            hold: (u[6] < f.hold).then(|| Duration::from_millis(between(f.hold_ms, u[7]))),
            bandwidth_bps: f.bandwidth_bps,
        }
    }
}

/// A running fault proxy with one lane per phone; stopped on drop.
#[derive(Debug)]
pub struct FaultProxy {
    seed: u64,
    addrs: Vec<SocketAddr>,
    lanes: Vec<Arc<Lane>>,
    stats: Arc<FaultStats>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// A proxy in front of `upstream` with `lanes` lanes, all clean, its faults drawn from
    /// `seed`.
    pub fn start(upstream: SocketAddr, seed: u64, lanes: usize) -> std::io::Result<Self> {
        let mut listeners = Vec::new();
        let mut addrs = Vec::new();
        let mut lane_state = Vec::new();
        for i in 0..lanes {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            l.set_nonblocking(true)?;
            addrs.push(l.local_addr()?);
            listeners.push(l);
            lane_state.push(Arc::new(Lane {
                rng: Mutex::new(Rng::new(
                    seed ^ (i as u64 + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93),
                )),
                faults: Mutex::new(Faults::clean()),
                injected: AtomicU64::new(0),
            }));
        }
        let stats = Arc::new(FaultStats::default());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = {
            let (stats, lanes) = (stats.clone(), lane_state.clone());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()
                    .expect("proxy runtime");
                rt.block_on(async move {
                    for (l, lane) in listeners.into_iter().zip(lanes) {
                        let listener = TcpListener::from_std(l).expect("listener");
                        tokio::spawn(accept(listener, lane, upstream, stats.clone()));
                    }
                    let _ = stopped.await;
                });
                rt.shutdown_background();
            })
        };
        Ok(Self {
            seed,
            addrs,
            lanes: lane_state,
            stats,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The seed its faults are drawn from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// How many lanes.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// `http://127.0.0.1:PORT` of a lane.
    pub fn url(&self, lane: usize) -> String {
        format!("http://{}", self.addrs[lane])
    }

    /// Sets what a lane does from its next exchange on.
    pub fn set_faults(&self, lane: usize, faults: Faults) {
        *self.lanes[lane]
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// What a lane does now.
    pub fn faults(&self, lane: usize) -> Faults {
        self.lanes[lane]
            .faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every lane stops injecting faults (latency and bandwidth stay).
    pub fn heal(&self) {
        for i in 0..self.lanes.len() {
            let healed = self.faults(i).healed();
            self.set_faults(i, healed);
        }
    }

    /// Faults a lane injected so far.
    pub fn injected(&self, lane: usize) -> u64 {
        self.lanes[lane].injected.load(Ordering::Relaxed)
    }

    /// Faults a lane may still inject under its budget (`None`: no budget).
    pub fn budget_left(&self, lane: usize) -> Option<u64> {
        self.faults(lane)
            .budget
            .map(|b| b.saturating_sub(self.injected(lane)))
    }

    /// The counters now.
    pub fn counts(&self) -> FaultCounts {
        self.stats.snapshot()
    }

    /// Every answer the server gave in full so far, in the order they came.
    pub fn answers(&self) -> Vec<Answer> {
        self.stats
            .answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept(
    listener: TcpListener,
    lane: Arc<Lane>,
    upstream: SocketAddr,
    stats: Arc<FaultStats>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(2)).await;
            continue;
        };
        stats.connections.fetch_add(1, Ordering::Relaxed);
        let _ = client.set_nodelay(true);
        tokio::spawn(serve(client, lane.clone(), upstream, stats.clone()));
    }
}

/// A message read whole: its raw bytes and what framing said about it.
#[derive(Debug, Clone)]
struct Message {
    bytes: Vec<u8>,
    head_len: usize,
    method: String,
    /// A request's path (without the query); empty for an answer.
    path: String,
    /// An answer's status; 0 for a request.
    status: u16,
    close: bool,
}

const HEAD_LIMIT: usize = 64 * 1024;
const BODY_LIMIT: usize = 64 * 1024 * 1024;
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(120);

async fn read_some(s: &TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut chunk = [0u8; 32 * 1024];
    loop {
        s.readable().await?;
        match s.try_read(&mut chunk) {
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(n);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
}

async fn write_all(s: &TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        s.writable().await?;
        match s.try_write(data) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes `data` no faster than `bps` bits per second (in slices of about 50 ms).
async fn write_paced(s: &TcpStream, data: &[u8], bps: Option<u64>) -> std::io::Result<()> {
    let Some(bps) = bps.filter(|b| *b > 0) else {
        return write_all(s, data).await;
    };
    let bytes_per_s = (bps / 8).max(1);
    let slice = ((bytes_per_s / 20) as usize).clamp(64, 64 * 1024);
    let start = Instant::now();
    let mut sent = 0u64;
    for part in data.chunks(slice) {
        write_all(s, part).await?;
        sent += part.len() as u64;
        let due = Duration::from_micros(sent * 1_000_000 / bytes_per_s);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    Ok(())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn bad(msg: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.to_owned())
}

/// Reads one HTTP/1.1 message from `s` (bytes already read are in `buf`; what follows it
/// stays there). `for_method` is the request's method when reading its answer. `Ok(None)`:
/// the peer closed before a new message began.
async fn read_message(
    s: &TcpStream,
    buf: &mut Vec<u8>,
    for_method: Option<&str>,
) -> std::io::Result<Option<Message>> {
    let head_end = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > HEAD_LIMIT {
            return Err(bad("head too long"));
        }
        if read_some(s, buf).await? == 0 {
            return if buf.is_empty() {
                Ok(None)
            } else {
                Err(bad("closed mid-head"))
            };
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default().to_owned();
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut close = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "content-length" => length = value.parse().ok(),
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "connection" => close = value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let (method, path, status, no_body) = match for_method {
        None => {
            let mut words = first.split(' ');
            let method = words.next().unwrap_or_default().to_owned();
            let target = words.next().unwrap_or_default();
            let path = target.split('?').next().unwrap_or_default().to_owned();
            (method, path, 0, false)
        }
        Some(m) => {
            let status: u16 = first
                .split(' ')
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            (
                m.to_owned(),
                String::new(),
                status,
                m == "HEAD" || status / 100 == 1 || status == 204 || status == 304,
            )
        }
    };
    let mut end = head_end;
    if no_body {
    } else if chunked {
        // Chunk by chunk: size line, data, CRLF; the last chunk is 0, then trailers.
        loop {
            let line_end = loop {
                if let Some(i) = find(&buf[end..], b"\r\n") {
                    break end + i;
                }
                if read_some(s, buf).await? == 0 {
                    return Err(bad("closed mid-chunk"));
                }
            };
            let size_text = String::from_utf8_lossy(&buf[end..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("bad chunk size"))?;
            end = line_end + 2;
            if size == 0 {
                // Trailers until an empty line.
                loop {
                    let t = loop {
                        if let Some(i) = find(&buf[end..], b"\r\n") {
                            break end + i;
                        }
                        if read_some(s, buf).await? == 0 {
                            return Err(bad("closed in trailers"));
                        }
                    };
                    let empty = t == end;
                    end = t + 2;
                    if empty {
                        break;
                    }
                }
                break;
            }
            while buf.len() < end + size + 2 {
                if read_some(s, buf).await? == 0 {
                    return Err(bad("closed mid-chunk"));
                }
            }
            end += size + 2;
            if end - head_end > BODY_LIMIT {
                return Err(bad("body too long"));
            }
        }
    } else if let Some(n) = length {
        if n > BODY_LIMIT {
            return Err(bad("body too long"));
        }
        while buf.len() < head_end + n {
            if read_some(s, buf).await? == 0 {
                return Err(bad("closed mid-body"));
            }
        }
        end = head_end + n;
    } else if for_method.is_some() {
        // An answer without length runs to the end of the connection.
        while read_some(s, buf).await? > 0 {
            if buf.len() > BODY_LIMIT {
                return Err(bad("body too long"));
            }
        }
        end = buf.len();
        close = true;
    }
    let bytes: Vec<u8> = buf.drain(..end).collect();
    Ok(Some(Message {
        bytes,
        head_len: head_end,
        method,
        path,
        status,
        close,
    }))
}

/// Closes a connection: FIN (both ways shut), or RST.
fn close(s: TcpStream, rst: bool) {
    if rst {
        let _ = s.set_zero_linger();
        drop(s);
    } else if let Ok(std) = s.into_std() {
        let _ = std.shutdown(Shutdown::Both);
    }
}

fn count_up(stats: &FaultStats, req: &Message, sent: usize) {
    stats.up.fetch_add(sent as u64, Ordering::Relaxed);
    if req.method == "PATCH" {
        stats
            .photo_up
            .fetch_add(sent.saturating_sub(req.head_len) as u64, Ordering::Relaxed);
    }
}

/// Sends `req` to the server on a fresh connection (at most `limit` of its bytes; then the
/// connection is closed, FIN or RST) and reads the answer whole.
async fn to_server(
    upstream: SocketAddr,
    req: &Message,
    bps: Option<u64>,
    stats: &FaultStats,
) -> std::io::Result<Message> {
    let started = Instant::now();
    let up = TcpStream::connect(upstream).await?;
    let _ = up.set_nodelay(true);
    write_paced(&up, &req.bytes, bps).await?;
    count_up(stats, req, req.bytes.len());
    let mut buf = Vec::new();
    let resp = tokio::time::timeout(
        UPSTREAM_TIMEOUT,
        read_message(&up, &mut buf, Some(&req.method)),
    )
    .await
    .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??
    .ok_or_else(|| bad("server closed without answering"))?;
    close(up, false);
    let answer = Answer {
        method: req.method.clone(),
        path: req.path.clone(),
        status: resp.status,
        micros: started.elapsed().as_micros() as u64,
    };
    stats
        .answers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(answer);
    Ok(resp)
}

/// Sends only the first `n` bytes of `req`, then breaks the connection.
async fn to_server_cut(
    upstream: SocketAddr,
    req: &Message,
    n: usize,
    bps: Option<u64>,
    rst: bool,
    stats: &FaultStats,
) {
    if let Ok(up) = TcpStream::connect(upstream).await {
        let _ = up.set_nodelay(true);
        if write_paced(&up, &req.bytes[..n], bps).await.is_ok() {
            count_up(stats, req, n);
        }
        // Let the server read what arrived before the break.
        tokio::time::sleep(Duration::from_millis(5)).await;
        close(up, rst);
    }
}

/// One phone connection: exchange after exchange until it closes or a fault breaks it.
async fn serve(client: TcpStream, lane: Arc<Lane>, upstream: SocketAddr, stats: Arc<FaultStats>) {
    let mut buf = Vec::new();
    loop {
        let req = match read_message(&client, &mut buf, None).await {
            Ok(Some(r)) => r,
            _ => return,
        };
        stats.exchanges.fetch_add(1, Ordering::Relaxed);
        let plan = lane.plan();
        let bps = plan.bandwidth_bps;
        tokio::time::sleep(plan.latency_up).await;
        if let Some(h) = plan.hold {
            stats.held.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(h).await;
        }
        let offset = |len: usize| ((len as f64 * plan.at) as usize).min(len.saturating_sub(1));
        match plan.kind {
            Kind::CutUp | Kind::Reset { up: true } => {
                let rst = plan.kind != Kind::CutUp;
                let counter = if rst { &stats.resets } else { &stats.cuts_up };
                counter.fetch_add(1, Ordering::Relaxed);
                to_server_cut(upstream, &req, offset(req.bytes.len()), bps, rst, &stats).await;
                close(client, rst);
                return;
            }
            _ => {}
        }
        let resp = match plan.kind {
            Kind::Duplicate(Dup::Concurrent) => {
                stats.duplicated.fetch_add(1, Ordering::Relaxed);
                let (a, b) = tokio::join!(
                    to_server(upstream, &req, bps, &stats),
                    to_server(upstream, &req, bps, &stats)
                );
                a.or(b)
            }
            Kind::Duplicate(Dup::Sequential { second }) => {
                stats.duplicated.fetch_add(1, Ordering::Relaxed);
                let a = to_server(upstream, &req, bps, &stats).await;
                let b = to_server(upstream, &req, bps, &stats).await;
                if second { b.or(a) } else { a.or(b) }
            }
            Kind::Duplicate(Dup::Late(after)) => {
                stats.duplicated.fetch_add(1, Ordering::Relaxed);
                stats.late_duplicates.fetch_add(1, Ordering::Relaxed);
                let a = to_server(upstream, &req, bps, &stats).await;
                let (copy, stats2) = (req.clone(), stats.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(after).await;
                    let _ = to_server(upstream, &copy, bps, &stats2).await;
                });
                a
            }
            _ => to_server(upstream, &req, bps, &stats).await,
        };
        let resp = match resp {
            Ok(r) => r,
            Err(_) => {
                stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
                close(client, false);
                return;
            }
        };
        if let Kind::Drop { rst } = plan.kind {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
            close(client, rst);
            return;
        }
        tokio::time::sleep(plan.latency_down).await;
        if let Kind::CutDown | Kind::Reset { up: false } = plan.kind {
            let rst = plan.kind != Kind::CutDown;
            let counter = if rst { &stats.resets } else { &stats.cuts_down };
            counter.fetch_add(1, Ordering::Relaxed);
            let n = offset(resp.bytes.len());
            if write_paced(&client, &resp.bytes[..n], bps).await.is_ok() {
                stats.down.fetch_add(n as u64, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
            close(client, rst);
            return;
        }
        if write_paced(&client, &resp.bytes, bps).await.is_err() {
            return;
        }
        stats
            .down
            .fetch_add(resp.bytes.len() as u64, Ordering::Relaxed);
        if req.close || resp.close {
            close(client, false);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_draws_the_same_plan_from_the_same_seed() {
        let lane = |seed| Lane {
            rng: Mutex::new(Rng::new(seed)),
            faults: Mutex::new(Faults {
                cut_up: 0.2,
                cut_down: 0.2,
                reset: 0.1,
                drop_response: 0.1,
                duplicate: 0.1,
                hold: 0.3,
                hold_ms: (10, 100),
                latency_ms: (5, 50),
                jitter_ms: 10,
                bandwidth_bps: None,
                budget: Some(20),
            }),
            injected: AtomicU64::new(0),
        };
        let (a, b, c) = (lane(7), lane(7), lane(8));
        let kinds = |l: &Lane| (0..100).map(|_| l.plan().kind).collect::<Vec<_>>();
        let (ka, kb, kc) = (kinds(&a), kinds(&b), kinds(&c));
        assert_eq!(ka, kb, "same seed, same faults in the same order");
        assert_ne!(ka, kc, "another seed, other faults");
        assert_eq!(
            ka.iter().filter(|k| **k != Kind::None).count(),
            20,
            "the budget caps the faults"
        );
    }
}
