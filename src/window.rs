//! The 24-hour customer service window, in one place. Free-form messages may be sent only within 24
//! hours of the customer's last message; after that only approved templates are delivered (Meta
//! answers 131047). Every send decision asks this module; nothing else computes the window.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows>

use chrono::{DateTime, Duration, Utc};

/// How long the window stays open after the customer's last message.
pub const LENGTH: Duration = Duration::hours(24);

/// How long the window must stay open after a queued message is checked again, right before its
/// Graph call, for the message to go out: the call itself, Meta's processing and a clock that runs
/// a little ahead of ours. A message whose window closes within this margin is refused instead of
/// reaching Meta only to fail with 131047.
pub const SEND_MARGIN: Duration = Duration::seconds(5);

/// Where a conversation's window stands at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Free-form messages may be sent until `closes_at`.
    Open { closes_at: DateTime<Utc> },
    /// Closed since `since`, for `reason`: only templates.
    Closed {
        since: DateTime<Utc>,
        reason: Closure,
    },
    /// The customer has never written: only templates.
    NeverOpened,
}

impl Window {
    /// The window given the customer's last message (Meta's timestamp), the moment Meta last said it
    /// was closed (131047 while our clock said open), and now. 24 hours exactly is closed.
    pub fn at(
        last_customer_message_at: Option<DateTime<Utc>>,
        closed_by_meta_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        let Some(last) = last_customer_message_at else {
            return Self::NeverOpened;
        };
        let closes_at = last + LENGTH;
        match closed_by_meta_at {
            // Meta's word stands until the customer writes again, whatever our clock says.
            Some(closed) if closed >= last && closed < closes_at => Self::Closed {
                since: closed,
                reason: Closure::RefusedByMeta,
            },
            Some(closed) if closed >= last => Self::expired(closes_at),
            _ if now < closes_at => Self::Open { closes_at },
            _ => Self::expired(closes_at),
        }
    }

    fn expired(since: DateTime<Utc>) -> Self {
        Self::Closed {
            since,
            reason: Closure::Expired,
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open { .. })
    }
}

/// Why a window is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closure {
    /// 24 hours passed since the customer's last message.
    Expired,
    /// WhatsApp refused a message as outside the window (131047) although our clock said it was
    /// open: closed until the customer writes again.
    RefusedByMeta,
}

/// Where "now" comes from, so tests can move time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap()
    }

    const DAY: i64 = 24 * 3600;

    #[test]
    fn a_customer_who_never_wrote_has_no_window() {
        assert_eq!(Window::at(None, None, t(0)), Window::NeverOpened);
        assert!(!Window::NeverOpened.is_open());
    }

    #[test]
    fn the_window_is_open_until_one_second_before_24_hours() {
        assert_eq!(
            Window::at(Some(t(0)), None, t(0)),
            Window::Open { closes_at: t(DAY) }
        );
        assert_eq!(
            Window::at(Some(t(0)), None, t(DAY - 1)),
            Window::Open { closes_at: t(DAY) }
        );
    }

    #[test]
    fn at_24_hours_exactly_the_window_is_closed() {
        assert_eq!(
            Window::at(Some(t(0)), None, t(DAY)),
            Window::expired(t(DAY))
        );
        assert_eq!(
            Window::at(Some(t(0)), None, t(DAY + 3600)),
            Window::expired(t(DAY))
        );
    }

    #[test]
    fn when_meta_said_closed_the_window_is_closed_until_the_customer_writes_again() {
        let refused = Window::Closed {
            since: t(3600),
            reason: Closure::RefusedByMeta,
        };
        assert_eq!(Window::at(Some(t(0)), Some(t(3600)), t(7200)), refused);
        // Even when our clock is behind the moment Meta refused.
        assert_eq!(Window::at(Some(t(0)), Some(t(3600)), t(60)), refused);
        // A refusal after the 24 hours had passed anyway is just the window expiring.
        assert_eq!(
            Window::at(Some(t(0)), Some(t(DAY + 60)), t(DAY + 120)),
            Window::expired(t(DAY))
        );
        // The customer wrote after Meta's refusal: open again.
        assert_eq!(
            Window::at(Some(t(5000)), Some(t(3600)), t(7200)),
            Window::Open {
                closes_at: t(5000 + DAY)
            }
        );
    }

    #[test]
    fn a_message_in_the_future_of_the_clock_keeps_the_window_open() {
        // Meta's clock may run slightly ahead of ours.
        assert!(Window::at(Some(t(10)), None, t(0)).is_open());
    }
}
