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

/// What ANALYZE measured of one column.
#[derive(Default)]
struct Measured {
    shares: Shares,
    /// Rows of its table, as ANALYZE or VACUUM last counted them.
    rows: f64,
}

struct Figures {
    read_at: Instant,
    messages: Measured,
    contacts: Measured,
}

impl Figures {
    /// The figures of `table`'s searched column.
    fn of(&mut self, table: &str) -> &mut Measured {
        if table == "contacts" {
            &mut self.contacts
        } else {
            &mut self.messages
        }
    }
}

/// How common a text is in a column, by ANALYZE's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The share of rows holding every word (0 when a word is not among the most common).
    pub share: f64,
    /// How many rows that is.
    pub rows: f64,
}

static FIGURES: Mutex<Option<Arc<Figures>>> = Mutex::new(None);

/// How common the words of `text` of three characters or more are together in `column` (each as
/// a beginning, as search matches), assuming words independent, as the planner does; `None` when
/// ANALYZE has listed no word of the column (it has not measured it yet), so that nothing is
/// known.
pub async fn estimate(
    conn: &mut PgConnection,
    column: Column,
    text: &str,
) -> anyhow::Result<Option<Estimate>> {
    let figures = figures(conn).await?;
    let measured = match column {
        Column::Messages => &figures.messages,
        Column::Contacts => &figures.contacts,
    };
    Ok(measured.estimate(text))
}

impl Measured {
    /// [`estimate`] by these figures.
    fn estimate(&self, text: &str) -> Option<Estimate> {
        if self.shares.is_empty() {
            return None;
        }
        let share = share_of(&self.shares, text);
        Some(Estimate {
            share,
            rows: share * self.rows,
        })
    }
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
    .fetch_all(&mut *conn)
    .await
    .context("read how common words are")?;
    let tables = sqlx::query!(
        r#"select c.relname::text as "table!", c.reltuples::float8 as "rows!"
           from pg_class c
           where c.oid in ('message_texts'::regclass, 'contacts'::regclass)"#
    )
    .fetch_all(&mut *conn)
    .await
    .context("read how many rows the searched tables have")?;
    let mut figures = Figures {
        read_at: Instant::now(),
        messages: Measured::default(),
        contacts: Measured::default(),
    };
    for row in rows {
        figures.of(&row.table).shares.insert(row.word, row.share);
    }
    for table in tables {
        // -1: never counted.
        figures.of(&table.table).rows = table.rows.max(0.0);
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

    #[test]
    fn an_estimate_counts_the_rows_and_knows_nothing_before_analyze() {
        let measured = Measured {
            shares: [("refund".to_owned(), 0.08), ("order".to_owned(), 0.001)]
                .into_iter()
                .collect(),
            rows: 1_000_000.0,
        };
        let refund = measured.estimate("refund").unwrap();
        assert!((refund.share - 0.08).abs() < 1e-9 && (refund.rows - 80_000.0).abs() < 1e-6);
        let both = measured.estimate("refund order").unwrap();
        assert!((both.rows - 80.0).abs() < 1e-6, "{both:?}");
        assert_eq!(
            measured.estimate("zebra17"),
            Some(Estimate {
                share: 0.0,
                rows: 0.0
            }),
            "a word not listed is rare"
        );
        assert_eq!(Measured::default().estimate("refund"), None);
    }
}
