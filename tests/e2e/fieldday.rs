//! The simulated field month (`cunjie_e2e::fieldday`), three days of it, against a real
//! server: every phone's work arrives, once.

use cunjie_e2e::fieldday::{self, FieldMonth};
use cunjie_e2e::server::TestServer;
use cunjie_server::demo::demo_township;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_field_days_reach_the_server_exactly_once() {
    let dir = tempfile::tempdir().expect("dir");
    // Two villages of two groups: four cleaners and two inspectors.
    let server = TestServer::start_on(
        tempfile::tempdir().expect("server dir"),
        &format!("sqlite://{}", dir.path().join("server.db").display()),
        demo_township(2, 2, 24),
    );
    let crew = fieldday::enrollees(&server.office, &server.demo).expect("codes");
    // 14th–16th November 2026: the self-evaluation window ends and the re-check opens.
    let cfg = FieldMonth {
        max_photos: 8,
        ..FieldMonth::new(7, 2026, 11, 14, 16)
    };
    let report = fieldday::run(
        &server.url,
        &server.demo,
        &crew,
        &cfg,
        &dir.path().join("phones"),
    )
    .await
    .expect("the field days run and sync");
    println!("{}", report.summary());

    assert_eq!(report.days, 3, "three days");
    assert_eq!(report.phones, 6, "two inspectors and four cleaners");
    assert_eq!(report.rounds, 12, "a round per cleaner per day");
    assert!(
        report.household_inspections >= 8,
        "two or three households a day per inspector (the 15th is a Sunday): {report:?}"
    );
    assert_eq!(
        (report.self_evals, report.rechecks),
        (2, 2),
        "each village evaluates itself by the 15th and is re-checked on the 16th"
    );
    assert!(
        report.photos > 0 && report.photos <= cfg.max_photos,
        "a few photos, within the budget: {report:?}"
    );
    assert!(report.failed_items > 0, "some failures: {report:?}");

    let counts = server.office.counts().expect("counts");
    assert_eq!(
        counts.facts,
        u64::from(report.facts()),
        "every inspection and round is on the server once: {report:?}"
    );
    let rounds = server
        .office
        .fact_rows()
        .expect("facts")
        .iter()
        .filter(|(_, row)| row.get("zone").is_some() && row.get("trace").is_some())
        .count();
    assert_eq!(rounds as u32, report.rounds, "the rounds among them");
    assert_eq!(
        counts.rectifications,
        u64::from(report.rectifications_issued),
        "every rectification order too"
    );
}
