//! Search: conversations whose contact's name, number or username, or one of whose messages, has
//! words beginning with what the agent typed, newest first. Every word typed of [`MIN_RUN`]
//! characters or more must begin a word of the text ("refu ord" finds "where is my refund for
//! order 1042"); shorter ones are left out (the SQL function `search_query` makes the query).
//! Words are served by the full-text indexes `contacts_words` and `message_texts_words` (message
//! text is kept in `message_texts`, apart from the often rewritten `messages`), which list each
//! word's texts, so a rare word costs its matches whatever the table's size (migration 26). The
//! tenant is checked on the rows found, not in the index: in a GIN index a tenant's key lists all
//! its rows, and every scan would read that list (migration 20).
//!
//! A page of messages must cost little whether the word is rare or common: sorting every match of
//! a common word by recency would read them all (the index lists each), and walking back through
//! the messages for a rare one reads every message. Which one it is, ANALYZE knows: it keeps the
//! most common words of a column with their shares ([`common_words`], migration 28). Once it has
//! measured the messages, a text it expects in at most [`FEW`] of them (a reference, a name, a
//! typo: a word it did not list, or listed as rare) has its matches collected through the word
//! index at once, before any walk (whose 2,000 rows would be most of such a search's cost, and
//! seldom fill its page). A word common enough ([`COMMON_SHARE`]) is read for in id order from the
//! newest message, up to [`MAX_WALK`] messages; any other, in the newest [`FIRST_WALK`] only,
//! reading on in order when it matched often there ([`COMMON_HITS`]: common of late), then its
//! older matches collected at once when they are [`FEW`].
//! Otherwise, or for a common word, the search looks through spans of ids that grow back from
//! there ([`MATCH_SPANS`]), each collecting its matches through the word index (with the block
//! range index on ids, `message_texts_id_range`, for a bounded span) and keeping the newest, so a
//! rarer word costs only its matches. Each statement is planned with its bounds and the query
//! (`persistent(false)`).
//! Contacts likewise: a common name among the most recently active conversations first
//! ([`CONTACT_WALK`]); then, or for any other name, the most recently active among the first
//! [`CONTACT_CANDIDATES`] found through the index.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::common_words::{self, Column};
use crate::domain::ids::{ConversationId, MessageId, TenantId};

/// The shortest word a search looks for (as `search_query` in SQL counts it).
pub const MIN_RUN: usize = 3;
/// Conversations found by their contact, shown above the messages (one page).
pub const CONTACT_HITS: i64 = 20;
/// Messages per page.
pub const MESSAGE_HITS: i64 = 50;
/// How many of the newest messages a search reads in id order first, row by row (about 2 µs a
/// row): a word in one message of forty fills its page there.
const FIRST_WALK: i64 = 2_000;
/// A word matched this often in the first walk is common (one message in a hundred): reading on
/// in id order fills its page sooner than its matches could be collected, since the word index
/// lists every one of them (a word in 8 % of 10 M messages has 800,000 entries).
const COMMON_HITS: i64 = 20;
/// The most a common word's walk reads (about 20 ms): it stops as soon as the page is full.
const MAX_WALK: i64 = 20_000;
/// A word in at least this share of messages, as ANALYZE measured it, is walked to in order up to
/// [`MAX_WALK`] (a word in 0.5 % fills a page of 50 within 10,000 messages, where its index entries
/// number 50,000 at 10 M messages).
const COMMON_SHARE: f64 = 0.005;
/// A text ANALYZE expects in at most this many messages, before any walk, and a word that is not
/// common and matched too rarely for the walk to fill its page, after it, have their matches
/// collected all at once, through the word index, when they are at most this many: one statement
/// whose cost is the word's matches (a reference that appears in a few messages, a name nobody
/// wrote), not the table's size. Past that, the walk or the spans below.
const FEW: i64 = 1_000;
/// The spans of ids, back from the newest message, whose matches a search then collects through
/// the word index, in turn until a page is full; then all the rest. A rarer word costs only its
/// matches; the spans grow by steps, so a word common among old messages and rare among new ones
/// still fills its page within a span of a million, where reading all its matches would take
/// seconds.
const MATCH_SPANS: [i64; 2] = [100_000, 1_000_000];
/// Contacts whose conversations are sorted for the contacts' section: a common name matches many;
/// the section shows the most recently active of the first ones found.
const CONTACT_CANDIDATES: i64 = 100;
/// The most recently active conversations whose contacts a search by a common name reads first
/// (about 9 µs each).
const CONTACT_WALK: i64 = 1_000;
/// A name in at least this share of contacts is common: one in a hundred fills the contacts'
/// section within the newest 1,000 conversations, where the index lists 10,000 of them at 1 M.
const COMMON_NAME_SHARE: f64 = 0.01;

/// What a search looks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needle {
    /// What was typed, trimmed: its words are looked for (`search_query`).
    pub text: String,
    /// For text that looks like a phone number (digits, spaces, `+`, `-`, `.`, parentheses): its
    /// digits, as WhatsApp ids are stored ("+1 (555) 000-1111" is 15550001111).
    pub digits: Option<String>,
}

impl Needle {
    /// What `text` looks for; `None` when it is too short to search.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let phone_like = text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-.()".contains(c));
        let digits = phone_like.then(|| {
            text.chars()
                .filter(char::is_ascii_digit)
                .collect::<String>()
        });
        let longest_run = text
            .split(|c: char| !c.is_alphanumeric())
            .map(|run| run.chars().count())
            .max()
            .unwrap_or(0);
        let enough = match &digits {
            Some(digits) => digits.len() >= MIN_RUN,
            None => longest_run >= MIN_RUN,
        };
        if !enough {
            return None;
        }
        Some(Self {
            text: text.to_owned(),
            digits,
        })
    }
}

/// Conversations whose contact matches, most recently active first (among the first
/// [`CONTACT_CANDIDATES`] contacts found). A number is matched by its beginning or its end (with
/// or without the country code) through `contacts_by_number`, `contacts_by_number_end`; a name
/// or username by its words, through `contacts_words`. The matches are a materialized CTE, read only as far as
/// the candidates go: planned with the limit beside the filter, a name the planner guesses common is looked for by reading `contacts` in full until enough match (21 ms for
/// "Nadia Sato" at 1 M contacts, seconds for a name nobody has, with trigrams).
pub async fn contacts(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    needle: &Needle,
) -> anyhow::Result<Vec<ConversationId>> {
    let found = match &needle.digits {
        Some(digits) => {
            let start = format!("{digits}%");
            let end = format!("{}%", digits.chars().rev().collect::<String>());
            sqlx::query_scalar!(
                r#"with matches as materialized (
                       select k.id from contacts k
                       where k.tenant_id = $1 and (k.wa_id like $2 or reverse(k.wa_id) like $3)
                   ),
                   found as (select id from matches limit $5)
                   select c.id as "id!: ConversationId"
                   from found
                   join conversations c on c.tenant_id = $1 and c.contact_id = found.id
                   order by c.last_message_at desc, c.id desc
                   limit $4"#,
                tenant_id as TenantId,
                start,
                end,
                CONTACT_HITS,
                CONTACT_CANDIDATES
            )
            .persistent(false)
            .fetch_all(conn)
            .await
        }
        None => return contacts_by_name(conn, tenant_id, &needle.text).await,
    };
    found.context("search contacts")
}

/// Conversations whose contact's name or username has the words of `text`, most recently active
/// first: for a common name, among the newest [`CONTACT_WALK`] conversations, where it fills its
/// page (looking up its every match would read them all: 37,000 for "Nadia" at 1 M contacts,
/// 13 ms); then, when that found too few or the name is not common, among the first
/// [`CONTACT_CANDIDATES`] whose name begins with the text as typed (`contacts_by_name`, read only
/// as far as it returns), or when there are fewer of those, found by their words through
/// `contacts_words` (which intersects every entry of each word: 83,000 for "Nadia Sato" at 1 M).
async fn contacts_by_name(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    text: &str,
) -> anyhow::Result<Vec<ConversationId>> {
    let mut found = Vec::new();
    let estimate = common_words::estimate(conn, Column::Contacts, text).await?;
    if estimate.is_some_and(|estimate| estimate.share >= COMMON_NAME_SHARE) {
        found = sqlx::query_scalar!(
            r#"with newest as materialized (
               select c.id, c.contact_id, c.last_message_at from conversations c
               where c.tenant_id = $1
               order by c.last_message_at desc, c.id desc
               limit $3
           )
           select n.id as "id!: ConversationId"
           from newest n join contacts k on k.id = n.contact_id
           where k.search_words @@ search_query($2)
           order by n.last_message_at desc, n.id desc
           limit $4"#,
            tenant_id as TenantId,
            text,
            CONTACT_WALK,
            CONTACT_HITS
        )
        .persistent(false)
        .fetch_all(&mut *conn)
        .await
        .context("search the newest conversations' contacts")?;
    }
    if found.len() < usize::try_from(CONTACT_HITS).unwrap_or(usize::MAX) {
        let older = sqlx::query_scalar!(
            r#"with by_name as materialized (
                   select k.id from contacts k
                   where k.tenant_id = $1 and lower(k.profile_name) like lower($5)
                     -- Checked row by row, never through `contacts_words`: planned with the word
                     -- index, the names are intersected with every entry of their words when the
                     -- last ANALYZE's sample guessed them rare (23 ms for "Nadia Sato" at 1 M
                     -- contacts, against 0.6 ms reading the names in order).
                     and case when k.search_words @@ search_query($2) then true end
                   limit $4
               ),
               by_words as materialized (
                   select k.id from contacts k
                   where (select count(*) from by_name) < $4
                     and k.tenant_id = $1 and k.search_words @@ search_query($2)
               ),
               found as (
                   select id from by_name union select id from by_words limit $4
               )
               select c.id as "id!: ConversationId"
               from found
               join conversations c on c.tenant_id = $1 and c.contact_id = found.id
               order by c.last_message_at desc, c.id desc
               limit $3"#,
            tenant_id as TenantId,
            text,
            CONTACT_HITS,
            CONTACT_CANDIDATES,
            name_prefix(text)
        )
        .persistent(false)
        .fetch_all(&mut *conn)
        .await
        .context("search contacts")?;
        // The walk found every match among the newest conversations; the others are older.
        for id in older {
            if !found.contains(&id) {
                found.push(id);
            }
        }
        found.truncate(usize::try_from(CONTACT_HITS).unwrap_or(usize::MAX));
    }
    Ok(found)
}

/// A `like` pattern for the names that begin with `text` as typed, its spaces made single.
fn name_prefix(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 1);
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            pattern.push(' ');
        }
        for c in word.chars() {
            if matches!(c, '\\' | '%' | '_') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
    }
    pattern.push('%');
    pattern
}

/// A message whose text matched.
#[derive(Debug, Clone)]
pub struct MessageHit {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub body: String,
    pub at: DateTime<Utc>,
    pub outbound: bool,
}

/// Messages of the tenant whose words match `text` (a [`Needle`]'s), newest first, older than
/// `before`.
/// Messages the customer deleted are not found.
pub async fn messages(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    text: &str,
    before: Option<MessageId>,
) -> anyhow::Result<Vec<MessageHit>> {
    let ceiling = match before {
        Some(id) => id.get(),
        None => newest(conn).await? + 1,
    };
    let missing = |ids: &[i64]| MESSAGE_HITS - i64::try_from(ids.len()).unwrap_or(MESSAGE_HITS);
    let mut upper = ceiling;
    let estimate = common_words::estimate(conn, Column::Messages, text).await?;
    // When this finds more than FEW, the same look below the first walk would find nearly as
    // many (the walk's few matches fewer): it is not made again, the spans collect them.
    let expected_few = estimate.is_some_and(|estimate| estimate.rows <= FEW as f64);
    if expected_few
        && let Some(found) = all_if_few(conn, tenant_id, text, upper, MESSAGE_HITS).await?
    {
        return read_hits(conn, tenant_id, &found).await;
    }
    let common = estimate.is_some_and(|estimate| estimate.share >= COMMON_SHARE);
    let walk = if common { MAX_WALK } else { FIRST_WALK };
    let lower = upper.saturating_sub(walk).max(0);
    let mut ids = newest_in_order(conn, tenant_id, text, lower, upper, MESSAGE_HITS).await?;
    upper = lower;
    let hits = i64::try_from(ids.len()).unwrap_or(MESSAGE_HITS);
    if (COMMON_HITS..MESSAGE_HITS).contains(&hits) && upper > 0 {
        // Twice the span the first walk's rate of matches says the rest of the page needs.
        let span = (missing(&ids) * FIRST_WALK / hits * 2).min(MAX_WALK);
        let lower = upper.saturating_sub(span).max(0);
        let found = newest_in_order(conn, tenant_id, text, lower, upper, missing(&ids)).await?;
        ids.extend(found);
        upper = lower;
    }
    if !common
        && !expected_few
        && missing(&ids) > 0
        && upper > 0
        && let Some(found) = all_if_few(conn, tenant_id, text, upper, missing(&ids)).await?
    {
        ids.extend(found);
        upper = 0;
    }
    for width in MATCH_SPANS.map(Some).into_iter().chain([None]) {
        if missing(&ids) <= 0 || upper <= 0 {
            break;
        }
        // The last span has no lower bound: all the older messages.
        let lower = width.map(|width| ceiling.saturating_sub(width).max(0));
        if lower.is_some_and(|lower| lower >= upper) {
            continue;
        }
        let found = newest_of_matches(conn, tenant_id, text, lower, upper, missing(&ids)).await?;
        ids.extend(found);
        upper = lower.unwrap_or(0);
    }
    read_hits(conn, tenant_id, &ids).await
}

/// The messages `ids`, newest first.
async fn read_hits(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    ids: &[i64],
) -> anyhow::Result<Vec<MessageHit>> {
    sqlx::query_as!(
        MessageHit,
        r#"select m.id as "id: MessageId", m.conversation_id as "conversation_id: ConversationId",
                  m.body, m.created_at as at, m.direction = 'outbound' as "outbound!"
           from messages m
           where m.tenant_id = $1 and m.id = any($2)
           order by m.id desc"#,
        tenant_id as TenantId,
        ids
    )
    .fetch_all(conn)
    .await
    .context("read the messages found")
}

/// The newest `limit` matches among the ids `lower..upper`, reading the span in id order (a short
/// span: see [`FIRST_WALK`]).
async fn newest_in_order(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    text: &str,
    lower: i64,
    upper: i64,
    limit: i64,
) -> anyhow::Result<Vec<i64>> {
    sqlx::query_scalar!(
        r#"select t.message_id from message_texts t
           where t.tenant_id = $1 and t.words @@ search_query($2) and t.message_id >= $3 and t.message_id < $4
           order by t.message_id desc
           limit $5"#,
        tenant_id as TenantId,
        text,
        lower,
        upper,
        limit
    )
    .persistent(false)
    .fetch_all(conn)
    .await
    .context("search the newest messages")
}

/// The newest `limit` matches below `upper` when the text matches at most [`FEW`] messages there
/// (then those are all of its matches, found through the word index: the cost of a rare word's
/// matches, whatever the table's size); `None` when it matches more.
async fn all_if_few(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    text: &str,
    upper: i64,
    limit: i64,
) -> anyhow::Result<Option<Vec<i64>>> {
    sqlx::query_scalar!(
        r#"with matches as materialized (
               select t.message_id from message_texts t
               where t.tenant_id = $1 and t.words @@ search_query($2) and t.message_id < $3
           ),
           few as materialized (select message_id from matches limit $4::bigint + 1)
           select case when (select count(*) from few) <= $4 then
                      array(select message_id from few order by message_id desc limit $5)
                  end as "newest""#,
        tenant_id as TenantId,
        text,
        upper,
        FEW,
        limit
    )
    .persistent(false)
    .fetch_one(conn)
    .await
    .context("search the older messages of a rare word")
}

/// The newest `limit` of all matches among the ids `lower..upper` (or below `upper`): every match
/// found through the word index first (with the block range index for a bounded span; unbounded,
/// that index would list every page of the table: 8 ms at 10 M messages), then the newest of
/// them. With the limit beside the
/// filter, a query the planner guesses common is read by walking ids backwards until a page of
/// matches, which a rare word never fills: every row of the span (6 s at 10 M messages, seen with
/// trigrams).
async fn newest_of_matches(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    text: &str,
    lower: Option<i64>,
    upper: i64,
    limit: i64,
) -> anyhow::Result<Vec<i64>> {
    sqlx::query_scalar!(
        r#"with matches as materialized (
               select t.message_id from message_texts t
               where t.tenant_id = $1 and t.words @@ search_query($2)
                 and ($3::bigint is null or (t.message_id >= $3 and t.message_id < $4))
           )
           select message_id as "message_id!" from matches
           where message_id < $4
           order by message_id desc
           limit $5"#,
        tenant_id as TenantId,
        text,
        lower,
        upper,
        limit
    )
    .persistent(false)
    .fetch_all(conn)
    .await
    .context("search older messages")
}

/// The newest message's id, across tenants (the primary key's last entry).
async fn newest(conn: &mut PgConnection) -> anyhow::Result<i64> {
    sqlx::query_scalar!(r#"select coalesce(max(id), 0) as "id!" from messages"#)
        .fetch_one(conn)
        .await
        .context("find the newest message")
}

/// The part of `body` to show for a match of `text`: from a little before the first of the words
/// looked for, so a match deep in a long message is visible in the one-line snippet.
pub fn excerpt(body: &str, text: &str) -> String {
    const BEFORE: usize = 24;
    let lower_body = body.to_lowercase();
    // Lower-casing can change byte lengths; then show the message from its start.
    let found = (lower_body.len() == body.len())
        .then(|| {
            text.to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|word| word.chars().count() >= MIN_RUN)
                .filter_map(|word| lower_body.find(word))
                .min()
        })
        .flatten();
    match found {
        Some(at) => {
            let chars_before = body[..at].chars().count();
            if chars_before <= BEFORE {
                return body.to_owned();
            }
            let mut start = body
                .char_indices()
                .nth(chars_before - BEFORE)
                .map_or(at, |(i, _)| i);
            // Not from the middle of a word: from the next one, if it starts before the match.
            let mid_word = body[..start].ends_with(char::is_alphanumeric)
                && body[start..].starts_with(char::is_alphanumeric);
            if mid_word && let Some(space) = body[start..at].find(char::is_whitespace) {
                start += space;
            }
            format!("…{}", body[start..].trim_start())
        }
        None => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_not_searched() {
        for short in ["", "  ", "ab", "a b c", "é.é", "++", "%%%", "0% o_"] {
            assert_eq!(Needle::parse(short), None, "{short:?}");
        }
        let needle = Needle::parse(" Ana M ");
        assert_eq!(
            needle.map(|n| (n.text, n.digits)),
            Some(("Ana M".into(), None))
        );
    }

    #[test]
    fn a_phone_number_is_searched_by_its_digits() {
        let digits = |text: &str| Needle::parse(text).and_then(|n| n.digits);
        assert_eq!(digits("+1 (555) 000-1111").as_deref(), Some("15550001111"));
        assert_eq!(digits("55 5").as_deref(), Some("555"));
        assert_eq!(digits("5-5"), None);
        assert_eq!(digits("refund 555"), None);
    }

    #[test]
    fn a_name_is_looked_for_by_its_beginning_as_typed() {
        assert_eq!(name_prefix(" Nadia   Sato "), "Nadia Sato%");
        assert_eq!(name_prefix("100%_a\\b"), "100\\%\\_a\\\\b%");
    }

    #[test]
    fn an_excerpt_starts_a_little_before_the_match() {
        assert_eq!(
            excerpt("Where is my refund?", "refund"),
            "Where is my refund?"
        );
        let long = format!("{} the REFUND please", "word ".repeat(20));
        let shown = excerpt(&long, "plea refun");
        assert!(shown.starts_with('…'), "{shown}");
        assert!(shown.contains("REFUND please"), "{shown}");
        assert!(shown.chars().count() < long.chars().count());
        assert_eq!(excerpt("İstanbul refund", "refund"), "İstanbul refund");
        // Never from the middle of a word.
        let shown = excerpt(
            "Good morning, I would absolutely appreciate news about the refund for order 1042",
            "refund",
        );
        assert_eq!(shown, "…news about the refund for order 1042");
    }
}
