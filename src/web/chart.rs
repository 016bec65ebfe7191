//! A server-rendered line chart (SVG coordinates) of one measure of a room's readings, with
//! the target band and the readings outside it marked.

/// One plotted point.
pub struct Point {
    pub x: f64,
    pub y: f64,
    /// Outside the target band.
    pub alert: bool,
    /// e.g. `28.0`.
    pub label: String,
}

/// A chart ready for the template: coordinates in a `WIDTH` × `HEIGHT` box.
pub struct Chart {
    /// Top and height of the target band.
    pub band_top: f64,
    pub band_height: f64,
    /// The line through the points (`x,y x,y …`).
    pub line: String,
    pub points: Vec<Point>,
    /// Axis labels: the top and bottom values.
    pub top_label: String,
    pub bottom_label: String,
}

pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 200.0;
const PAD: f64 = 12.0;

/// Plots `values` (seconds since the period began, value) over a period of `span` seconds
/// against the band `low..=high`.
pub fn chart(values: &[(f64, f64)], span: f64, low: f64, high: f64) -> Chart {
    let data_min = values.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
    let data_max = values
        .iter()
        .map(|(_, v)| *v)
        .fold(f64::NEG_INFINITY, f64::max);
    let margin = ((high - low) * 0.25).max(1.0);
    let bottom = data_min.min(low - margin);
    let top = data_max.max(high + margin);
    let range = (top - bottom).max(f64::EPSILON);
    let y = |value: f64| PAD + (top - value) / range * (HEIGHT - 2.0 * PAD);
    let x = |at: f64| PAD + at.clamp(0.0, span) / span.max(1.0) * (WIDTH - 2.0 * PAD);
    let points: Vec<Point> = values
        .iter()
        .map(|(at, value)| Point {
            x: round(x(*at)),
            y: round(y(*value)),
            alert: *value < low || *value > high,
            label: format!("{value:.1}"),
        })
        .collect();
    let line = points
        .iter()
        .map(|point| format!("{},{}", point.x, point.y))
        .collect::<Vec<_>>()
        .join(" ");
    Chart {
        band_top: round(y(high)),
        band_height: round(y(low) - y(high)),
        line,
        points,
        top_label: format!("{top:.0}"),
        bottom_label: format!("{bottom:.0}"),
    }
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reading_above_the_band_is_marked_and_drawn_above_it() {
        let chart = chart(
            &[(0.0, 20.0), (3600.0, 28.0), (7200.0, 19.0)],
            7200.0,
            14.0,
            24.0,
        );
        let alerts: Vec<bool> = chart.points.iter().map(|point| point.alert).collect();
        assert_eq!(alerts, [false, true, false]);
        let hot = &chart.points[1];
        assert!(hot.y < chart.band_top, "28 ℃ is drawn above the band's top");
        assert!(chart.points[0].y > chart.band_top);
        assert_eq!(chart.points[2].x, WIDTH - PAD);
        assert_eq!(chart.line.split(' ').count(), 3);
    }
}
