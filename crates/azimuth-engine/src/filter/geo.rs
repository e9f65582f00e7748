//! Geo predicates on `{"lat": f, "lon": f}` payload values: haversine radius, bounding box
//! (antimeridian-aware) and polygon with holes.

use serde_json::Value;

use super::model::{GeoBoundingBox, GeoPoint, GeoPolygon, GeoRadius};

/// Mean Earth radius in meters (IUGG), as Qdrant uses.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A payload value as a geo point: an object whose `lat` and `lon` are finite numbers (other
/// fields are ignored). Booleans and strings are not numbers.
pub fn as_geo_point(value: &Value) -> Option<GeoPoint> {
    let obj = value.as_object()?;
    let lat = obj.get("lat")?.as_f64().filter(|x| x.is_finite())?;
    let lon = obj.get("lon")?.as_f64().filter(|x| x.is_finite())?;
    Some(GeoPoint { lat, lon })
}

/// Great-circle distance in meters.
pub fn haversine_m(a: GeoPoint, b: GeoPoint) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlon = b.lon.to_radians() - a.lon.to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    EARTH_RADIUS_M * (2.0 * h.sqrt().min(1.0).asin())
}

impl GeoRadius {
    /// Strictly closer than the radius.
    pub fn contains(&self, p: GeoPoint) -> bool {
        haversine_m(p, self.center) < self.radius
    }
}

impl GeoBoundingBox {
    /// Strictly inside; a box whose left edge is east of its right edge wraps the antimeridian.
    pub fn contains(&self, p: GeoPoint) -> bool {
        let (left, right) = (self.top_left.lon, self.bottom_right.lon);
        let lon_ok = if left > right {
            p.lon > left || p.lon < right
        } else {
            left < p.lon && p.lon < right
        };
        lon_ok && self.top_left.lat > p.lat && p.lat > self.bottom_right.lat
    }
}

impl GeoPolygon {
    /// Inside the exterior ring (its boundary excluded) and not inside or on any hole.
    pub fn contains(&self, p: GeoPoint) -> bool {
        in_ring(p, &self.exterior, false)
            && !self.interiors.iter().any(|hole| in_ring(p, hole, true))
    }
}

/// Even-odd ring test in (lat, lon) coordinates; `boundary` is the answer for points that lie
/// exactly on an edge. A closing point equal to the first is ignored.
fn in_ring(p: GeoPoint, ring: &[GeoPoint], boundary: bool) -> bool {
    let ring = match ring {
        [first, .., last] if first == last => &ring[..ring.len() - 1],
        _ => ring,
    };
    let (x, y) = (p.lat, p.lon);
    let mut inside = false;
    let mut j = ring.len().wrapping_sub(1);
    for (i, a) in ring.iter().enumerate() {
        let b = ring[j];
        let (xi, yi, xj, yj) = (a.lat, a.lon, b.lat, b.lon);
        let collinear = y * (xi - xj) + yi * (xj - x) + yj * (x - xi) == 0.0;
        if collinear && (xi - x) * (xj - x) <= 0.0 && (yi - y) * (yj - y) <= 0.0 {
            return boundary;
        }
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pt(lon: f64, lat: f64) -> GeoPoint {
        GeoPoint { lon, lat }
    }

    #[test]
    fn geo_point_values() {
        assert_eq!(
            as_geo_point(&json!({"lon": 1, "lat": 2.5, "x": 0})),
            Some(pt(1.0, 2.5))
        );
        assert_eq!(as_geo_point(&json!({"lon": "1", "lat": 2})), None);
        assert_eq!(as_geo_point(&json!({"lon": true, "lat": 2})), None);
        assert_eq!(as_geo_point(&json!({"lat": 2})), None);
        assert_eq!(as_geo_point(&json!([1, 2])), None);
    }

    #[test]
    fn haversine_known_distances() {
        let moscow = pt(37.6173, 55.7558);
        let london = pt(-0.1278, 51.5074);
        let berlin = pt(13.4050, 52.5200);
        assert!(haversine_m(moscow, moscow) < 1.0);
        let ml = haversine_m(moscow, london);
        assert!((2_400_000.0..2_600_000.0).contains(&ml), "{ml}");
        let mb = haversine_m(moscow, berlin);
        assert!((1_600_000.0..1_650_000.0).contains(&mb), "{mb}");
        let r = GeoRadius {
            center: berlin,
            radius: 1_000.0,
        };
        assert!(r.contains(pt(13.41, 52.52)));
        assert!(!r.contains(pt(13.5, 52.52)));
        assert!(!GeoRadius {
            center: berlin,
            radius: 0.0
        }
        .contains(berlin));
    }

    #[test]
    fn bounding_box_strict_and_antimeridian() {
        let b = GeoBoundingBox {
            top_left: pt(13.0, 53.0),
            bottom_right: pt(14.0, 52.0),
        };
        assert!(b.contains(pt(13.5, 52.5)));
        assert!(!b.contains(pt(13.0, 52.5)));
        assert!(!b.contains(pt(13.5, 53.0)));
        let wrap = GeoBoundingBox {
            top_left: pt(170.0, 10.0),
            bottom_right: pt(-170.0, -10.0),
        };
        assert!(wrap.contains(pt(175.0, 0.0)));
        assert!(wrap.contains(pt(-175.0, 0.0)));
        assert!(!wrap.contains(pt(0.0, 0.0)));
    }

    #[test]
    fn polygon_with_hole() {
        let ring = |c: &[(f64, f64)]| c.iter().map(|&(lon, lat)| pt(lon, lat)).collect::<Vec<_>>();
        let poly = GeoPolygon {
            exterior: ring(&[
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 10.0),
                (0.0, 10.0),
                (0.0, 0.0),
            ]),
            interiors: vec![ring(&[
                (4.0, 4.0),
                (6.0, 4.0),
                (6.0, 6.0),
                (4.0, 6.0),
                (4.0, 4.0),
            ])],
        };
        assert!(poly.contains(pt(1.0, 1.0)));
        assert!(!poly.contains(pt(5.0, 5.0)));
        assert!(!poly.contains(pt(4.0, 5.0)), "hole boundary counts as hole");
        assert!(!poly.contains(pt(0.0, 5.0)), "exterior boundary is outside");
        assert!(!poly.contains(pt(11.0, 5.0)));
        assert!(!poly.contains(pt(10.0, 10.0)));
    }
}
