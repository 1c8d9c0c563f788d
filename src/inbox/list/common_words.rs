//! How common words are in what search reads, as ANALYZE last measured them: the most common words
//! of `message_texts.words` and `contacts.search_words` with the share of rows holding each
//! (`pg_stats.most_common_elems`; migration 28 keeps up to 10,000 of them). Each process reads
//! them at most every [`REFRESH`]. A search asks whether a word is common enough to be read for in
//! order rather than through its every index entry; a stale or missing figure only makes a search
//! slower, never its results different.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use anyhow::Context;
use sqlx::PgConnection;

/// How long a process keeps the figures before reading them again.
const REFRESH: Duration = Duration::from_secs(300);

/// Where the words are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// `message_texts.words`.
    Messages,
    /// `contacts.search_words`.
    Contacts,
}

/// Word → share of rows, for one column.
type Shares = BTreeMap<String, f64>;

struct Figures {
    read_at: Instant,
    messages: Shares,
    contacts: Shares,
}

static FIGURES: Mutex<Option<Arc<Figures>>> = Mutex::new(None);

/// The share of `column`'s rows holding every word of `text` of three characters or more (as its
/// beginning, as search matches), assuming words independent, as the planner does; 0 when one of
/// them is not among the most common.
pub async fn share(conn: &mut PgConnection, column: Column, text: &str) -> anyhow::Result<f64> {
    let figures = figures(conn).await?;
    let shares = match column {
        Column::Messages => &figures.messages,
        Column::Contacts => &figures.contacts,
    };
    Ok(share_of(shares, text))
}

fn share_of(shares: &Shares, text: &str) -> f64 {
    let lower = text.to_lowercase();
    let mut words = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.chars().count() >= 3)
        .peekable();
    if words.peek().is_none() {
        return 0.0;
    }
    words
        .map(|word| {
            shares
                .range(word.to_owned()..)
                .take_while(|(common, _)| common.starts_with(word))
                .map(|(_, share)| share)
                .sum::<f64>()
                .min(1.0)
        })
        .product()
}

async fn figures(conn: &mut PgConnection) -> anyhow::Result<Arc<Figures>> {
    let cached = FIGURES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if let Some(figures) = cached.filter(|f| f.read_at.elapsed() < REFRESH) {
        return Ok(figures);
    }
    let rows = sqlx::query!(
        r#"select p.tablename::text as "table!", s.word as "word!", s.share::float8 as "share!"
           from pg_stats p,
                unnest(p.most_common_elems::text::text[], p.most_common_elem_freqs)
                    as s (word, share)
           where p.schemaname = current_schema()
             and ((p.tablename = 'message_texts' and p.attname = 'words')
                  or (p.tablename = 'contacts' and p.attname = 'search_words'))
             and s.word is not null"#
    )
    .fetch_all(conn)
    .await
    .context("read how common words are")?;
    let mut figures = Figures {
        read_at: Instant::now(),
        messages: Shares::new(),
        contacts: Shares::new(),
    };
    for row in rows {
        let shares = if row.table == "contacts" {
            &mut figures.contacts
        } else {
            &mut figures.messages
        };
        shares.insert(row.word, row.share);
    }
    let figures = Arc::new(figures);
    *FIGURES.lock().unwrap_or_else(PoisonError::into_inner) = Some(figures.clone());
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_sums_the_words_a_beginning_matches_and_multiplies_the_words() {
        let shares: Shares = [
            ("refund", 0.08),
            ("refunds", 0.02),
            ("nadia", 0.04),
            ("sato", 0.05),
        ]
        .into_iter()
        .map(|(word, share)| (word.to_owned(), share))
        .collect();
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(share_of(&shares, "refund"), 0.10));
        assert!(close(share_of(&shares, "REFUNDS!"), 0.02));
        assert!(close(share_of(&shares, "Nadia Sato"), 0.002));
        assert!(close(share_of(&shares, "Nadia Zebra"), 0.0));
        assert!(
            close(share_of(&shares, "at ok"), 0.0),
            "no word to look for"
        );
        assert!(close(share_of(&shares, "nad"), 0.04));
    }
}
