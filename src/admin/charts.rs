//! Bar charts for the reports, drawn on the server as SVG (`templates/admin/chart.html`): one
//! bar (or one group, or one stack) per day, a scale rounded to 1, 2 or 5 times a power of ten,
//! and each bar's figure in its tooltip. Colours come from the stylesheet, by series.

use chrono::NaiveDate;

/// Drawing size (the SVG scales to its box).
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 180.0;
/// Room for the scale on the left and the days below (`templates/admin/chart.html` draws the
/// axis and labels on these lines).
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 8.0;
/// The widest a day's bars get, however few days there are.
const WIDEST: f64 = 48.0;

/// One series of figures, a value per day.
pub struct Series {
    pub name: &'static str,
    /// The stylesheet's class for its colour.
    pub class: &'static str,
    pub values: Vec<i64>,
}

/// How a chart puts its series together.
#[derive(Clone, Copy)]
pub enum Layout {
    /// On top of each other (parts of a whole).
    Stacked,
    /// Side by side (figures to compare).
    Grouped,
}

/// What the values are, for the scale's steps and the words.
#[derive(Clone, Copy)]
pub enum Unit {
    Count,
    Seconds,
}

impl Unit {
    fn words(self, value: i64) -> String {
        match self {
            Self::Count => value.to_string(),
            Self::Seconds => super::reports::duration_words(chrono::TimeDelta::seconds(value)),
        }
    }

    /// The top of the scale: the smallest round value at least `n` (1, 2 or 5 times a power
    /// of ten; for durations, round minutes, hours and days).
    fn ceiling(self, n: i64) -> i64 {
        const DURATIONS: [i64; 16] = [
            10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 28_800, 43_200, 86_400,
            172_800, 604_800,
        ];
        match self {
            Self::Seconds if n <= 604_800 => DURATIONS
                .into_iter()
                .find(|step| *step >= n)
                .unwrap_or(604_800),
            _ => nice_ceiling(n),
        }
    }
}

/// A chart, ready to draw: coordinates already worked out and written with one decimal.
pub struct BarChart {
    /// What it shows, for screen readers.
    pub label: String,
    pub bars: Vec<Bar>,
    pub days: Vec<Tick>,
    /// The top of the scale, in words ("40", "2 h").
    pub top: String,
    pub legend: Vec<(&'static str, &'static str)>,
    pub empty: bool,
}

pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    pub class: &'static str,
    /// "Tue 3 Nov: 12 answered in the window".
    pub title: String,
}

/// A day named under the bars.
pub struct Tick {
    pub x: String,
    pub text: String,
    /// `start`, `middle` or `end`: the first and last stay inside the drawing.
    pub anchor: &'static str,
}

impl BarChart {
    /// Draws `series` over `days`.
    pub fn new(
        label: &str,
        days: &[NaiveDate],
        series: &[Series],
        layout: Layout,
        unit: Unit,
    ) -> Self {
        let tallest = (0..days.len())
            .map(|i| {
                let values = series.iter().map(|s| s.values.get(i).copied().unwrap_or(0));
                match layout {
                    Layout::Stacked => values.sum(),
                    Layout::Grouped => values.max().unwrap_or(0),
                }
            })
            .max()
            .unwrap_or(0);
        let top = unit.ceiling(tallest);
        let plot_height = HEIGHT - BOTTOM - TOP;
        let slot = (WIDTH - LEFT) / days.len().max(1) as f64;
        let gap = (slot * 0.2).min(6.0);
        let day_width = (slot - gap).min(WIDEST);
        let mut bars = Vec::new();
        for (i, day) in days.iter().enumerate() {
            let slot_x = LEFT + slot * i as f64 + (slot - day_width) / 2.0;
            let bar_width = match layout {
                Layout::Stacked => day_width,
                Layout::Grouped => day_width / series.len().max(1) as f64,
            };
            let mut base = 0.0;
            for (k, s) in series.iter().enumerate() {
                let value = s.values.get(i).copied().unwrap_or(0);
                if value <= 0 {
                    continue;
                }
                let height = plot_height * value as f64 / top as f64;
                let (x, bottom) = match layout {
                    Layout::Stacked => (slot_x, base),
                    Layout::Grouped => (slot_x + bar_width * k as f64, 0.0),
                };
                bars.push(Bar {
                    x: format!("{x:.1}"),
                    y: format!("{:.1}", TOP + plot_height - bottom - height),
                    width: format!("{bar_width:.1}"),
                    height: format!("{height:.1}"),
                    class: s.class,
                    title: format!(
                        "{}: {} {}",
                        day.format("%a %-d %b"),
                        unit.words(value),
                        s.name
                    ),
                });
                if let Layout::Stacked = layout {
                    base += height;
                }
            }
        }
        Self {
            label: label.to_owned(),
            empty: bars.is_empty(),
            bars,
            days: ticks(days, slot),
            top: unit.words(top),
            legend: series.iter().map(|s| (s.name, s.class)).collect(),
        }
    }
}

/// The first, middle and last day (all of them when there are a few).
fn ticks(days: &[NaiveDate], slot: f64) -> Vec<Tick> {
    let mut picked: Vec<usize> = if days.len() <= 8 {
        (0..days.len()).collect()
    } else {
        vec![0, days.len() / 2, days.len() - 1]
    };
    picked.dedup();
    let last = days.len().saturating_sub(1);
    picked
        .into_iter()
        .map(|i| {
            let (x, anchor) = match i {
                _ if days.len() > 8 && i == 0 => (LEFT, "start"),
                _ if days.len() > 8 && i == last => (WIDTH, "end"),
                _ => (LEFT + slot * (i as f64 + 0.5), "middle"),
            };
            Tick {
                x: format!("{x:.1}"),
                text: days[i].format("%-d %b").to_string(),
                anchor,
            }
        })
        .collect()
}

/// The smallest 1, 2 or 5 times a power of ten at least `n` (1 for nothing).
fn nice_ceiling(n: i64) -> i64 {
    let mut power = 1_i64;
    loop {
        for step in [1, 2, 5] {
            let candidate = step * power;
            if candidate >= n {
                return candidate;
            }
        }
        power = power.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: i64) -> Vec<NaiveDate> {
        let first = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        (0..n)
            .map(|i| first + chrono::Days::new(i as u64))
            .collect()
    }

    #[test]
    fn the_scale_is_rounded_up_to_one_two_or_five() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(50), 50);
        assert_eq!(nice_ceiling(51), 100);
        assert_eq!(nice_ceiling(7_201), 10_000);
        // Durations: round minutes and hours.
        assert_eq!(Unit::Seconds.ceiling(1_000), 1_800);
        assert_eq!(Unit::Seconds.ceiling(5_000), 7_200);
        assert_eq!(Unit::Seconds.words(1_800), "30 min");
    }

    #[test]
    fn stacked_bars_sit_on_each_other_and_reach_their_share_of_the_scale() {
        let series = [
            Series {
                name: "answered",
                class: "good",
                values: vec![30, 0],
            },
            Series {
                name: "closed",
                class: "bad",
                values: vec![10, 0],
            },
        ];
        let chart = BarChart::new("x", &days(2), &series, Layout::Stacked, Unit::Count);
        // 40 in all: the scale tops at 50; nothing drawn for the empty day.
        assert_eq!(chart.top, "50");
        assert_eq!(chart.bars.len(), 2);
        let plot = HEIGHT - BOTTOM - TOP;
        let (answered, closed) = (&chart.bars[0], &chart.bars[1]);
        assert_eq!(answered.height, format!("{:.1}", plot * 0.6));
        assert_eq!(closed.height, format!("{:.1}", plot * 0.2));
        // The second sits right on top of the first.
        let top_of_answered: f64 = answered.y.parse().unwrap();
        let bottom_of_closed: f64 = closed.y.parse::<f64>().unwrap() + plot * 0.2;
        assert!((top_of_answered - bottom_of_closed).abs() < 0.11);
        assert_eq!(closed.title, "Sun 1 Nov: 10 closed");
        assert!(!chart.empty);
    }

    #[test]
    fn grouped_bars_stand_side_by_side_on_the_axis() {
        let series = [
            Series {
                name: "opened",
                class: "a",
                values: vec![4],
            },
            Series {
                name: "resolved",
                class: "b",
                values: vec![2],
            },
        ];
        let chart = BarChart::new("x", &days(1), &series, Layout::Grouped, Unit::Count);
        assert_eq!(chart.top, "5");
        let (opened, resolved) = (&chart.bars[0], &chart.bars[1]);
        let bottom = |bar: &Bar| bar.y.parse::<f64>().unwrap() + bar.height.parse::<f64>().unwrap();
        assert!((bottom(opened) - bottom(resolved)).abs() < 0.11);
        assert!(resolved.x.parse::<f64>().unwrap() > opened.x.parse::<f64>().unwrap());
        // One day is not one enormous bar.
        let width = |bar: &Bar| bar.width.parse::<f64>().unwrap();
        assert!(width(opened) + width(resolved) <= WIDEST + 0.1);
    }

    #[test]
    fn a_long_period_names_its_first_middle_and_last_day() {
        let chart = BarChart::new("x", &days(30), &[], Layout::Stacked, Unit::Count);
        let names: Vec<(&str, &str)> = chart
            .days
            .iter()
            .map(|t| (t.text.as_str(), t.anchor))
            .collect();
        assert_eq!(
            names,
            [("1 Nov", "start"), ("16 Nov", "middle"), ("30 Nov", "end")]
        );
        assert!(chart.empty);
    }
}
