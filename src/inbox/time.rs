//! Times as agents read them: relative near now ("3 min", "14:02", "Tue"), spans ("5 h 12 min").
//! Server-rendered in UTC; the exact time goes in each element's `datetime`/`title`.

use chrono::{DateTime, Datelike, TimeDelta, Utc};

/// A list row's time: "now", "3 min", "14:02" today, "Tue" this week, else "12 Nov".
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let elapsed = now - at;
    if elapsed < TimeDelta::minutes(1) {
        "now".into()
    } else if elapsed < TimeDelta::hours(1) {
        format!("{} min", elapsed.num_minutes())
    } else if at.date_naive() == now.date_naive() {
        at.format("%H:%M").to_string()
    } else if elapsed < TimeDelta::days(6) {
        at.format("%a").to_string()
    } else if at.year() == now.year() {
        at.format("%-d %b").to_string()
    } else {
        at.format("%-d %b %Y").to_string()
    }
}

/// A moment in a sentence: "at 14:02", "yesterday at 14:02", "on 12 Nov at 14:02".
pub fn when(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let clock = at.format("%H:%M UTC");
    if at.date_naive() == now.date_naive() {
        format!("today at {clock}")
    } else if Some(at.date_naive()) == now.date_naive().pred_opt() {
        format!("yesterday at {clock}")
    } else {
        format!("on {} at {clock}", at.format("%-d %b"))
    }
}

/// A span in words: "5 h 12 min", "47 min", "less than a minute".
pub fn span(span: TimeDelta) -> String {
    let minutes = span.num_minutes();
    match (minutes / 60, minutes % 60) {
        (0, 0) => "less than a minute".into(),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// A span in one unit: "5 h", "47 min".
pub fn span_short(span: TimeDelta) -> String {
    let minutes = span.num_minutes().max(1);
    if minutes >= 60 {
        format!("{} h", minutes / 60)
    } else {
        format!("{minutes} min")
    }
}

/// The exact time, for `title` and `datetime` attributes.
pub fn exact(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// RFC 3339, for `datetime` and the page's script.
pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn times_read_relative_near_now() {
        let now = Utc.with_ymd_and_hms(2026, 11, 29, 15, 0, 0).unwrap();
        assert_eq!(ago(now - TimeDelta::seconds(20), now), "now");
        assert_eq!(ago(now - TimeDelta::minutes(3), now), "3 min");
        assert_eq!(ago(now - TimeDelta::hours(2), now), "13:00");
        assert_eq!(ago(now - TimeDelta::days(2), now), "Fri");
        assert_eq!(ago(now - TimeDelta::days(20), now), "9 Nov");
        assert_eq!(ago(now - TimeDelta::days(400), now), "25 Oct 2025");
        assert_eq!(
            when(now - TimeDelta::hours(20), now),
            "yesterday at 19:00 UTC"
        );
    }

    #[test]
    fn spans_read_in_hours_and_minutes() {
        assert_eq!(span(TimeDelta::minutes(312)), "5 h 12 min");
        assert_eq!(span(TimeDelta::minutes(47)), "47 min");
        assert_eq!(span(TimeDelta::minutes(120)), "2 h");
        assert_eq!(span(TimeDelta::seconds(30)), "less than a minute");
        assert_eq!(span_short(TimeDelta::minutes(312)), "5 h");
    }
}
