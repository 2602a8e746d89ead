//! The sync engine: push the outbox, then pull every scope, with bounded retries.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use chrono::{DateTime, Utc};
use cunjie_domain::fact::PhotoHash;
use cunjie_protocol::plan::{PullAction, interpret_push, plan_pull, push_batches};
use cunjie_protocol::v1::{EnrollRequest, PushRequest, PushResponse, codes};
use cunjie_store::{Enrollment, Store, StoreError};
use tokio::sync::watch;

use crate::transport::{Transport, TransportError};

/// How long acknowledged mutations are kept for replay after a server restore.
const ACKED_KEPT_DAYS: i64 = 30;

/// Tuning of the engine. The defaults follow sync.md §5.4–5.5 and §5.9.
#[derive(Debug, Clone, Copy)]
pub struct SyncConfig {
    /// Most mutations per push (200).
    pub max_batch_count: usize,
    /// Most bytes of request JSON per push, before gzip (256 KiB).
    pub max_batch_bytes: usize,
    /// Changes asked for per pull page (500).
    pub pull_limit: u32,
    /// Outbox rows read per planning round (1,000).
    pub outbox_read: u32,
    /// Retry schedule for retryable errors: jittered exponential, 1 s doubling to at most
    /// 30 s, 4 retries (5 tries in all). Tests inject a fast one. Photo uploads use the same
    /// schedule between failed chunks, restarting it after every chunk that gets through.
    pub backoff: ExponentialBuilder,
    /// Smallest photo chunk (32 KiB): the size a failure halves down to.
    pub chunk_min: usize,
    /// First photo chunk (128 KiB), sized so one chunk fits a typical 2G connection's life.
    pub chunk_start: usize,
    /// Largest photo chunk (1 MiB): the size a success doubles up to.
    pub chunk_max: usize,
    /// Photos read from the store per upload round (50).
    pub photo_batch: u32,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            max_batch_count: 200,
            max_batch_bytes: 256 * 1024,
            pull_limit: 500,
            outbox_read: 1_000,
            backoff: default_backoff(),
            chunk_min: 32 * 1024,
            chunk_start: 128 * 1024,
            chunk_max: 1024 * 1024,
            photo_batch: 50,
        }
    }
}

/// The production retry schedule: jittered exponential from 1 s, at most 30 s between tries,
/// 5 tries in all.
pub fn default_backoff() -> ExponentialBuilder {
    ExponentialBuilder::new()
        .with_jitter()
        .with_min_delay(Duration::from_secs(1))
        .with_max_delay(Duration::from_secs(30))
        .with_max_times(4)
}

/// What the sync badge shows; readable at any time through [`SyncEngine::status`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// Records waiting in the outbox.
    pub pending_records: u64,
    /// Photos not yet confirmed by the server.
    pub pending_photos: u64,
    /// When a sync last finished without error (device time).
    pub last_success: Option<DateTime<Utc>>,
    /// The last error in words a cleaner understands; `None` after a success.
    pub last_error_zh: Option<String>,
    /// The server refused the token: the phone must be enrolled again (nothing was deleted).
    pub needs_reenroll: bool,
    /// A sync is running now.
    pub syncing: bool,
    /// Bytes of pending photos the server has not confirmed yet.
    pub photo_bytes_remaining: u64,
    /// The photo being uploaded now, and how far it got.
    pub upload: Option<PhotoProgress>,
}

/// How far one photo's upload got, for a progress bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoProgress {
    /// Which photo.
    pub sha256: PhotoHash,
    /// Bytes the server has confirmed.
    pub confirmed: u64,
    /// The photo's size.
    pub size: u64,
}

/// What one [`SyncEngine::sync_once`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Mutations the server settled (applied or rejected).
    pub settled: u64,
    /// Of those, rejected (shown to the person as "sent back").
    pub rejected: u64,
    /// Acknowledged mutations pushed again because the server had lost them.
    pub replayed: u64,
    /// Pull pages applied.
    pub pages: u64,
    /// Changes applied.
    pub changes: u64,
    /// Scopes wiped and pulled again from 0.
    pub scopes_reset: u64,
    /// Scopes dropped because the device may no longer see them.
    pub scopes_dropped: u64,
    /// Photos uploaded and confirmed by the server.
    pub photos_uploaded: u64,
    /// Photos the server already had (nothing sent).
    pub photos_deduplicated: u64,
    /// Photos that could not be sent this time for a reason retrying soon will not fix
    /// (recorded on the photo, tried again next sync).
    pub photos_failed: u64,
    /// Photo bytes put on the wire, resent chunks included.
    pub photo_bytes_sent: u64,
}

/// Why a sync or an enrollment did not finish. `Display` is Chinese, for the person holding
/// the phone; the source carries the technical cause for logs. Nothing is ever deleted on an
/// error: everything stays on the phone for the next try.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The phone has no enrollment yet.
    #[error("这部手机还没有登记，请先扫描镇整治办给的登记码")]
    NotEnrolled,
    /// The server refused the token (now or earlier): enroll the phone again.
    #[error("这部手机需要重新登记：请向镇整治办索取新的登记码。手机上的记录和照片都还在，不会丢失")]
    NeedsReenroll,
    /// The server could not be reached or refused the request.
    #[error("{}", .0.message_zh())]
    Transport(#[source] TransportError),
    /// The server asked for seqs the phone no longer keeps (pruned after 30 days).
    #[error(
        "服务器上的记录和手机对不上（第 {expected} 条起手机已不再保留），请联系镇整治办；手机上其余的记录都还在"
    )]
    ReplayUnavailable {
        /// The seq the server expects next.
        expected: u64,
    },
    /// The server answered, but its answer made no progress or did not fit the request.
    #[error("服务器的回复不完整，已保存在手机上，稍后会自动重试")]
    Protocol(String),
    /// The phone's database failed.
    #[error("手机存储出错，请重启应用后再试；已保存的记录不会丢失")]
    Store(#[from] StoreError),
}

impl SyncError {
    /// The message for the person holding the phone.
    pub fn message_zh(&self) -> String {
        self.to_string()
    }
}

/// The phone's sync engine over a [`Transport`].
///
/// It shares the store with the UI through `Arc<Mutex<Store>>` and holds the lock only for
/// each synchronous store call, never across a network wait. One sync runs at a time.
#[derive(Debug)]
pub struct SyncEngine<T> {
    store: Arc<Mutex<Store>>,
    transport: T,
    config: SyncConfig,
    status: watch::Sender<SyncStatus>,
    running: tokio::sync::Mutex<()>,
}

impl<T: Transport> SyncEngine<T> {
    /// An engine with the default [`SyncConfig`]. Reads the first status from the store.
    pub fn new(store: Arc<Mutex<Store>>, transport: T) -> Result<Self, SyncError> {
        Self::with_config(store, transport, SyncConfig::default())
    }

    /// An engine with its own tuning (tests inject a fast backoff here).
    pub fn with_config(
        store: Arc<Mutex<Store>>,
        transport: T,
        config: SyncConfig,
    ) -> Result<Self, SyncError> {
        let initial = {
            let s = store.lock().unwrap_or_else(PoisonError::into_inner);
            let counts = s.pending_counts()?;
            SyncStatus {
                pending_records: counts.records,
                pending_photos: counts.photos,
                last_success: None,
                last_error_zh: None,
                needs_reenroll: s.enrollment()?.is_some_and(|e| e.needs_reenroll),
                syncing: false,
                photo_bytes_remaining: s.photo_totals()?.bytes_remaining,
                upload: None,
            }
        };
        Ok(Self {
            store,
            transport,
            config,
            status: watch::Sender::new(initial),
            running: tokio::sync::Mutex::new(()),
        })
    }

    /// The store this engine syncs.
    pub fn store(&self) -> &Arc<Mutex<Store>> {
        &self.store
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// A receiver of the sync status; it sees every change (`changed().await`) and the
    /// current value (`borrow()`).
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.subscribe()
    }

    /// The status now.
    pub fn current_status(&self) -> SyncStatus {
        self.status.borrow().clone()
    }

    pub(crate) fn config(&self) -> SyncConfig {
        self.config
    }

    pub(crate) fn status_sender(&self) -> &watch::Sender<SyncStatus> {
        &self.status
    }

    pub(crate) fn with_store<R>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        // A panic while holding the lock cannot leave a half transaction behind (SQLite rolls
        // back an uncommitted one), so a poisoned lock still guards a consistent store.
        let mut guard = self.store.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    pub(crate) fn refresh_counts(&self) {
        if let Ok((c, p)) = self.with_store(|s| Ok((s.pending_counts()?, s.photo_totals()?))) {
            self.status.send_modify(|st| {
                st.pending_records = c.records;
                st.pending_photos = c.photos;
                st.photo_bytes_remaining = p.bytes_remaining;
            });
        }
    }

    async fn retry<R, F, Fut>(&self, what: &'static str, op: F) -> Result<R, TransportError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<R, TransportError>>,
    {
        op.retry(self.config.backoff)
            .when(TransportError::is_retryable)
            .notify(|e, delay| {
                tracing::warn!(what, error = %e, delay_ms = delay.as_millis() as u64, "retrying");
            })
            .await
    }

    /// An auth failure keeps everything and only flags the enrollment.
    pub(crate) fn transport_failed(&self, e: TransportError) -> SyncError {
        if let TransportError::Unauthorised { .. } = e {
            tracing::warn!(error = %e, "token refused; the phone must be enrolled again");
            if let Err(store_err) = self.with_store(|s| s.mark_needs_reenroll()) {
                return SyncError::Store(store_err);
            }
            self.status.send_modify(|st| st.needs_reenroll = true);
            return SyncError::NeedsReenroll;
        }
        SyncError::Transport(e)
    }

    /// Enrolls this phone with a one-time code: sends the store's device id, and saves the
    /// answer (token, person, township) with `server_url`. `server_url` must be the address the
    /// transport talks to. Clears `needs_reenroll`.
    pub async fn enroll(
        &self,
        server_url: &str,
        code: &str,
        device_name: &str,
    ) -> Result<Enrollment, SyncError> {
        let _one_at_a_time = self.running.lock().await;
        let req = EnrollRequest {
            code: code.trim().to_owned(),
            device_id: self.with_store(|s| Ok(s.device_id()))?,
            device_name: device_name.to_owned(),
            public_key: self.with_store(|s| s.device_key())?.map(|(_, pk)| pk),
        };
        let result = match self.retry("enroll", || self.transport.enroll(&req)).await {
            Ok(resp) => self
                .with_store(|s| s.save_enrollment(server_url, &resp))
                .map_err(SyncError::from),
            Err(e) => Err(SyncError::Transport(e)),
        };
        self.status.send_modify(|st| match &result {
            Ok(_) => {
                st.needs_reenroll = false;
                st.last_error_zh = None;
            }
            Err(e) => st.last_error_zh = Some(e.message_zh()),
        });
        result
    }

    /// One full sync: push the whole outbox in batches, then pull every scope until it is up
    /// to date (dropping or resetting scopes as the plan says). Retryable errors are retried
    /// with backoff; the first error that remains ends the run, with everything kept on the
    /// phone. Updates [`SyncEngine::status`] as it goes.
    pub async fn sync_once(&self) -> Result<SyncReport, SyncError> {
        let _one_at_a_time = self.running.lock().await;
        self.status.send_modify(|st| st.syncing = true);
        let result = self.run().await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, cause = ?e, "sync did not finish");
        }
        let now = self.with_store(|s| Ok(s.clock().now())).ok();
        let counts = self
            .with_store(|s| Ok((s.pending_counts()?, s.photo_totals()?)))
            .ok();
        self.status.send_modify(|st| {
            st.syncing = false;
            st.upload = None;
            if let Some((c, p)) = &counts {
                st.pending_records = c.records;
                st.pending_photos = c.photos;
                st.photo_bytes_remaining = p.bytes_remaining;
            }
            match &result {
                Ok(_) => {
                    st.last_success = now;
                    st.last_error_zh = None;
                }
                Err(e) => {
                    st.last_error_zh = Some(e.message_zh());
                    if matches!(e, SyncError::NeedsReenroll) {
                        st.needs_reenroll = true;
                    }
                }
            }
        });
        result
    }

    async fn run(&self) -> Result<SyncReport, SyncError> {
        let enrollment = self
            .with_store(|s| s.enrollment())?
            .ok_or(SyncError::NotEnrolled)?;
        if enrollment.needs_reenroll {
            return Err(SyncError::NeedsReenroll);
        }
        let token = enrollment.token.as_str();
        let mut report = SyncReport::default();
        // Push first, then pull: the phone reads its own writes (sync.md §5.5). Photos last:
        // records are small and valuable, and never wait behind a photo (§5.7).
        self.push_all(token, &mut report).await?;
        self.pull_all(token, &mut report).await?;
        self.upload_photos(token, &mut report).await?;
        // Acknowledged mutations are kept 30 days for replay to a restored server (§5.8).
        self.with_store(|s| {
            let horizon = s.clock().now() - chrono::Duration::days(ACKED_KEPT_DAYS);
            s.prune_acked(horizon)
        })?;
        Ok(report)
    }

    async fn push_all(&self, token: &str, report: &mut SyncReport) -> Result<(), SyncError> {
        let device = self.with_store(|s| Ok(s.device_id()))?;
        let mut max_count = self.config.max_batch_count;
        let mut replayed = false;
        'plan: loop {
            let pending = self.with_store(|s| s.pending_mutations(self.config.outbox_read))?;
            if pending.is_empty() {
                return Ok(());
            }
            for batch in push_batches(&pending, max_count, self.config.max_batch_bytes) {
                let seqs: Vec<u64> = batch.iter().map(|m| m.seq).collect();
                let first = seqs[0];
                self.with_store(|s| s.mark_in_flight(&seqs))?;
                let req = PushRequest {
                    mutations: batch,
                    sent_at: Some(self.with_store(|s| Ok(s.clock().now()))?),
                };
                failpoint!("phone::push_in_flight");
                // A lost answer is retried as is: the server answers settled seqs from its
                // receipts, so each mutation takes effect exactly once.
                let resp = match self
                    .retry("push", || self.transport.push(token, &req))
                    .await
                {
                    Ok(resp) => resp,
                    Err(TransportError::SeqGap {
                        expected: Some(expected),
                        ..
                    }) if !replayed && expected < first => {
                        replayed = true;
                        report.replayed += self.replay(token, expected, first - 1).await?;
                        continue 'plan;
                    }
                    Err(TransportError::Refused { code, .. })
                        if code == codes::TOO_LARGE && seqs.len() > 1 =>
                    {
                        max_count = (seqs.len() / 2).max(1);
                        continue 'plan;
                    }
                    Err(e) => {
                        let zh = e.message_zh();
                        self.with_store(|s| s.record_push_error(&seqs, zh))?;
                        return Err(self.transport_failed(e));
                    }
                };
                failpoint!("phone::push_answered");
                let outcome = interpret_push(&seqs, &resp);
                // Hand the store only what this batch settled, so an answer that runs ahead
                // of the batch (an earlier answer was lost) cannot confuse it.
                let ack = PushResponse {
                    acked_through: outcome.acked_through().unwrap_or(0),
                    results: resp
                        .results
                        .into_iter()
                        .filter(|r| outcome.settled.binary_search(&r.seq).is_ok())
                        .collect(),
                    server_time_ms: resp.server_time_ms,
                };
                self.with_store(|s| s.apply_push_response(device, &ack))?;
                report.settled += outcome.settled.len() as u64;
                report.rejected += outcome.rejected.len() as u64;
                self.refresh_counts();
                if outcome.settled.is_empty() {
                    return Err(SyncError::Protocol(format!(
                        "the push of seqs {first}..={} settled nothing",
                        seqs[seqs.len() - 1]
                    )));
                }
                if !outcome.still_pending.is_empty() {
                    continue 'plan;
                }
            }
        }
    }

    /// Pushes acknowledged mutations `from..=through` again from the acknowledged log, for a
    /// server restored from a backup (sync.md §5.8). Returns how many were replayed.
    async fn replay(&self, token: &str, from: u64, through: u64) -> Result<u64, SyncError> {
        tracing::warn!(
            from,
            through,
            "the server lost acknowledged seqs; replaying them"
        );
        let mut next = from;
        let mut count = 0;
        while next <= through {
            let found =
                self.with_store(|s| s.acked_mutations(next, through, self.config.outbox_read))?;
            if let Some(missing) = found
                .iter()
                .zip(next..)
                .find(|(m, want)| m.seq != *want)
                .map(|(_, want)| want)
                .or_else(|| found.is_empty().then_some(next))
            {
                return Err(SyncError::ReplayUnavailable { expected: missing });
            }
            'batches: for batch in push_batches(
                &found,
                self.config.max_batch_count,
                self.config.max_batch_bytes,
            ) {
                let seqs: Vec<u64> = batch.iter().map(|m| m.seq).collect();
                let req = PushRequest {
                    mutations: batch,
                    sent_at: Some(self.with_store(|s| Ok(s.clock().now()))?),
                };
                let resp = self
                    .retry("replay", || self.transport.push(token, &req))
                    .await
                    .map_err(|e| self.transport_failed(e))?;
                let outcome = interpret_push(&seqs, &resp);
                self.with_store(|s| s.learn_clock_offset(resp.server_time_ms))?;
                let Some(acked) = outcome.acked_through() else {
                    return Err(SyncError::Protocol(format!(
                        "the replay from seq {} settled nothing",
                        seqs[0]
                    )));
                };
                count += outcome.settled.len() as u64;
                next = acked + 1;
                if !outcome.still_pending.is_empty() {
                    break 'batches;
                }
            }
        }
        Ok(count)
    }

    async fn pull_all(&self, token: &str, report: &mut SyncReport) -> Result<(), SyncError> {
        let list = self
            .retry("scopes", || self.transport.scopes(token))
            .await
            .map_err(|e| self.transport_failed(e))?;
        self.with_store(|s| s.learn_clock_offset(list.server_time_ms))?;
        let local = self.with_store(|s| s.cursors())?;
        for action in plan_pull(&local, &list) {
            match action {
                PullAction::UpToDate { .. } => {}
                PullAction::Drop { scope } => {
                    tracing::info!(%scope, "scope no longer visible; dropping its synced rows");
                    self.with_store(|s| s.drop_scope(&scope))?;
                    report.scopes_dropped += 1;
                }
                PullAction::Reset { scope, epoch } => {
                    tracing::info!(%scope, epoch, "scope reset; pulling it again from 0");
                    self.with_store(|s| s.drop_scope(&scope))?;
                    report.scopes_reset += 1;
                    self.pull_scope(token, &scope, 0, epoch, report).await?;
                }
                PullAction::Pull {
                    scope,
                    after,
                    epoch,
                } => self.pull_scope(token, &scope, after, epoch, report).await?,
            }
        }
        Ok(())
    }

    /// Pulls one scope page by page until it is up to date; each page is applied with its
    /// cursor in one store transaction.
    async fn pull_scope(
        &self,
        token: &str,
        scope: &str,
        mut after: u64,
        mut epoch: u64,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let mut restarted = false;
        loop {
            let page = self
                .retry("pull", || {
                    self.transport
                        .pull(token, scope, after, epoch, self.config.pull_limit)
                })
                .await
                .map_err(|e| self.transport_failed(e))?;
            if page.scope != scope {
                return Err(SyncError::Protocol(format!(
                    "asked for scope {scope}, got {}",
                    page.scope
                )));
            }
            if page.epoch != epoch && after > 0 {
                // The scope was reset on the server while we were pulling it: its changes
                // after our cursor in the old epoch mean nothing now. Start again from 0.
                if restarted {
                    return Err(SyncError::Protocol(format!(
                        "scope {scope} changed epoch twice during one pull"
                    )));
                }
                restarted = true;
                self.with_store(|s| s.drop_scope(scope))?;
                report.scopes_reset += 1;
                after = 0;
                epoch = page.epoch;
                continue;
            }
            self.with_store(|s| s.apply_pull_page(&page))?;
            report.pages += 1;
            report.changes += page.changes.len() as u64;
            epoch = page.epoch;
            if page.up_to_date {
                return Ok(());
            }
            if page.next_after <= after {
                return Err(SyncError::Protocol(format!(
                    "scope {scope}: the page after {after} did not move the cursor"
                )));
            }
            after = page.next_after;
        }
    }
}
