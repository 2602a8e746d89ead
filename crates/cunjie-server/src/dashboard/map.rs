//! Drawing WGS-84 places as inline SVG: an equirectangular projection fitted to the township's
//! bounding box (no tile server), and the GCJ-02 offset for display over Chinese basemaps.

use std::f64::consts::PI;

use cunjie_domain::place::GeoPoint;

/// WGS-84 → GCJ-02 (国测局 "Mars" coordinates), the standard public algorithm (Krasovsky
/// ellipsoid, a = 6378245 m, e² = 0.00669342162296594323). Outside mainland China the point is
/// returned unchanged. Used only to *display* places over a basemap drawn in GCJ-02; stored and
/// exported coordinates stay WGS-84.
pub(crate) fn wgs84_to_gcj02(p: GeoPoint) -> GeoPoint {
    const A: f64 = 6_378_245.0;
    const EE: f64 = 0.006_693_421_622_965_943;
    if !(72.004..=137.8347).contains(&p.lon) || !(0.8293..=55.8271).contains(&p.lat) {
        return p;
    }
    let (x, y) = (p.lon - 105.0, p.lat - 35.0);
    let mut d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    d_lat += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    d_lat += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    d_lat += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    let mut d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    d_lon += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    d_lon += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    d_lon += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    let rad_lat = p.lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    d_lon = (d_lon * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    GeoPoint::new(p.lat + d_lat, p.lon + d_lon)
}

/// An equirectangular projection of a bounding box onto an SVG canvas, north up, with
/// longitude scaled by cos(latitude) at the box's centre so distances look right.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Projection {
    max_lat: f64,
    min_lon: f64,
    scale: f64,
    k: f64,
    pad: f64,
    pub(crate) width: f64,
    pub(crate) height: f64,
    gcj: bool,
}

impl Projection {
    /// Fits `points` into a canvas `width` wide (the height follows the box's shape).
    /// `gcj`: shift every point to GCJ-02 before projecting.
    pub(crate) fn fit(points: &[GeoPoint], width: f64, gcj: bool) -> Self {
        let pts: Vec<GeoPoint> = points
            .iter()
            .filter(|p| p.is_valid())
            .map(|p| if gcj { wgs84_to_gcj02(*p) } else { *p })
            .collect();
        let (mut min_lat, mut max_lat, mut min_lon, mut max_lon) = (90.0, -90.0, 180.0, -180.0);
        for p in &pts {
            min_lat = f64::min(min_lat, p.lat);
            max_lat = f64::max(max_lat, p.lat);
            min_lon = f64::min(min_lon, p.lon);
            max_lon = f64::max(max_lon, p.lon);
        }
        if pts.is_empty() {
            (min_lat, max_lat, min_lon, max_lon) = (0.0, 0.01, 0.0, 0.01);
        }
        // Never a zero-sized box (one point, or points on a line).
        let span_lat = f64::max(max_lat - min_lat, 0.001);
        let mid = f64::midpoint(min_lat, max_lat);
        let k = (mid / 180.0 * PI).cos().max(0.01);
        let span_x = f64::max((max_lon - min_lon) * k, 0.001);
        let pad = 20.0;
        let scale = (width - 2.0 * pad) / span_x;
        let height = (span_lat * scale + 2.0 * pad).clamp(200.0, 2.0 * width);
        Self {
            max_lat: min_lat + span_lat,
            min_lon,
            scale,
            k,
            pad,
            width,
            height,
            gcj,
        }
    }

    /// Canvas coordinates of a point, rounded to 0.1 px.
    pub(crate) fn xy(&self, p: GeoPoint) -> (f64, f64) {
        let p = if self.gcj { wgs84_to_gcj02(p) } else { p };
        let x = self.pad + (p.lon - self.min_lon) * self.k * self.scale;
        let y = self.pad + (self.max_lat - p.lat) * self.scale;
        ((x * 10.0).round() / 10.0, (y * 10.0).round() / 10.0)
    }

    /// An SVG `points` attribute for a path.
    pub(crate) fn points(&self, pts: &[GeoPoint]) -> String {
        pts.iter()
            .map(|p| {
                let (x, y) = self.xy(*p);
                format!("{x},{y}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcj02_matches_the_public_reference_vector() {
        // The reference pair used across the public implementations (coordtransform,
        // eviltransform, Hutool): WGS-84 39.915, 116.404 in Beijing.
        let g = wgs84_to_gcj02(GeoPoint::new(39.915, 116.404));
        assert!(
            (g.lat - 39.916_404_281_501_64).abs() < 1e-9,
            "latitude {}",
            g.lat
        );
        assert!(
            (g.lon - 116.410_244_499_169_38).abs() < 1e-9,
            "longitude {}",
            g.lon
        );
        let london = GeoPoint::new(51.5, -0.12);
        assert_eq!(wgs84_to_gcj02(london), london, "outside China: unchanged");
        let tongmu = GeoPoint::new(27.7412, 113.8265);
        let shifted = wgs84_to_gcj02(tongmu);
        let metres = cunjie_domain::geo::distance_m(tongmu, shifted);
        assert!(
            (100.0..900.0).contains(&metres),
            "the offset in Jiangxi is a few hundred metres: {metres}"
        );
    }

    #[test]
    fn the_projection_fits_the_box_north_up() {
        let pts = [GeoPoint::new(27.70, 113.80), GeoPoint::new(27.78, 113.86)];
        let p = Projection::fit(&pts, 1000.0, false);
        let (x0, y0) = p.xy(pts[0]);
        let (x1, y1) = p.xy(pts[1]);
        assert!(
            (x0 - 20.0).abs() < 0.2 && (x1 - 980.0).abs() < 0.2,
            "west and east edges: {x0} {x1}"
        );
        assert!(y1 < y0, "north is up");
        assert!(
            p.height > 200.0 && p.height <= 2000.0,
            "height follows the box"
        );
        let one = Projection::fit(&pts[..1], 1000.0, false);
        let (x, y) = one.xy(pts[0]);
        assert!(x.is_finite() && y.is_finite(), "and projects");
    }
}
