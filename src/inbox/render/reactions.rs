//! Reactions shown on the message they react to, never as messages of their own. The customer's
//! come from `message_reactions` (one per message, the latest), ours from the `messages` rows we sent
//! of type `reaction` (the latest counts); an empty emoji takes a reaction back.

use std::collections::HashMap;

use serde_json::Value;

use super::parts::text_at;
use crate::domain::messages::Direction;

/// The reactions of a page of messages, by the wamid they react to.
#[derive(Debug, Default)]
pub struct Reactions {
    by_target: HashMap<String, Vec<(Direction, String)>>,
}

/// One emoji on a message, and who reacted with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionGroup {
    pub emoji: String,
    pub from_customer: bool,
    pub from_business: bool,
}

impl ReactionGroup {
    /// Who reacted, for a tooltip.
    pub fn by(&self) -> &'static str {
        match (self.from_customer, self.from_business) {
            (true, true) => "The customer and you",
            (true, false) => "The customer",
            _ => "You",
        }
    }
}

impl Reactions {
    /// Records that the `from` side reacted to `target_wamid` with `emoji`, replacing its earlier
    /// reaction; no emoji (or an empty one) takes it back. Add them oldest first.
    pub fn add(&mut self, target_wamid: &str, from: Direction, emoji: Option<&str>) {
        let reactions = self.by_target.entry(target_wamid.to_owned()).or_default();
        reactions.retain(|(side, _)| *side != from);
        if let Some(emoji) = emoji.map(str::trim).filter(|e| !e.is_empty()) {
            reactions.push((from, emoji.to_owned()));
        }
    }

    /// The reactions to the message `wamid`, one group per emoji, the customer's first.
    pub fn on(&self, wamid: &str) -> Vec<ReactionGroup> {
        let mut reactions: Vec<&(Direction, String)> =
            self.by_target.get(wamid).into_iter().flatten().collect();
        reactions.sort_by_key(|(side, _)| *side != Direction::Inbound);
        let mut groups: Vec<ReactionGroup> = Vec::new();
        for (side, emoji) in reactions {
            let index = match groups.iter().position(|group| group.emoji == *emoji) {
                Some(index) => index,
                None => {
                    groups.push(ReactionGroup {
                        emoji: emoji.clone(),
                        from_customer: false,
                        from_business: false,
                    });
                    groups.len() - 1
                }
            };
            match side {
                Direction::Inbound => groups[index].from_customer = true,
                Direction::Outbound => groups[index].from_business = true,
            }
        }
        groups
    }
}

/// The reaction a `messages` row carries (`type` = `reaction`): the wamid it reacts to and its
/// emoji (`None` when it takes a reaction back).
pub fn reaction_in<'a>(kind: &str, content: &'a Value) -> Option<(&'a str, Option<&'a str>)> {
    if kind != "reaction" {
        return None;
    }
    let reaction = content.get("reaction")?;
    let target = text_at(reaction, "/message_id")?;
    Some((target, text_at(reaction, "/emoji")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_latest_reaction_of_each_side_counts_and_an_empty_one_takes_it_back() {
        let mut reactions = Reactions::default();
        reactions.add("w1", Direction::Inbound, Some("👍"));
        reactions.add("w1", Direction::Inbound, Some("❤️"));
        reactions.add("w1", Direction::Outbound, Some("❤️"));
        reactions.add("w2", Direction::Outbound, Some("🙏"));
        reactions.add("w2", Direction::Outbound, Some(""));
        reactions.add("w3", Direction::Outbound, Some("😀"));
        reactions.add("w3", Direction::Inbound, Some("👍"));
        assert_eq!(
            reactions.on("w1"),
            [ReactionGroup {
                emoji: "❤️".into(),
                from_customer: true,
                from_business: true,
            }]
        );
        assert_eq!(reactions.on("w1")[0].by(), "The customer and you");
        assert_eq!(reactions.on("w2"), []);
        let w3: Vec<_> = reactions.on("w3").into_iter().map(|g| g.emoji).collect();
        assert_eq!(w3, ["👍", "😀"]);
        assert_eq!(reactions.on("unknown"), []);
    }

    #[test]
    fn a_reaction_we_sent_is_read_from_its_row() {
        let sent = json!({ "type": "reaction", "reaction": { "message_id": "w1", "emoji": "👍" } });
        assert_eq!(reaction_in("reaction", &sent), Some(("w1", Some("👍"))));
        let removed =
            json!({ "type": "reaction", "reaction": { "message_id": "w1", "emoji": "" } });
        assert_eq!(reaction_in("reaction", &removed), Some(("w1", None)));
        assert_eq!(
            reaction_in("text", &json!({ "text": { "body": "hi" } })),
            None
        );
    }
}
