//! Finding households: by village and group, by name or door plate, by distance.

use cunjie_domain::place::GeoPoint;

use crate::common::{Fixture, hh_id};

#[test]
fn search_by_name_and_door_plate() {
    let f = Fixture::new(60);
    let by_name = f.store.search_households("建国", 100).expect("search");
    assert_eq!(by_name.len(), 15, "every 4th household head is 建国");
    assert!(
        by_name
            .iter()
            .all(|r| r.household.head_name.contains("建国")),
        "only matches"
    );
    let by_plate = f.store.search_households("2组", 100).expect("search");
    assert_eq!(by_plate.len(), 20, "a third are in group 2");
    let exact = f
        .store
        .search_households("太平村1组003号", 5)
        .expect("search");
    assert_eq!(exact.len(), 1, "one exact door plate");
    assert_eq!(exact[0].household.id, hh_id(3), "the right household");
    assert!(
        f.store
            .search_households("   ", 5)
            .expect("search")
            .is_empty(),
        "blank finds nothing"
    );
    assert!(
        f.store
            .search_households("100%", 5)
            .expect("search")
            .is_empty(),
        "LIKE wildcards are literal"
    );
    assert!(
        f.store
            .search_households("'; DROP TABLE household; --", 5)
            .expect("search")
            .is_empty(),
        "SQL in a query is just text"
    );
    assert_eq!(
        f.store
            .households_in(f.village.id, None, 1_000, 0)
            .expect("list")
            .len(),
        60,
        "the table is intact"
    );
}

#[test]
fn list_by_group_and_nearest_first() {
    let f = Fixture::new(30);
    let group = f.households[1].group.to_string();
    let in_group = f
        .store
        .households_in(f.village.id, Some(&group), 100, 0)
        .expect("list");
    assert_eq!(in_group.len(), 10, "a third in each group");
    let page2 = f
        .store
        .households_in(f.village.id, None, 10, 10)
        .expect("page");
    assert_eq!(page2.len(), 10, "paging");
    let at = f.households[5].location.expect("located");
    let near = f.store.households_near(at, 150.0, 5).expect("near");
    assert_eq!(
        near[0].0.household.id,
        hh_id(5),
        "standing at a house, it comes first"
    );
    assert!(near.windows(2).all(|w| w[0].1 <= w[1].1), "nearest first");
    assert!(near.iter().all(|(_, d)| *d <= 150.0), "within the radius");
    assert!(
        f.store
            .households_near(GeoPoint::new(30.0, 120.0), 500.0, 5)
            .expect("near")
            .is_empty(),
        "none far away"
    );
}
