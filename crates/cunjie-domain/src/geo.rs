//! Geographic checks on WGS-84 coordinates: inside a zone, near a household, how much of a zone
//! a round covered, whether a checkpoint was visited, and whether a fix can be trusted.
//!
//! Villages are small, so distances are computed in a local east/north projection in metres
//! around the zone (error well under 0.1 % at village scale); point-to-point distances use the
//! haversine formula.

use chrono::Duration;
use geo::{Contains, Coord, Distance, Euclidean, Haversine, LineString, Point, Polygon};
use serde::{Deserialize, Serialize};

use crate::fact::{GeoFix, TracePoint};
use crate::place::{GeoPoint, ZoneGeometry};

const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Thresholds for judging fixes and visits; every number is a township setting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GeoPolicy {
    /// A fix worse than this (metres) is flagged and not trusted as proof of presence.
    pub max_accuracy_m: f64,
    /// Tolerance around a zone or household, in metres.
    pub buffer_m: f64,
    /// A part of a zone counts as covered when the trace passed within this many metres.
    pub coverage_radius_m: f64,
    /// A checkpoint counts as visited when the trace stayed within this many metres …
    pub checkpoint_radius_m: f64,
    /// … for at least this many seconds.
    pub checkpoint_dwell_s: i64,
}

impl Default for GeoPolicy {
    fn default() -> Self {
        Self {
            max_accuracy_m: 30.0,
            buffer_m: 50.0,
            coverage_radius_m: 25.0,
            checkpoint_radius_m: 20.0,
            checkpoint_dwell_s: 20,
        }
    }
}

/// Why a fix is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FixProblem {
    /// Latitude/longitude not finite or out of range.
    OutOfRange,
    /// 0, 0 with accuracy 0: what a desktop geolocation stub answers, not a position.
    NoFix,
    /// Accuracy worse than the policy allows.
    PoorAccuracy,
    /// The OS reports a mock location provider.
    Mock,
}

/// Judges a fix: `Ok(())` when it can be trusted, else every problem found.
pub fn assess_fix(fix: &GeoFix, policy: &GeoPolicy) -> Result<(), Vec<FixProblem>> {
    let mut problems = Vec::new();
    if !fix.point.is_valid() || !fix.accuracy_m.is_finite() || fix.accuracy_m < 0.0 {
        problems.push(FixProblem::OutOfRange);
    } else if fix.point.lat == 0.0 && fix.point.lon == 0.0 {
        problems.push(FixProblem::NoFix);
    } else if fix.accuracy_m > policy.max_accuracy_m {
        problems.push(FixProblem::PoorAccuracy);
    }
    if fix.mock {
        problems.push(FixProblem::Mock);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Great-circle distance in metres.
pub fn distance_m(a: GeoPoint, b: GeoPoint) -> f64 {
    Haversine.distance(Point::new(a.lon, a.lat), Point::new(b.lon, b.lat))
}

/// Whether `p` is within `buffer_m` of the household's location.
pub fn near(p: GeoPoint, target: GeoPoint, buffer_m: f64) -> bool {
    distance_m(p, target) <= buffer_m
}

/// A local east/north projection in metres around an origin.
#[derive(Debug, Clone, Copy)]
struct Local {
    lat0: f64,
    lon0: f64,
    kx: f64,
    ky: f64,
}

impl Local {
    fn around(origin: GeoPoint) -> Self {
        let ky = EARTH_RADIUS_M * std::f64::consts::PI / 180.0;
        Self {
            lat0: origin.lat,
            lon0: origin.lon,
            kx: ky * origin.lat.to_radians().cos(),
            ky,
        }
    }

    fn xy(&self, p: GeoPoint) -> Coord {
        Coord {
            x: (p.lon - self.lon0) * self.kx,
            y: (p.lat - self.lat0) * self.ky,
        }
    }

    fn line(&self, pts: &[GeoPoint]) -> LineString {
        LineString::new(pts.iter().map(|p| self.xy(*p)).collect())
    }
}

fn first_point(g: &ZoneGeometry) -> Option<GeoPoint> {
    match g {
        ZoneGeometry::Polygon(pts) | ZoneGeometry::Line(pts) => pts.first().copied(),
    }
}

/// Distance in metres from a point to a zone (0 inside a polygon zone); `None` for an empty
/// zone or when any coordinate is not a valid WGS-84 position.
pub fn distance_to_zone_m(p: GeoPoint, zone: &ZoneGeometry) -> Option<f64> {
    let (ZoneGeometry::Polygon(pts) | ZoneGeometry::Line(pts)) = zone;
    if !p.is_valid() || pts.iter().any(|q| !q.is_valid()) {
        return None;
    }
    let local = Local::around(first_point(zone)?);
    let xy = Point::from(local.xy(p));
    Some(match zone {
        ZoneGeometry::Polygon(pts) => {
            let ring = local.line(pts);
            let poly = Polygon::new(ring.clone(), vec![]);
            if poly.contains(&xy) {
                0.0
            } else {
                Euclidean.distance(&xy, &ring)
            }
        }
        ZoneGeometry::Line(pts) => Euclidean.distance(&xy, &local.line(pts)),
    })
}

/// Whether `p` is inside the zone or within `buffer_m` of it.
pub fn in_zone(p: GeoPoint, zone: &ZoneGeometry, buffer_m: f64) -> bool {
    distance_to_zone_m(p, zone).is_some_and(|d| d <= buffer_m)
}

/// Sample points of a zone in local metres: every `step` metres along a line, or on a grid of
/// `step` inside a polygon.
fn samples(local: &Local, zone: &ZoneGeometry, step: f64) -> Vec<Coord> {
    const MAX_SAMPLES: usize = 40_000;
    match zone {
        ZoneGeometry::Line(pts) => {
            let mut out = Vec::new();
            let line = local.line(pts);
            let total: f64 = line
                .lines()
                .map(|seg| (seg.dx().powi(2) + seg.dy().powi(2)).sqrt())
                .sum();
            let step = if total / step > MAX_SAMPLES as f64 {
                total / MAX_SAMPLES as f64
            } else {
                step
            };
            for seg in line.lines() {
                let len = (seg.dx().powi(2) + seg.dy().powi(2)).sqrt();
                let n = (len / step).ceil().max(1.0) as usize;
                for i in 0..n {
                    let t = i as f64 / n as f64;
                    out.push(Coord {
                        x: seg.start.x + seg.dx() * t,
                        y: seg.start.y + seg.dy() * t,
                    });
                }
            }
            if let Some(last) = line.0.last() {
                out.push(*last);
            }
            out
        }
        ZoneGeometry::Polygon(pts) => {
            let ring = local.line(pts);
            let poly = Polygon::new(ring.clone(), vec![]);
            let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for c in &ring.0 {
                minx = minx.min(c.x);
                miny = miny.min(c.y);
                maxx = maxx.max(c.x);
                maxy = maxy.max(c.y);
            }
            // Whole cells per axis, capped so the grid never exceeds MAX_SAMPLES points
            // however long, thin or large the polygon is.
            let cells =
                |extent: f64| ((extent / step).ceil().max(1.0)).min(MAX_SAMPLES as f64) as usize;
            let mut nx = cells(maxx - minx);
            let mut ny = cells(maxy - miny);
            if nx * ny > MAX_SAMPLES {
                let k = ((nx * ny) as f64 / MAX_SAMPLES as f64).sqrt();
                nx = ((nx as f64 / k).ceil() as usize).clamp(1, MAX_SAMPLES);
                ny = (MAX_SAMPLES / nx).max(1);
            }
            let (dx, dy) = ((maxx - minx) / nx as f64, (maxy - miny) / ny as f64);
            let mut out = Vec::new();
            for j in 0..ny {
                for i in 0..nx {
                    let c = Coord {
                        x: minx + dx * (i as f64 + 0.5),
                        y: miny + dy * (j as f64 + 0.5),
                    };
                    if poly.contains(&Point::from(c)) {
                        out.push(c);
                    }
                }
            }
            out
        }
    }
}

/// Share of the zone (its length for a line, its area for a polygon) that came within
/// `policy.coverage_radius_m` of the trace, from 0.0 to 1.0. Trace points with a poor or
/// invalid fix are left out.
pub fn coverage(zone: &ZoneGeometry, trace: &[TracePoint], policy: &GeoPolicy) -> f64 {
    let (ZoneGeometry::Polygon(pts) | ZoneGeometry::Line(pts)) = zone;
    let radius_ok = policy.coverage_radius_m.is_finite() && policy.coverage_radius_m > 0.0;
    if !radius_ok || pts.iter().any(|p| !p.is_valid()) {
        return 0.0;
    }
    let Some(origin) = first_point(zone) else {
        return 0.0;
    };
    let local = Local::around(origin);
    let good: Vec<Coord> = trace
        .iter()
        .filter(|t| {
            t.point.is_valid() && t.accuracy_m.is_finite() && t.accuracy_m <= policy.max_accuracy_m
        })
        .map(|t| local.xy(t.point))
        .collect();
    if good.is_empty() {
        return 0.0;
    }
    let step = (policy.coverage_radius_m / 2.0).max(2.0);
    let pts = samples(&local, zone, step);
    if pts.is_empty() {
        return 0.0;
    }
    let r = policy.coverage_radius_m;
    let covered = if good.len() == 1 {
        let g = Point::from(good[0]);
        pts.iter()
            .filter(|c| Euclidean.distance(&Point::from(**c), &g) <= r)
            .count()
    } else {
        let path = LineString::new(good);
        // Cheap bounding-box reject before the exact distance.
        let (mut minx, mut miny, mut maxx, mut maxy) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for c in &path.0 {
            minx = minx.min(c.x);
            miny = miny.min(c.y);
            maxx = maxx.max(c.x);
            maxy = maxy.max(c.y);
        }
        pts.iter()
            .filter(|c| c.x >= minx - r && c.x <= maxx + r && c.y >= miny - r && c.y <= maxy + r)
            .filter(|c| Euclidean.distance(&Point::from(**c), &path) <= r)
            .count()
    };
    covered as f64 / pts.len() as f64
}

/// The longest time the trace stayed within `policy.checkpoint_radius_m` of a checkpoint, and
/// whether that meets the dwell threshold.
pub fn checkpoint_dwell(
    checkpoint: GeoPoint,
    trace: &[TracePoint],
    policy: &GeoPolicy,
) -> (Duration, bool) {
    let mut best = Duration::zero();
    let mut run_start = None;
    for t in trace {
        let inside = t.point.is_valid()
            && t.accuracy_m <= policy.max_accuracy_m
            && distance_m(t.point, checkpoint) <= policy.checkpoint_radius_m;
        match (inside, run_start) {
            (true, None) => run_start = Some(t.at),
            (true, Some(start)) => best = best.max(t.at - start),
            (false, _) => run_start = None,
        }
    }
    (best, best >= Duration::seconds(policy.checkpoint_dwell_s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    // A village road in 萍乡 area: 1 km due east from (27.6, 113.85).
    fn road() -> ZoneGeometry {
        ZoneGeometry::Line(vec![
            GeoPoint::new(27.6, 113.85),
            GeoPoint::new(27.6, 113.86013),
        ])
    }

    fn east(m: f64) -> GeoPoint {
        let local = Local::around(GeoPoint::new(27.6, 113.85));
        GeoPoint::new(27.6, 113.85 + m / local.kx)
    }

    fn north_of(p: GeoPoint, m: f64) -> GeoPoint {
        let local = Local::around(p);
        GeoPoint::new(p.lat + m / local.ky, p.lon)
    }

    fn trace(points: &[GeoPoint], every_s: i64) -> Vec<TracePoint> {
        let t0 = DateTime::<Utc>::from_timestamp(1_790_000_000, 0).expect("valid");
        points
            .iter()
            .enumerate()
            .map(|(i, p)| TracePoint {
                point: *p,
                accuracy_m: 8.0,
                at: t0 + Duration::seconds(i as i64 * every_s),
            })
            .collect()
    }

    #[test]
    fn road_is_about_one_km_and_distances_agree() {
        let d = distance_m(GeoPoint::new(27.6, 113.85), GeoPoint::new(27.6, 113.86013));
        assert!((d - 1000.0).abs() < 5.0, "1 km road, got {d}");
        let off = north_of(east(500.0), 30.0);
        let dz = distance_to_zone_m(off, &road()).expect("non-empty");
        assert!((dz - 30.0).abs() < 0.5, "30 m off the road, got {dz}");
        assert!(in_zone(off, &road(), 50.0), "within the 50 m buffer");
        assert!(!in_zone(off, &road(), 20.0), "outside a 20 m buffer");
    }

    #[test]
    fn polygon_contains_and_buffers() {
        let sq = ZoneGeometry::Polygon(vec![
            east(0.0),
            east(200.0),
            north_of(east(200.0), 200.0),
            north_of(east(0.0), 200.0),
        ]);
        assert_eq!(
            distance_to_zone_m(north_of(east(100.0), 100.0), &sq),
            Some(0.0),
            "centre is inside"
        );
        assert!(
            in_zone(north_of(east(100.0), 230.0), &sq, 50.0),
            "30 m outside, 50 m buffer"
        );
        assert!(
            !in_zone(north_of(east(100.0), 300.0), &sq, 50.0),
            "100 m outside"
        );
    }

    #[test]
    fn coverage_of_half_the_road() {
        let policy = GeoPolicy::default();
        let walked: Vec<GeoPoint> = (0..=50).map(|i| east(i as f64 * 10.0)).collect();
        let c = coverage(&road(), &trace(&walked, 5), &policy);
        // Half the road plus the 25 m radius beyond the last point.
        assert!(
            (0.50..=0.55).contains(&c),
            "walked 500 m of 1 km, coverage {c}"
        );
        let full: Vec<GeoPoint> = (0..=100).map(|i| east(i as f64 * 10.0)).collect();
        assert!(
            coverage(&road(), &trace(&full, 5), &policy) > 0.99,
            "walked it all"
        );
        let mut poor = trace(&full, 5);
        for t in &mut poor {
            t.accuracy_m = 150.0;
        }
        assert_eq!(
            coverage(&road(), &poor, &policy),
            0.0,
            "poor fixes prove nothing"
        );
    }

    #[test]
    fn checkpoint_needs_dwell() {
        let policy = GeoPolicy::default();
        let pool = east(300.0);
        let passing: Vec<GeoPoint> = (0..=100).map(|i| east(i as f64 * 10.0)).collect();
        let (_, ok) = checkpoint_dwell(pool, &trace(&passing, 2), &policy);
        assert!(!ok, "walking past at 5 m/s is not servicing the pool");
        let mut stay = passing[..30].to_vec();
        stay.extend(std::iter::repeat_n(pool, 8));
        let (d, ok) = checkpoint_dwell(pool, &trace(&stay, 5), &policy);
        assert!(ok, "stayed {d}");
    }

    proptest::proptest! {
        /// Hostile coordinates (NaN, infinities, out of range, huge zones) never panic and
        /// coverage stays a share.
        #[test]
        fn geo_functions_never_panic(
            zone in proptest::collection::vec((proptest::num::f64::ANY, proptest::num::f64::ANY), 0..6),
            trace in proptest::collection::vec((proptest::num::f64::ANY, proptest::num::f64::ANY, proptest::num::f64::ANY), 0..6),
            polygon: bool,
        ) {
            let pts: Vec<GeoPoint> = zone.iter().map(|(a, b)| GeoPoint::new(*a, *b)).collect();
            let zone = if polygon { ZoneGeometry::Polygon(pts) } else { ZoneGeometry::Line(pts) };
            let t0 = chrono::DateTime::<Utc>::from_timestamp(1_790_000_000, 0).expect("valid");
            let trace: Vec<TracePoint> = trace.iter().map(|(a, b, acc)| TracePoint { point: GeoPoint::new(*a, *b), accuracy_m: *acc, at: t0 }).collect();
            let policy = GeoPolicy::default();
            let c = coverage(&zone, &trace, &policy);
            proptest::prop_assert!((0.0..=1.0).contains(&c));
            let p = trace.first().map_or(GeoPoint::new(f64::NAN, 0.0), |t| t.point);
            let _ = in_zone(p, &zone, 50.0);
            let _ = checkpoint_dwell(p, &trace, &policy);
        }

        /// A real village-sized zone walked by a random trace: coverage is a share.
        #[test]
        fn coverage_is_a_share(offsets in proptest::collection::vec((0.0f64..1000.0, -60.0f64..60.0), 1..40)) {
            let trace: Vec<GeoPoint> = offsets.iter().map(|(e, n)| north_of(east(*e), *n)).collect();
            let c = coverage(&road(), &super::tests::trace(&trace, 5), &GeoPolicy::default());
            proptest::prop_assert!((0.0..=1.0).contains(&c));
        }
    }

    #[test]
    fn fix_assessment() {
        let policy = GeoPolicy::default();
        let fix = |lat, lon, acc, mock| GeoFix {
            point: GeoPoint::new(lat, lon),
            accuracy_m: acc,
            fix_time: None,
            mock,
        };
        assert_eq!(
            assess_fix(&fix(27.6, 113.85, 8.0, false), &policy),
            Ok(()),
            "good fix"
        );
        assert_eq!(
            assess_fix(&fix(0.0, 0.0, 0.0, false), &policy),
            Err(vec![FixProblem::NoFix]),
            "desktop stub"
        );
        assert_eq!(
            assess_fix(&fix(27.6, 113.85, 80.0, false), &policy),
            Err(vec![FixProblem::PoorAccuracy]),
            "poor"
        );
        assert_eq!(
            assess_fix(&fix(f64::NAN, 113.85, 8.0, true), &policy),
            Err(vec![FixProblem::OutOfRange, FixProblem::Mock]),
            "NaN and mock"
        );
        assert_eq!(
            assess_fix(&fix(95.0, 113.85, 8.0, false), &policy),
            Err(vec![FixProblem::OutOfRange]),
            "lat 95"
        );
    }
}
