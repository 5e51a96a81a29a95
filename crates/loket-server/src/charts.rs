//! Server-rendered SVG charts. Each chart is an image with a `<title>` and a `<desc>` (named
//! by `aria-labelledby`), and the page always shows the same numbers as a table next to it:
//! the table is the accessible alternative and holds the drill-down links. Bars carry a
//! `data-href` that `app.js` follows on click, so the image itself has nothing focusable.

use std::fmt::Write;

/// Fill colours of the series, each at least 3:1 against white (WCAG 1.4.11).
pub const SERIES_COLOURS: [&str; 4] = ["#154273", "#a84700", "#2e7d32", "#6b3fa0"];

/// One bar (or group of bars, one per series) of a chart.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub values: Vec<f64>,
    /// Where a click on the bar leads (the conversations behind it).
    pub href: Option<String>,
}

/// A chart's content and its words.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Unique on the page: used for the ids of title and description.
    pub id: String,
    pub title: String,
    pub desc: String,
    pub series: Vec<String>,
    pub bars: Vec<Bar>,
    /// Stacked instead of side by side (shares that add up).
    pub stacked: bool,
    /// Fill colours per series instead of [`SERIES_COLOURS`] (e.g. red for negative).
    pub colours: Option<Vec<&'static str>>,
}

impl Chart {
    fn colour(&self, series: usize) -> &'static str {
        match &self.colours {
            Some(c) if !c.is_empty() => c[series % c.len()],
            _ => SERIES_COLOURS[series % SERIES_COLOURS.len()],
        }
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// Escapes text for XML/HTML content and attributes.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A round upper bound for the value axis: 1, 2, 2.5 or 5 times a power of ten. A maximum a
/// rounding error above a round value (shares that add up to 100.00000000000001 %) keeps
/// that value, not the next one.
pub fn nice_max(max: f64) -> f64 {
    if max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let max = max * (1.0 - 1e-9);
    let mag = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|v| *v >= max)
        .unwrap_or(10.0 * mag)
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}").replace('.', ",")
    }
}

fn head(out: &mut String, c: &Chart, w: u32, h: u32) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{t}</title><desc id="{id}-d">{d}</desc>"#,
        id = esc(&c.id),
        t = esc(&c.title),
        d = esc(&c.desc)
    );
}

fn legend(out: &mut String, c: &Chart, y: u32) {
    if c.series.len() < 2 {
        return;
    }
    let mut x = 48;
    for (i, s) in c.series.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect x="{x}" y="{y}" width="12" height="12" fill="{}"/><text x="{}" y="{}" class="lg">{}</text>"#,
            c.colour(i),
            x + 16,
            y + 11,
            esc(s)
        );
        x += 24 + 8 * s.chars().count() as u32;
    }
}

/// A bar's rectangle `(x, y, width, height)`.
type Rect = (f64, f64, f64, f64);

fn bar_rect(out: &mut String, (x, y, w, h): Rect, fill: &str, href: Option<&str>, tip: &str) {
    let link = href
        .map(|h| format!(r#" data-href="{}" class="bar link""#, esc(h)))
        .unwrap_or_else(|| r#" class="bar""#.into());
    let _ = write!(
        out,
        r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}"{link}><title>{}</title></rect>"#,
        esc(tip)
    );
}

/// Vertical bars over time (or any ordered labels), grouped or stacked per series, for the
/// full width of the page.
pub fn columns(c: &Chart) -> String {
    columns_sized(c, 800)
}

/// [`columns`] drawn `w` units wide: 560 for half the page, so the text keeps its size.
pub fn columns_sized(c: &Chart, w: u32) -> String {
    let h = 280u32;
    let (left, right, top, bottom) = (48.0, 8.0, 28.0, 40.0);
    let plot_w = f64::from(w) - left - right;
    let plot_h = f64::from(h) - top - bottom;
    let max = c
        .bars
        .iter()
        .map(|b| {
            if c.stacked {
                b.values.iter().sum()
            } else {
                b.values.iter().copied().fold(0.0, f64::max)
            }
        })
        .fold(0.0, f64::max);
    let top_v = nice_max(max);
    // Whole-number ticks where the maximum allows it (50 → 0, 10, …, 50 rather than 12,5).
    let ticks = if (top_v / 4.0).fract() == 0.0 || top_v < 4.0 {
        4
    } else {
        5
    };
    let mut out = String::new();
    head(&mut out, c, w, h);
    legend(&mut out, c, 4);
    for i in 0..=ticks {
        let v = top_v * f64::from(i) / f64::from(ticks);
        let y = top + plot_h - plot_h * f64::from(i) / f64::from(ticks);
        let _ = write!(
            out,
            r#"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" class="grid"/><text x="{}" y="{:.1}" class="ax" text-anchor="end">{}</text>"#,
            f64::from(w) - right,
            left - 6.0,
            y + 4.0,
            fmt_num(v)
        );
    }
    let n = c.bars.len().max(1) as f64;
    let slot = plot_w / n;
    let gap = (slot * 0.2).min(6.0);
    let label_every = c.bars.len().div_ceil(12).max(1);
    for (i, b) in c.bars.iter().enumerate() {
        let x0 = left + slot * i as f64 + gap / 2.0;
        let bw = slot - gap;
        let tip = |s: usize, v: f64| {
            if c.series.len() > 1 {
                format!("{}, {}: {}", b.label, c.series[s], fmt_num(v))
            } else {
                format!("{}: {}", b.label, fmt_num(v))
            }
        };
        if c.stacked {
            let mut acc = 0.0;
            for (s, v) in b.values.iter().enumerate() {
                let bh = plot_h * v / top_v;
                let y = top + plot_h - plot_h * (acc + v) / top_v;
                acc += v;
                let fill = c.colour(s);
                bar_rect(
                    &mut out,
                    (x0, y, bw, bh),
                    fill,
                    b.href.as_deref(),
                    &tip(s, *v),
                );
            }
        } else {
            let k = b.values.len().max(1) as f64;
            for (s, v) in b.values.iter().enumerate() {
                let bh = plot_h * v / top_v;
                let fill = c.colour(s);
                let x = x0 + bw / k * s as f64;
                let y = top + plot_h - bh;
                bar_rect(
                    &mut out,
                    (x, y, bw / k, bh),
                    fill,
                    b.href.as_deref(),
                    &tip(s, *v),
                );
            }
        }
        if i % label_every == 0 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{}" class="ax" text-anchor="middle">{}</text>"#,
                x0 + bw / 2.0,
                h - 22,
                esc(&b.label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars for categories (channels, topics, municipalities), first series only
/// unless stacked.
pub fn rows(c: &Chart) -> String {
    // Drawn for half the page width (560 units), so labels stay readable when scaled.
    rows_sized(c, 560)
}

/// [`rows`] drawn `w` units wide: 800 across the whole page.
pub fn rows_sized(c: &Chart, w: u32) -> String {
    let row_h = 24.0;
    let (left, right, top) = (214.0, 48.0, if c.series.len() > 1 { 24.0 } else { 6.0 });
    let h = (top + row_h * c.bars.len().max(1) as f64 + 8.0) as u32;
    let plot_w = f64::from(w) - left - right;
    let total = |b: &Bar| -> f64 {
        if c.stacked {
            b.values.iter().sum()
        } else {
            b.values.first().copied().unwrap_or(0.0)
        }
    };
    let max = c.bars.iter().map(total).fold(0.0, f64::max);
    let top_v = if max > 0.0 { max } else { 1.0 };
    let mut out = String::new();
    head(&mut out, c, w, h);
    legend(&mut out, c, 4);
    for (i, b) in c.bars.iter().enumerate() {
        let y = top + row_h * i as f64;
        let label = short(&b.label, 28);
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" class="ax" text-anchor="end">{}</text>"#,
            left - 8.0,
            y + 16.0,
            esc(&label)
        );
        let mut x = left;
        let parts: Vec<f64> = if c.stacked {
            b.values.clone()
        } else {
            b.values.first().copied().into_iter().collect()
        };
        for (s, v) in parts.iter().enumerate() {
            let bw = plot_w * v / top_v;
            let tip = if c.series.len() > 1 {
                format!("{}, {}: {}", b.label, c.series[s], fmt_num(*v))
            } else {
                format!("{}: {}", b.label, fmt_num(*v))
            };
            let fill = c.colour(s);
            bar_rect(
                &mut out,
                (x, y + 4.0, bw, row_h - 8.0),
                fill,
                b.href.as_deref(),
                &tip,
            );
            x += bw;
        }
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{:.1}" class="ax">{}</text>"#,
            x + 6.0,
            y + 16.0,
            fmt_num(total(b))
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart() -> Chart {
        Chart {
            id: "c1".into(),
            title: "Berichten <per> dag".into(),
            desc: "In & uit".into(),
            series: vec!["In".into(), "Uit".into()],
            bars: vec![
                Bar {
                    label: "1 nov".into(),
                    values: vec![10.0, 4.0],
                    href: Some("/x?a=1&b=2".into()),
                },
                Bar {
                    label: "2 nov".into(),
                    values: vec![0.0, 0.0],
                    href: None,
                },
            ],
            stacked: false,
            colours: None,
        }
    }

    #[test]
    fn svg_has_title_desc_and_escapes_text() {
        let svg = columns(&chart());
        assert!(svg.contains(r#"aria-labelledby="c1-t c1-d""#));
        assert!(svg.contains("<title id=\"c1-t\">Berichten &lt;per&gt; dag</title>"));
        assert!(svg.contains("<desc id=\"c1-d\">In &amp; uit</desc>"));
        assert!(svg.contains(r#"data-href="/x?a=1&amp;b=2""#));
        assert!(!svg.contains("<a "), "nothing focusable inside the image");
        let h = rows(&chart());
        assert!(h.contains("1 nov: 10") || h.contains("1 nov, In: 10"));
    }

    #[test]
    fn axis_maximum_is_round() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 10.0);
        assert_eq!(nice_max(180.0), 200.0);
        assert_eq!(nice_max(2100.0), 2500.0);
        assert_eq!(nice_max(5.0), 5.0);
        assert_eq!(nice_max(100.0), 100.0);
        // Percentages that add up to a hair over 100 (floating point) stay on a 100 axis.
        let shares: f64 = [100.0 / 3.0, 100.0 / 3.0, 100.0 / 3.0, 1e-13].iter().sum();
        assert!(shares > 100.0);
        assert_eq!(nice_max(shares), 100.0);
        assert_eq!(nice_max(100.5), 200.0);
    }
}
