//! A small PNG line plotter for benchmark curves: axes with ticks, one polyline with markers
//! per series, a legend. Text uses a built-in 5×7 pixel font, so no font files are needed.

use std::path::Path;

use anyhow::{Context, Result};

pub struct Series {
    pub label: String,
    /// (x, y) points, drawn in the given order.
    pub points: Vec<(f64, f64)>,
}

pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Plot y on a log10 scale.
    pub log_y: bool,
    pub series: Vec<Series>,
}

const W: usize = 900;
const H: usize = 600;
const LEFT: usize = 90;
const RIGHT: usize = 200;
const TOP: usize = 50;
const BOTTOM: usize = 70;
const COLORS: [[u8; 3]; 6] = [
    [31, 119, 180],
    [214, 39, 40],
    [44, 160, 44],
    [255, 127, 14],
    [148, 103, 189],
    [23, 190, 207],
];

struct Canvas {
    px: Vec<u8>,
}

impl Canvas {
    fn set(&mut self, x: i64, y: i64, c: [u8; 3]) {
        if x >= 0 && y >= 0 && (x as usize) < W && (y as usize) < H {
            let i = (y as usize * W + x as usize) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: [u8; 3], thick: i64) {
        let steps = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
        for s in 0..=steps {
            let x = x0 + (x1 - x0) * s / steps;
            let y = y0 + (y1 - y0) * s / steps;
            for d in 0..thick {
                self.set(x, y + d, c);
                self.set(x + d, y, c);
            }
        }
    }

    fn square(&mut self, (x, y): (i64, i64), r: i64, c: [u8; 3]) {
        for dy in -r..=r {
            for dx in -r..=r {
                self.set(x + dx, y + dy, c);
            }
        }
    }

    fn text(&mut self, x: i64, y: i64, s: &str, c: [u8; 3]) {
        for (i, ch) in s.chars().enumerate() {
            let rows = glyph(ch);
            for (ry, bits) in rows.iter().enumerate() {
                for rx in 0..5 {
                    if bits & (1 << (4 - rx)) != 0 {
                        // 2× scale for legibility.
                        for (ox, oy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                            self.set(x + i as i64 * 12 + rx * 2 + ox, y + ry as i64 * 2 + oy, c);
                        }
                    }
                }
            }
        }
    }
}

/// 5×7 glyphs for the characters benchmark labels use; others draw as a box.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_lowercase() {
        '0' => [14, 17, 19, 21, 25, 17, 14],
        '1' => [4, 12, 4, 4, 4, 4, 14],
        '2' => [14, 17, 1, 2, 4, 8, 31],
        '3' => [30, 1, 1, 14, 1, 1, 30],
        '4' => [2, 6, 10, 18, 31, 2, 2],
        '5' => [31, 16, 30, 1, 1, 17, 14],
        '6' => [6, 8, 16, 30, 17, 17, 14],
        '7' => [31, 1, 2, 4, 8, 8, 8],
        '8' => [14, 17, 17, 14, 17, 17, 14],
        '9' => [14, 17, 17, 15, 1, 2, 12],
        '.' => [0, 0, 0, 0, 0, 12, 12],
        '-' => [0, 0, 0, 31, 0, 0, 0],
        '=' => [0, 0, 31, 0, 31, 0, 0],
        '@' => [14, 17, 23, 21, 23, 16, 14],
        '(' => [2, 4, 8, 8, 8, 4, 2],
        ')' => [8, 4, 2, 2, 2, 4, 8],
        ',' => [0, 0, 0, 0, 12, 4, 8],
        '/' => [1, 1, 2, 4, 8, 16, 16],
        ':' => [0, 12, 12, 0, 12, 12, 0],
        '_' => [0, 0, 0, 0, 0, 0, 31],
        ' ' => [0; 7],
        'a' => [0, 0, 14, 1, 15, 17, 15],
        'b' => [16, 16, 22, 25, 17, 17, 30],
        'c' => [0, 0, 14, 16, 16, 17, 14],
        'd' => [1, 1, 13, 19, 17, 17, 15],
        'e' => [0, 0, 14, 17, 31, 16, 14],
        'f' => [6, 9, 8, 28, 8, 8, 8],
        'g' => [0, 15, 17, 17, 15, 1, 14],
        'h' => [16, 16, 22, 25, 17, 17, 17],
        'i' => [4, 0, 12, 4, 4, 4, 14],
        'j' => [2, 0, 6, 2, 2, 18, 12],
        'k' => [16, 16, 18, 20, 24, 20, 18],
        'l' => [12, 4, 4, 4, 4, 4, 14],
        'm' => [0, 0, 26, 21, 21, 17, 17],
        'n' => [0, 0, 22, 25, 17, 17, 17],
        'o' => [0, 0, 14, 17, 17, 17, 14],
        'p' => [0, 0, 30, 17, 30, 16, 16],
        'q' => [0, 0, 13, 19, 15, 1, 1],
        'r' => [0, 0, 22, 25, 16, 16, 16],
        's' => [0, 0, 14, 16, 14, 1, 30],
        't' => [8, 8, 28, 8, 8, 9, 6],
        'u' => [0, 0, 17, 17, 17, 19, 13],
        'v' => [0, 0, 17, 17, 17, 10, 4],
        'w' => [0, 0, 17, 17, 21, 21, 10],
        'x' => [0, 0, 17, 10, 4, 10, 17],
        'y' => [0, 0, 17, 17, 15, 1, 14],
        'z' => [0, 0, 31, 2, 4, 8, 31],
        _ => [31, 17, 17, 17, 17, 17, 31],
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if (hi - lo).abs() < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

fn fmt_tick(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{:.0}", v)
    } else if v.abs() >= 10.0 {
        format!("{:.1}", v)
    } else {
        format!("{:.3}", v)
    }
}

/// Renders the chart to a PNG file.
pub fn write_png(chart: &Chart, path: &Path) -> Result<()> {
    let ty = |y: f64| if chart.log_y { y.max(1e-9).log10() } else { y };
    let all = || chart.series.iter().flat_map(|s| s.points.iter());
    let (x0, x1) = bounds(all().map(|p| p.0));
    let (y0, y1) = bounds(all().map(|p| ty(p.1)));
    let (pw, ph) = ((W - LEFT - RIGHT) as f64, (H - TOP - BOTTOM) as f64);
    let to_px = |x: f64, y: f64| {
        let px = LEFT as f64 + (x - x0) / (x1 - x0) * pw;
        let py = TOP as f64 + ph - (ty(y) - y0) / (y1 - y0) * ph;
        (px.round() as i64, py.round() as i64)
    };
    let mut c = Canvas {
        px: vec![255; W * H * 3],
    };
    let black = [0, 0, 0];
    let grey = [225, 225, 225];
    for i in 0..=5 {
        let fx = x0 + (x1 - x0) * i as f64 / 5.0;
        let fy = y0 + (y1 - y0) * i as f64 / 5.0;
        let (gx, _) = to_px(fx, 0.0);
        let gy = (TOP as f64 + ph - ph * i as f64 / 5.0) as i64;
        c.line((gx, TOP as i64), (gx, (H - BOTTOM) as i64), grey, 1);
        c.line((LEFT as i64, gy), ((W - RIGHT) as i64, gy), grey, 1);
        c.text(gx - 20, (H - BOTTOM + 10) as i64, &fmt_tick(fx), black);
        let label = if chart.log_y {
            fmt_tick(10f64.powf(fy))
        } else {
            fmt_tick(fy)
        };
        c.text(4, gy - 7, &label, black);
    }
    c.line(
        (LEFT as i64, (H - BOTTOM) as i64),
        ((W - RIGHT) as i64, (H - BOTTOM) as i64),
        black,
        2,
    );
    c.line(
        (LEFT as i64, TOP as i64),
        (LEFT as i64, (H - BOTTOM) as i64),
        black,
        2,
    );
    c.text(LEFT as i64, 15, &chart.title, black);
    c.text((LEFT + 200) as i64, (H - 30) as i64, &chart.x_label, black);
    c.text(4, (TOP - 25) as i64, &chart.y_label, black);
    for (i, s) in chart.series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<(i64, i64)> = s.points.iter().map(|&(x, y)| to_px(x, y)).collect();
        for w in pts.windows(2) {
            c.line(w[0], w[1], color, 2);
        }
        pts.iter().for_each(|&p| c.square(p, 3, color));
        let ly = (TOP + 20 + i * 24) as i64;
        let lx = (W - RIGHT + 15) as i64;
        c.square((lx + 5, ly + 6), 5, color);
        c.text(lx + 18, ly, &s.label, black);
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), W as u32, H as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().context("writing PNG header")?;
    w.write_image_data(&c.px).context("writing PNG data")?;
    Ok(())
}
