//! What a day at a number adds up to, as stored in `report_days.figures`; a period's figures are
//! its days added together.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::histogram::Histogram;

/// One day at one number, or any sum of them. Every field is a count unless it says otherwise;
/// a figure missing from a stored day (written before it existed) counts as zero.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DayFigures {
    /// Messages customers sent.
    pub customer_messages: i64,
    /// Conversations a customer opened: their first message, or the first after it was resolved.
    pub opened: i64,
    /// Conversations resolved by an agent.
    pub resolved: i64,
    /// Customers' turns whose first reply went out inside the 24-hour window.
    pub answered_in_window: i64,
    /// Customers' turns first answered after their window had closed (so by a template).
    pub answered_late: i64,
    /// Windows that closed with the customer's last message unanswered.
    pub closed_unanswered: i64,
    /// From a customer's first unanswered message to the first reply (answered turns).
    pub response_times: Histogram,
    /// The same, for the turns that opened a conversation.
    pub first_response_times: Histogram,
    /// Messages the business sent (agents, programs, the operator, and the WhatsApp Business app).
    pub outbound: i64,
    /// Of those: accepted by WhatsApp, delivered to the phone (read ones included), read, failed.
    pub accepted: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    /// Failures by Meta's error code (`none` when there was no code, e.g. Meta was unreachable).
    pub failures: BTreeMap<String, i64>,
    /// Templates sent, and those sent when the customer's window was closed (re-engagements).
    pub templates_sent: i64,
    pub templates_after_window: i64,
    /// By template id.
    pub templates: BTreeMap<i64, TemplateDay>,
    /// By the id of the agent who replied or resolved; replies not sent by an agent (programs,
    /// the operator, the WhatsApp Business app) under 0.
    pub agents: BTreeMap<i64, AgentDay>,
}

/// A template's funnel on a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TemplateDay {
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    /// Answered by the customer within 24 hours.
    pub replied: i64,
}

/// What an agent did on a day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentDay {
    pub replies: i64,
    /// Customers' turns this agent answered first.
    pub answered: i64,
    pub resolved: i64,
    pub response_times: Histogram,
}

impl DayFigures {
    /// Adds `other`'s figures to these.
    pub fn add(&mut self, other: &DayFigures) {
        self.customer_messages += other.customer_messages;
        self.opened += other.opened;
        self.resolved += other.resolved;
        self.answered_in_window += other.answered_in_window;
        self.answered_late += other.answered_late;
        self.closed_unanswered += other.closed_unanswered;
        self.response_times.add(&other.response_times);
        self.first_response_times.add(&other.first_response_times);
        self.outbound += other.outbound;
        self.accepted += other.accepted;
        self.delivered += other.delivered;
        self.read += other.read;
        self.failed += other.failed;
        for (code, count) in &other.failures {
            *self.failures.entry(code.clone()).or_default() += count;
        }
        self.templates_sent += other.templates_sent;
        self.templates_after_window += other.templates_after_window;
        for (id, day) in &other.templates {
            self.templates.entry(*id).or_default().add(day);
        }
        for (id, day) in &other.agents {
            self.agents.entry(*id).or_default().add(day);
        }
    }
}

impl DayFigures {
    /// Takes `fresh`'s delivery figures (what statuses change) in place of these: outbound
    /// counts, failures, templates sent and their funnels.
    pub fn replace_deliveries(&mut self, fresh: DayFigures) {
        self.outbound = fresh.outbound;
        self.accepted = fresh.accepted;
        self.delivered = fresh.delivered;
        self.read = fresh.read;
        self.failed = fresh.failed;
        self.failures = fresh.failures;
        self.templates_sent = fresh.templates_sent;
        self.templates_after_window = fresh.templates_after_window;
        self.templates = fresh.templates;
    }
}

impl TemplateDay {
    fn add(&mut self, other: &TemplateDay) {
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.read += other.read;
        self.failed += other.failed;
        self.replied += other.replied;
    }
}

impl AgentDay {
    fn add(&mut self, other: &AgentDay) {
        self.replies += other.replies;
        self.answered += other.answered;
        self.resolved += other.resolved;
        self.response_times.add(&other.response_times);
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn days_add_up_field_by_field_and_map_by_map() {
        let mut monday = DayFigures {
            customer_messages: 3,
            closed_unanswered: 1,
            failures: BTreeMap::from([("131026".to_owned(), 2)]),
            templates: BTreeMap::from([(
                7,
                TemplateDay {
                    sent: 2,
                    read: 1,
                    ..Default::default()
                },
            )]),
            agents: BTreeMap::from([(
                4,
                AgentDay {
                    replies: 5,
                    ..Default::default()
                },
            )]),
            ..Default::default()
        };
        monday.response_times.record(TimeDelta::minutes(3));
        let mut tuesday = DayFigures {
            customer_messages: 2,
            failures: BTreeMap::from([("131026".to_owned(), 1), ("none".to_owned(), 1)]),
            templates: BTreeMap::from([(
                7,
                TemplateDay {
                    sent: 1,
                    replied: 1,
                    ..Default::default()
                },
            )]),
            agents: BTreeMap::from([(
                9,
                AgentDay {
                    resolved: 1,
                    ..Default::default()
                },
            )]),
            ..Default::default()
        };
        tuesday.response_times.record(TimeDelta::hours(2));
        monday.add(&tuesday);
        assert_eq!(monday.customer_messages, 5);
        assert_eq!(monday.closed_unanswered, 1);
        assert_eq!(monday.response_times.count(), 2);
        assert_eq!(monday.failures["131026"], 3);
        assert_eq!(monday.failures["none"], 1);
        assert_eq!(
            monday.templates[&7],
            TemplateDay {
                sent: 3,
                read: 1,
                replied: 1,
                ..Default::default()
            }
        );
        assert_eq!(monday.agents[&4].replies, 5);
        assert_eq!(monday.agents[&9].resolved, 1);
    }

    #[test]
    fn a_stored_day_missing_newer_figures_reads_as_zero() {
        let day: DayFigures = serde_json::from_value(serde_json::json!({ "opened": 2 })).unwrap();
        assert_eq!(day.opened, 2);
        assert_eq!(day.outbound, 0);
        assert!(day.agents.is_empty());
    }
}
