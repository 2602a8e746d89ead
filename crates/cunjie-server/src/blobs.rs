//! Where photo bytes live (sync.md §5.7).
//!
//! Finished photos are blobs in an object store, content-addressed by their SHA-256 under
//! `ab/cd/<sha256>`: a local folder (`<data-dir>/blobs/`) by default, or S3-compatible storage
//! (`s3://bucket/prefix`, the usual `AWS_*` environment variables) when the server is built with
//! the `s3` feature. Unfinished tus uploads are `<id>.part` files in a local folder
//! (`<data-dir>/uploads/`).
//!
//! Limitation: with PostgreSQL and several server nodes, the partial files still live on the
//! local disk of the node that took the upload, so a load balancer must send one upload's
//! requests to one node (or the nodes must share the uploads folder). Finished blobs in S3 are
//! shared.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use cunjie_domain::fact::PhotoHash;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{GetResult, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};
use tokio::sync::{Mutex as AsyncMutex, watch};
use uuid::Uuid;

/// What can go wrong with blob storage.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The object store failed.
    #[error("blob store error: {0}")]
    Store(#[from] object_store::Error),
    /// A local file or folder failed.
    #[error("blob storage I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The `--blob-store` value is not understood.
    #[error(
        "blob store '{0}' is not understood; use nothing (a folder in the data directory), file:///absolute/folder or s3://bucket/prefix"
    )]
    BadSpec(String),
    /// S3 was asked of a build without it.
    #[error(
        "this cunjie-server was built without S3 support; rebuild with `--features s3` or leave --blob-store unset"
    )]
    NoS3,
}

/// One upload's lock: requests on one upload run one at a time, and a newer PATCH or DELETE
/// asks the running one to stop (a phone on 2G reconnects long before the server notices that
/// the old connection is dead).
#[derive(Debug)]
pub(crate) struct UploadSlot {
    pub(crate) lock: Arc<AsyncMutex<()>>,
    /// The generation of the newest request; a running request stops when it changes.
    pub(crate) newest: watch::Sender<u64>,
}

#[derive(Debug)]
struct Inner {
    store: Arc<dyn ObjectStore>,
    /// The local store's root, to fsync what object_store wrote (it does not itself).
    local_root: Option<PathBuf>,
    uploads: PathBuf,
    describe: String,
    slots: Mutex<HashMap<Uuid, Arc<UploadSlot>>>,
}

/// Blob storage and the upload folder (cheap to clone).
#[derive(Debug, Clone)]
pub struct Blobs {
    inner: Arc<Inner>,
}

impl Blobs {
    /// Blobs in `<data_dir>/blobs/`, partial uploads in `<data_dir>/uploads/` (both created).
    pub fn local(data_dir: &Path) -> Result<Self, BlobError> {
        Self::local_at(&data_dir.join("blobs"), &data_dir.join("uploads"))
    }

    /// Blobs in the folder `blobs`, partial uploads in the folder `uploads` (both created).
    pub fn local_at(blobs: &Path, uploads: &Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(blobs)?;
        let store = LocalFileSystem::new_with_prefix(blobs)?;
        let root = std::fs::canonicalize(blobs)?;
        Self::build(
            Arc::new(store),
            Some(root.clone()),
            uploads,
            format!("folder {}", root.display()),
        )
    }

    /// The blob store named by `spec` (`--blob-store`): `None` or empty for `<data_dir>/blobs/`,
    /// `file:///absolute/folder`, or `s3://bucket/prefix` (needs the `s3` feature; credentials,
    /// region and endpoint come from the `AWS_*` environment variables). Partial uploads are
    /// always in `<data_dir>/uploads/`.
    pub fn open(spec: Option<&str>, data_dir: &Path) -> Result<Self, BlobError> {
        let uploads = data_dir.join("uploads");
        match spec.map(str::trim).filter(|s| !s.is_empty()) {
            None => Self::local(data_dir),
            Some(s) if s.starts_with("file://") => {
                let dir = &s["file://".len()..];
                if !dir.starts_with('/') {
                    return Err(BlobError::BadSpec(s.to_owned()));
                }
                Self::local_at(Path::new(dir), &uploads)
            }
            Some(s) if s.starts_with("s3://") => Self::s3(s, &uploads),
            Some(s) => Err(BlobError::BadSpec(s.to_owned())),
        }
    }

    /// S3-compatible storage at `s3://bucket/prefix`, configured from the `AWS_*` environment
    /// variables and then `options` (object_store's names, e.g. `aws_endpoint`,
    /// `aws_allow_http`, `aws_access_key_id`); partial uploads in `<data_dir>/uploads/`.
    #[cfg(feature = "s3")]
    pub fn s3_with(
        spec: &str,
        data_dir: &Path,
        options: &[(&str, &str)],
    ) -> Result<Self, BlobError> {
        Self::s3_configured(spec, &data_dir.join("uploads"), options)
    }

    #[cfg(feature = "s3")]
    fn s3(spec: &str, uploads: &Path) -> Result<Self, BlobError> {
        Self::s3_configured(spec, uploads, &[])
    }

    #[cfg(feature = "s3")]
    fn s3_configured(
        spec: &str,
        uploads: &Path,
        options: &[(&str, &str)],
    ) -> Result<Self, BlobError> {
        let rest = spec
            .strip_prefix("s3://")
            .ok_or_else(|| BlobError::BadSpec(spec.to_owned()))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(BlobError::BadSpec(spec.to_owned()));
        }
        let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (key, value) in options {
            let key = key
                .parse::<object_store::aws::AmazonS3ConfigKey>()
                .map_err(|_| BlobError::BadSpec(format!("{spec} (option {key})")))?;
            builder = builder.with_config(key, *value);
        }
        let s3 = builder.build()?;
        let prefix = prefix.trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(s3, prefix))
        };
        Self::build(store, None, uploads, spec.to_owned())
    }

    #[cfg(not(feature = "s3"))]
    fn s3(_spec: &str, _uploads: &Path) -> Result<Self, BlobError> {
        Err(BlobError::NoS3)
    }

    fn build(
        store: Arc<dyn ObjectStore>,
        local_root: Option<PathBuf>,
        uploads: &Path,
        describe: String,
    ) -> Result<Self, BlobError> {
        std::fs::create_dir_all(uploads)?;
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                local_root,
                uploads: uploads.to_owned(),
                describe,
                slots: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Where the blobs are, for logs.
    pub fn describe(&self) -> &str {
        &self.inner.describe
    }

    /// The folder of partial uploads.
    pub fn uploads_dir(&self) -> &Path {
        &self.inner.uploads
    }

    /// Where a blob is (or would be) on disk, for a local store.
    pub fn local_path(&self, hash: &PhotoHash) -> Option<PathBuf> {
        let h = hash.as_str();
        self.inner
            .local_root
            .as_ref()
            .map(|root| root.join(&h[0..2]).join(&h[2..4]).join(h))
    }

    /// The key of a blob: `ab/cd/<sha256>`.
    fn key(hash: &PhotoHash) -> Key {
        let h = hash.as_str();
        Key::from(format!("{}/{}/{h}", &h[0..2], &h[2..4]))
    }

    /// Stores a blob durably: when this returns `Ok`, the bytes survive a power cut. Writing
    /// the same blob again is harmless (same name, same bytes); on the local store it also
    /// replaces a file left torn by a crash between a write and its fsync.
    pub async fn put(&self, hash: &PhotoHash, bytes: Bytes) -> Result<(), BlobError> {
        let key = Self::key(hash);
        if self.inner.local_root.is_none() && self.exists(hash).await? {
            // S3 objects are written whole or not at all: one that exists is complete.
            return Ok(());
        }
        let opts = PutOptions {
            mode: PutMode::Overwrite,
            ..PutOptions::default()
        };
        self.inner
            .store
            .put_opts(&key, PutPayload::from(bytes), opts)
            .await?;
        if let Some(path) = self.local_path(hash) {
            // object_store's local store renames a staged file into place without fsync.
            let root = self.inner.local_root.clone();
            tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                std::fs::File::open(&path)?.sync_all()?;
                let mut dir = path.parent().map(Path::to_path_buf);
                while let Some(d) = dir {
                    sync_dir(&d)?;
                    if Some(&d) == root.as_ref() {
                        break;
                    }
                    dir = d.parent().map(Path::to_path_buf);
                }
                Ok(())
            })
            .await
            .map_err(std::io::Error::other)??;
        }
        Ok(())
    }

    /// Whether a blob is stored.
    pub async fn exists(&self, hash: &PhotoHash) -> Result<bool, BlobError> {
        match self.inner.store.head(&Self::key(hash)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// A stored blob, to stream; `None` if it is not stored.
    pub async fn get(&self, hash: &PhotoHash) -> Result<Option<GetResult>, BlobError> {
        match self.inner.store.get(&Self::key(hash)).await {
            Ok(r) => Ok(Some(r)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The partial file of an upload.
    pub(crate) fn part_path(&self, id: Uuid) -> PathBuf {
        self.inner.uploads.join(format!("{id}.part"))
    }

    /// The lock of an upload (made on first use).
    pub(crate) fn slot(&self, id: Uuid) -> Arc<UploadSlot> {
        let mut slots = self
            .inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        slots
            .entry(id)
            .or_insert_with(|| {
                Arc::new(UploadSlot {
                    lock: Arc::new(AsyncMutex::new(())),
                    newest: watch::Sender::new(0),
                })
            })
            .clone()
    }

    /// Forgets an upload's lock once the upload is finished or gone.
    pub(crate) fn forget_slot(&self, id: Uuid) {
        self.inner
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }
}

/// fsyncs a directory, so a file created or renamed in it survives a power cut.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
