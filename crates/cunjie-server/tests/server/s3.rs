//! S3-compatible blob storage (only with `--features s3`), against moto's S3 server on
//! 127.0.0.1 (`pip install "moto[server]"`, which provides `moto_server`).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use cunjie_domain::person::Role;
use cunjie_server::Blobs;

use crate::harness::Harness;
use crate::photos::{Tus, attest_one, household_shot};

/// A moto S3 server on a free port, stopped on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Moto {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("moto_server did not start ({e}): run `pip install \"moto[server]\"`")
        });
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    moto
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_go_to_s3_compatible_storage() {
    let moto = moto();
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let r = http
        .put(format!("{}/cunjie-photos", moto.url))
        .send()
        .await
        .expect("bucket");
    assert!(r.status().is_success(), "bucket created: {}", r.status());
    let dir = tempfile::tempdir().expect("temp dir");
    let blobs = Blobs::s3_with(
        "s3://cunjie-photos/township-1",
        dir.path(),
        &[
            ("aws_endpoint", moto.url.as_str()),
            ("aws_allow_http", "true"),
            ("aws_access_key_id", "test"),
            ("aws_secret_access_key", "test"),
            ("aws_region", "us-east-1"),
        ],
    )
    .expect("S3 blob store");
    assert!(
        blobs
            .local_path(&"ab".repeat(32).parse().expect("hex"))
            .is_none(),
        "not local"
    );
    let db = cunjie_server::Db::open(&format!("sqlite://{}", dir.path().join("s.db").display()))
        .expect("db");
    let h = Harness::with_blobs(db, blobs, tempfile::tempdir().expect("dir"));
    let mut phone = h.enroll(h.demo.inspector(0).id, Role::Inspector).await;
    let photo = household_shot(&h, &phone, 0, 91, 0.0, Some(chrono::Duration::zero()));
    attest_one(&h, &mut phone, &photo).await;
    let served = h.serve().await;
    let tus = Tus::new(&served, &phone);
    let sha = photo.sha().as_str().to_owned();
    assert_eq!(tus.blob(&sha).await, StatusCode::NOT_FOUND, "not yet");
    let loc = tus.location(&photo).await;
    let half = photo.bytes.len() / 2;
    let r = tus.patch(&loc, 0, photo.bytes[..half].to_vec(), None).await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT, "first half");
    let r = tus
        .patch(&loc, half as u64, photo.bytes[half..].to_vec(), None)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "second half: stored in S3"
    );
    assert_eq!(tus.blob(&sha).await, StatusCode::OK, "stored");
    // Look in the bucket itself, without the server's prefix.
    let bucket = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name("cunjie-photos")
        .with_endpoint(&moto.url)
        .with_allow_http(true)
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .with_region("us-east-1")
        .build()
        .expect("bucket client");
    let key =
        object_store::path::Path::from(format!("township-1/{}/{}/{sha}", &sha[0..2], &sha[2..4]));
    let object = object_store::ObjectStoreExt::get(&bucket, &key)
        .await
        .expect("the object is under prefix/ab/cd/<sha256>")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(object.to_vec(), photo.bytes, "byte-identical in the bucket");
    let got = h
        .state
        .blobs
        .get(photo.sha())
        .await
        .expect("get")
        .expect("present")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(got.to_vec(), photo.bytes, "read back through the store");
    let r = tus.upload_whole(&photo).await;
    assert_eq!(
        r.status(),
        StatusCode::NO_CONTENT,
        "a second upload just finishes"
    );
}
