//! A TCP proxy on 127.0.0.1 that cuts connections: each new connection may carry a planned cut
//! after `k` bytes from the phone to the server, at which point both directions are shut. It
//! counts the bytes it forwards each way. Deterministic from a seed: the plan is a list of
//! offsets drawn from it, and a failing seed can be replayed.
//!
//! (The full fault-injecting proxy of the reliability issue — latency, bandwidth, dropped
//! answers, duplicates — grows from this one.)

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Counters, shared with the forwarding threads.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Bytes forwarded from the phone to the server.
    pub up: AtomicU64,
    /// Bytes forwarded from the server to the phone.
    pub down: AtomicU64,
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections cut by plan.
    pub cuts: AtomicU64,
}

/// A running proxy; stopped on drop.
#[derive(Debug)]
pub struct CutProxy {
    addr: SocketAddr,
    /// What it forwarded and cut.
    pub stats: Arc<ProxyStats>,
    plan: Arc<Mutex<VecDeque<u64>>>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A small deterministic generator (xorshift64*), so a seed replays a run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// From a seed (any value).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

impl CutProxy {
    /// A proxy in front of `upstream` (`host:port`).
    pub fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(ProxyStats::default());
        let plan = Arc::new(Mutex::new(VecDeque::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stats, plan, stop, open) =
                (stats.clone(), plan.clone(), stop.clone(), open.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            stats.connections.fetch_add(1, Ordering::Relaxed);
                            let cut = plan.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                            if let Ok(c) = client.try_clone() {
                                let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
                                open.retain(|s| s.peer_addr().is_ok());
                                open.push(c);
                            }
                            let (stats, plan) = (stats.clone(), plan.clone());
                            std::thread::spawn(move || {
                                // A refused upstream is a refused connection for the phone.
                                let cut_happened =
                                    relay(client, upstream, cut, &stats).unwrap_or(false);
                                // A connection that ended before its planned offset (a short
                                // request, a keep-alive closed at the end of a sync) gives its
                                // cut back to the next connection, so every planned cut lands.
                                if let (Some(c), false) = (cut, cut_happened) {
                                    plan.lock().unwrap_or_else(|e| e.into_inner()).push_front(c);
                                }
                            });
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(std::time::Duration::from_millis(2));
                        }
                        Err(_) => std::thread::sleep(std::time::Duration::from_millis(2)),
                    }
                }
            })
        };
        Ok(Self {
            addr,
            stats,
            plan,
            open,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next connections are cut after these many bytes from the phone, one per connection.
    /// Connections already open (kept alive by the phone's client) are closed first, so the
    /// plan applies from the next request on.
    pub fn plan_cuts(&self, offsets: impl IntoIterator<Item = u64>) {
        self.plan
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(offsets);
        for s in self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Cuts still planned.
    pub fn cuts_left(&self) -> usize {
        self.plan.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Bytes forwarded from the phone so far.
    pub fn up(&self) -> u64 {
        self.stats.up.load(Ordering::Relaxed)
    }

    /// Connections cut so far.
    pub fn cuts(&self) -> u64 {
        self.stats.cuts.load(Ordering::Relaxed)
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    cut: Option<u64>,
    stats: &Arc<ProxyStats>,
) -> std::io::Result<bool> {
    client.set_nonblocking(false)?;
    let server = TcpStream::connect(upstream)?;
    let (c2, s2) = (client.try_clone()?, server.try_clone()?);
    let down_stats = stats.clone();
    let down = std::thread::spawn(move || {
        let _ = copy(s2, c2, None, &down_stats, false);
    });
    let cut_happened = copy(client, server, cut, stats, true).unwrap_or(false);
    let _ = down.join();
    Ok(cut_happened)
}

/// Copies `from` to `to` until EOF, or until `cut` bytes went through (then shuts both ends
/// of both sockets so the other direction ends too). Answers whether it cut.
fn copy(
    mut from: TcpStream,
    mut to: TcpStream,
    cut: Option<u64>,
    stats: &ProxyStats,
    up: bool,
) -> std::io::Result<bool> {
    let mut buf = [0u8; 16 * 1024];
    let mut moved = 0u64;
    loop {
        let limit = match cut {
            Some(c) if moved >= c => {
                stats.cuts.fetch_add(1, Ordering::Relaxed);
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                return Ok(true);
            }
            Some(c) => buf.len().min((c - moved) as usize),
            None => buf.len(),
        };
        let n = from.read(&mut buf[..limit])?;
        if n == 0 {
            let _ = to.shutdown(Shutdown::Write);
            return Ok(false);
        }
        to.write_all(&buf[..n])?;
        moved += n as u64;
        let counter = if up { &stats.up } else { &stats.down };
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}
