//! The conformance suite on SQLite (a real file in a temp dir).

use cunjie_server::Db;

use crate::conformance;

fn db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::open(&format!(
        "sqlite://{}",
        dir.path().join("server.db").display()
    ))
    .expect("sqlite opens");
    (dir, db)
}

macro_rules! on_sqlite {
    ($($name:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let (_dir, db) = db();
            conformance::$name(db).await;
        }
    )*};
}

conformance::scenarios!(on_sqlite);
