//! Response times as a histogram whose buckets grow by a tenth: any number of them fit in a few
//! dozen counts, days add up bucket by bucket, and a median or 90th percentile read from the sum
//! is within 5 % of the exact one.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

/// Each bucket's upper bound is this times the one before.
const GROWTH: f64 = 1.1;
/// Bucket of everything from this one up (1.1^200 s is about six years).
const LAST: u16 = 200;

/// Counts of durations by bucket: bucket 0 holds those under a second, bucket `i` those from
/// `GROWTH^(i-1)` to `GROWTH^i` seconds. Stored sparse, as a map.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Histogram(BTreeMap<u16, i64>);

impl Histogram {
    /// Counts one duration (a negative one, from clocks that disagree, as zero).
    pub fn record(&mut self, duration: TimeDelta) {
        *self.0.entry(bucket(duration)).or_default() += 1;
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Histogram) {
        for (bucket, count) in &other.0 {
            *self.0.entry(*bucket).or_default() += count;
        }
    }

    /// How many durations were counted.
    pub fn count(&self) -> i64 {
        self.0.values().sum()
    }

    /// The `q`-quantile (0.5 for the median), as the middle of its bucket (geometrically): the
    /// duration at rank ⌈q·n⌉. `None` when nothing was counted.
    pub fn quantile(&self, q: f64) -> Option<TimeDelta> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as i64).max(1);
        let mut seen = 0;
        for (bucket, count) in &self.0 {
            seen += count;
            if seen >= rank {
                return Some(middle(*bucket));
            }
        }
        self.0.keys().next_back().map(|bucket| middle(*bucket))
    }
}

fn bucket(duration: TimeDelta) -> u16 {
    let seconds = duration.num_milliseconds().max(0) as f64 / 1000.0;
    if seconds < 1.0 {
        return 0;
    }
    let bucket = (seconds.ln() / GROWTH.ln()).floor() as u16;
    bucket.saturating_add(1).min(LAST)
}

fn middle(bucket: u16) -> TimeDelta {
    if bucket == 0 {
        return TimeDelta::zero();
    }
    let seconds = GROWTH.powf(f64::from(bucket) - 0.5);
    TimeDelta::milliseconds((seconds * 1000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(seconds: &[i64]) -> Histogram {
        let mut histogram = Histogram::default();
        for s in seconds {
            histogram.record(TimeDelta::seconds(*s));
        }
        histogram
    }

    fn within_five_percent(found: TimeDelta, exact: i64) {
        let found = found.num_milliseconds() as f64 / 1000.0;
        let exact = exact as f64;
        assert!(
            (found - exact).abs() <= exact * 0.05,
            "{found} s is not within 5 % of {exact} s"
        );
    }

    #[test]
    fn quantiles_are_within_five_percent_of_the_exact_ones() {
        // 1 s to 100,000 s: the median is 50,000 s and the 90th percentile 90,000 s.
        let seconds: Vec<i64> = (1..=100_000).collect();
        let histogram = of(&seconds);
        assert_eq!(histogram.count(), 100_000);
        within_five_percent(histogram.quantile(0.5).unwrap(), 50_000);
        within_five_percent(histogram.quantile(0.9).unwrap(), 90_000);
        within_five_percent(histogram.quantile(0.01).unwrap(), 1_000);
    }

    #[test]
    fn the_median_of_a_few_is_the_middle_one() {
        let histogram = of(&[60, 120, 3_600]);
        within_five_percent(histogram.quantile(0.5).unwrap(), 120);
        within_five_percent(histogram.quantile(0.9).unwrap(), 3_600);
        within_five_percent(histogram.quantile(1.0).unwrap(), 3_600);
    }

    #[test]
    fn days_add_up_to_the_histogram_of_their_durations() {
        let mut monday = of(&[30, 45, 600]);
        let tuesday = of(&[7_200, 50]);
        monday.add(&tuesday);
        assert_eq!(monday, of(&[30, 45, 600, 7_200, 50]));
        within_five_percent(monday.quantile(0.5).unwrap(), 50);
    }

    #[test]
    fn nothing_counted_has_no_quantile_and_instant_answers_are_zero() {
        assert_eq!(Histogram::default().quantile(0.5), None);
        let mut instant = Histogram::default();
        instant.record(TimeDelta::milliseconds(300));
        instant.record(TimeDelta::seconds(-5));
        assert_eq!(instant.quantile(0.9), Some(TimeDelta::zero()));
    }

    #[test]
    fn it_is_stored_as_a_small_map() {
        let json = serde_json::to_value(of(&[30, 32, 600])).unwrap();
        assert_eq!(json, serde_json::json!({ "36": 1, "37": 1, "68": 1 }));
        let back: Histogram = serde_json::from_value(json).unwrap();
        assert_eq!(back, of(&[30, 32, 600]));
    }
}
