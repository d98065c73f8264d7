//! The report's charts (SPEC §5.2), drawn with plotters' SVG backend into strings that the page
//! inlines: the cases by decision year, and the REOPEN and REVIEW counts over the ledger's runs.
//! The SVG carries no namespace URL (inline SVG in HTML needs none), so the page names no address.

use std::collections::BTreeMap;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::summary::ListCountsWithNotAffected;

pub const REOPEN_COLOR: RGBColor = RGBColor(0xc2, 0x41, 0x0c);
pub const REVIEW_COLOR: RGBColor = RGBColor(0xe0, 0x9b, 0x1a);
pub const NOT_AFFECTED_COLOR: RGBColor = RGBColor(0x8a, 0x9b, 0xa8);
const AXIS_COLOR: RGBColor = RGBColor(0x44, 0x4e, 0x57);
const GRID_COLOR: RGBColor = RGBColor(0xe3, 0xe7, 0xeb);
const FONT: &str = "sans-serif";

type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Grouped bars per decision year: REOPEN, REVIEW and NOT_AFFECTED. None without any year.
pub fn by_decision_year(years: &BTreeMap<i32, ListCountsWithNotAffected>) -> Option<String> {
    let (&first, &last) = (years.keys().next()?, years.keys().next_back()?);
    let mut svg = String::new();
    draw_years(&mut svg, years, first, last).ok()?;
    Some(inline(&svg, "Sager efter afgørelsesår"))
}

fn draw_years(
    svg: &mut String,
    years: &BTreeMap<i32, ListCountsWithNotAffected>,
    first: i32,
    last: i32,
) -> Drawn {
    let top = years
        .values()
        .flat_map(|y| [y.reopen, y.review, y.not_affected])
        .max()
        .unwrap_or(0)
        .max(1);
    let y_max = (top as f64 * 1.15).ceil();
    let root = SVGBackend::with_string(svg, (960, 340)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(f64::from(first) - 0.5..f64::from(last) + 0.5, 0f64..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID_COLOR)
        .axis_style(AXIS_COLOR)
        .x_labels((last - first + 1) as usize)
        .y_labels(6)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 18).into_font().color(&AXIS_COLOR))
        .axis_desc_style((FONT, 18).into_font().color(&AXIS_COLOR))
        .x_desc("Afgørelsesår (decision_date)")
        .y_desc("Sager")
        .draw()?;
    let series = [
        (REOPEN_COLOR, 0usize),
        (REVIEW_COLOR, 1),
        (NOT_AFFECTED_COLOR, 2),
    ];
    let width = 0.26;
    for (color, i) in series {
        let bars = years.iter().map(|(&year, counts)| {
            let value = [counts.reopen, counts.review, counts.not_affected][i] as f64;
            let left = f64::from(year) - 1.5 * width + i as f64 * width;
            Rectangle::new(
                [(left + 0.01, 0.0), (left + width - 0.01, value)],
                color.filled(),
            )
        });
        chart.draw_series(bars)?;
        let labels = years.iter().filter_map(|(&year, counts)| {
            let value = [counts.reopen, counts.review, counts.not_affected][i];
            (value > 0).then(|| {
                let centre = f64::from(year) - width + i as f64 * width;
                EmptyElement::at((centre, value as f64))
                    + Text::new(value.to_string(), (0, -3), label_style())
            })
        });
        chart.draw_series(labels)?;
    }
    root.present()?;
    Ok(())
}

/// The style of a value written above its bar or point.
fn label_style() -> TextStyle<'static> {
    (FONT, 16)
        .into_font()
        .color(&AXIS_COLOR)
        .pos(Pos::new(HPos::Center, VPos::Bottom))
}

/// One point of the trend: a run's number and its REOPEN and REVIEW counts.
pub struct RunCounts {
    pub run: i64,
    pub reopen: u64,
    pub review: u64,
}

/// Lines of REOPEN and REVIEW over the runs. None with fewer than two runs.
pub fn over_runs(runs: &[RunCounts]) -> Option<String> {
    if runs.len() < 2 {
        return None;
    }
    let mut svg = String::new();
    draw_runs(&mut svg, runs).ok()?;
    Some(inline(&svg, "REOPEN og REVIEW over kørslerne"))
}

fn draw_runs(svg: &mut String, runs: &[RunCounts]) -> Drawn {
    let first = runs.first().map_or(0, |r| r.run);
    let last = runs.last().map_or(1, |r| r.run);
    let top = runs
        .iter()
        .flat_map(|r| [r.reopen, r.review])
        .max()
        .unwrap_or(0)
        .max(1);
    let y_max = (top as f64 * 1.2).ceil();
    let root = SVGBackend::with_string(svg, (960, 300)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .margin_right(24)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(first as f64 - 0.3..last as f64 + 0.3, 0f64..y_max)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID_COLOR)
        .axis_style(AXIS_COLOR)
        .x_labels(((last - first + 1) as usize).min(12))
        .y_labels(5)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .label_style((FONT, 18).into_font().color(&AXIS_COLOR))
        .axis_desc_style((FONT, 18).into_font().color(&AXIS_COLOR))
        .x_desc("Kørsel nr. (run)")
        .y_desc("Sager")
        .draw()?;
    for (color, pick) in [
        (
            REOPEN_COLOR,
            (|r: &RunCounts| r.reopen) as fn(&RunCounts) -> u64,
        ),
        (REVIEW_COLOR, |r: &RunCounts| r.review),
    ] {
        let points: Vec<(f64, f64)> = runs
            .iter()
            .map(|r| (r.run as f64, pick(r) as f64))
            .collect();
        chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(3)))?;
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 5, color.filled())))?;
        chart.draw_series(points.iter().map(|&(x, y)| {
            EmptyElement::at((x, y)) + Text::new(format!("{y:.0}"), (0, -9), label_style())
        }))?;
    }
    root.present()?;
    Ok(())
}

/// Makes plotters' SVG document an inline element: no namespace URL, fixed size replaced by a
/// view box that scales with the page, and a label for screen readers.
fn inline(svg: &str, label: &str) -> String {
    let Some(start) = svg.find("<svg") else {
        return String::new();
    };
    let svg = &svg[start..];
    let Some(end) = svg.find('>') else {
        return String::new();
    };
    let open = &svg[..end];
    let view_box = open
        .split("viewBox=\"")
        .nth(1)
        .and_then(|v| v.split('"').next())
        .unwrap_or("0 0 960 340");
    format!(
        "<svg viewBox=\"{view_box}\" role=\"img\" aria-label=\"{label}\" class=\"chart\">{}",
        &svg[end + 1..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_chart_is_inline_svg_without_any_address() {
        let years = BTreeMap::from([
            (
                2019,
                ListCountsWithNotAffected {
                    reopen: 3,
                    review: 1,
                    not_affected: 7,
                },
            ),
            (2021, ListCountsWithNotAffected::default()),
        ]);
        let svg = by_decision_year(&years).unwrap();
        assert!(svg.starts_with("<svg viewBox=\"0 0 960 340\""), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("http"));
        for label in ["2019", "2020", "2021", "\n7\n"] {
            assert!(svg.contains(label), "{label} missing");
        }
    }

    #[test]
    fn no_year_no_chart_and_one_run_no_trend() {
        assert!(by_decision_year(&BTreeMap::new()).is_none());
        assert!(
            over_runs(&[RunCounts {
                run: 1,
                reopen: 1,
                review: 1
            }])
            .is_none()
        );
    }
}
