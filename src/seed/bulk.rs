//! A seeded run, set by set. First the conversations, a chunk per statement: their contacts,
//! labels, and when the resolved ones were resolved. Everything is derived from each
//! conversation's number in the run (`g`) through PostgreSQL's integer hash, so a chunk needs no
//! round trips per row. Then their messages, a stretch of time per statement and oldest first, as
//! they would have arrived: a table's rows (and ids) in the order of their time, so that an hour's
//! messages lie together as in a database in use, not scattered over the table.
//!
//! A conversation's clocks are its plan, and agree with its messages by construction: its `k`
//! messages lie `gap` apart and end at `last_message_at`, alternating sides so that the last one is
//! the customer's when the customer wrote last; it was created a `gap` before the first.

use anyhow::Context;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::domain::ids::{LabelId, NumberId, TenantId, UserId};

/// What every statement of a run shares.
pub struct Cast<'a> {
    pub tenant_id: TenantId,
    pub numbers: &'a [NumberId],
    pub agents: &'a [UserId],
    pub labels: &'a [LabelId],
    /// The run's clock: every time is before it.
    pub now: DateTime<Utc>,
    /// Customers' numbers are this plus `g`.
    pub first_wa_id: i64,
    /// Messages per conversation, on average (1 to `2 × average − 1`).
    pub average_messages: i64,
}

/// The conversations of a run, by id (ids are taken in order).
#[derive(Debug, Clone, Copy)]
pub struct Ids {
    pub first: i64,
    pub last: i64,
}

/// Seeds conversations `first..=last` of the run, without their messages; returns their ids.
pub async fn conversations(
    conn: &mut PgConnection,
    cast: &Cast<'_>,
    first: i64,
    last: i64,
) -> anyhow::Result<Ids> {
    let numbers: Vec<i64> = cast.numbers.iter().map(|id| id.get()).collect();
    let agents: Vec<i64> = cast.agents.iter().map(|id| id.get()).collect();
    let labels: Vec<i64> = cast.labels.iter().map(|id| id.get()).collect();
    let ids = sqlx::query!(
        r#"with plan as (
               select g, abs(hashint8extended(g, 7)) as h from generate_series($2::bigint, $3::bigint) g
           ),
           shaped as (
               select g, h,
                      case when h % 100 < 25 then 'open' when h % 100 < 37 then 'pending'
                           else 'resolved' end as status,
                      1 + (h >> 40) % (2 * $8::bigint - 1) as k,
                      make_interval(secs => 60 + (h >> 12) % 1800) as gap,
                      (h >> 30) % 3 <> 0 as customer_last
               from plan
           ),
           timed as (
               select s.*,
                      $7::timestamptz - make_interval(secs => (s.h >> 20) % case s.status
                          when 'open' then 3 * 86400 when 'pending' then 14 * 86400
                          else 120 * 86400 end) as last_at
               from shaped s
           ),
           people as (
               insert into contacts (tenant_id, wa_id, profile_name, language, created_at, updated_at)
               select $1, ($9::bigint + t.g)::text,
                      case when t.h % 10 = 0 then null
                           else (array['Ana','Ben','Carla','David','Elena','Farid','Grace','Hugo',
                                       'Ines','Jonas','Kemal','Lucia','Mateo','Nadia','Omar','Paula',
                                       'Quentin','Rosa','Samir','Tina','Umar','Vera','Wei','Yara'])
                                [1 + (t.h >> 3) % 24]
                                || ' ' ||
                                (array['Silva','Okafor','Müller','Rossi','Kowalski','Haddad','Nguyen',
                                       'García','Schmidt','Costa','Yilmaz','Dubois','Novak','Sato',
                                       'Larsen','Moreau','Ibrahim','Jensen','Pereira','Fischer'])
                                [1 + (t.h >> 9) % 20]
                      end,
                      case t.h % 7 when 0 then 'es' when 1 then 'pt_BR' else null end,
                      t.last_at - t.gap * t.k, t.last_at
               from timed t
               returning id, wa_id
           ),
           threads as (
               insert into conversations (tenant_id, phone_number_id, contact_id, status, assignee_id,
                                          last_message_at, last_customer_message_at, last_reply_at,
                                          created_at, updated_at)
               select $1, ($4::bigint[])[1 + t.h % cardinality($4)], p.id, t.status,
                      case when (t.h >> 7) % 100 < 30 then null
                           else ($5::bigint[])[1 + (t.h >> 10) % cardinality($5)] end,
                      t.last_at,
                      case when t.customer_last then t.last_at
                           when t.k > 1 then t.last_at - t.gap end,
                      case when not t.customer_last then t.last_at
                           when t.k > 1 then t.last_at - t.gap end,
                      t.last_at - t.gap * t.k, t.last_at
               from timed t join people p on p.wa_id = ($9::bigint + t.g)::text
               returning id, contact_id, assignee_id, status, last_message_at
           ),
           spans as (
               select c.id, c.assignee_id, c.status, c.last_message_at, t.h
               from threads c
               join people p on p.id = c.contact_id
               join timed t on ($9::bigint + t.g)::text = p.wa_id
           ),
           resolutions as (
               -- Resolved conversations were resolved by their assignee (or an agent) shortly
               -- after their last message, as the reports count them.
               insert into conversation_events (tenant_id, conversation_id, user_id, kind, body,
                                                created_at)
               select $1, s.id,
                      coalesce(s.assignee_id, ($5::bigint[])[1 + s.h % cardinality($5)]),
                      'status', 'resolved this',
                      least($7::timestamptz, s.last_message_at + make_interval(secs => 60 + s.h % 1200))
               from spans s
               where s.status = 'resolved'
               returning 1
           ),
           tagged as (
               insert into conversation_labels (tenant_id, conversation_id, label_id)
               select $1, c.id, ($6::bigint[])[1 + abs(hashint8(c.id)) % cardinality($6)]
               from threads c
               where cardinality($6) > 0 and abs(hashint8extended(c.id, 3)) % 10 < 3
               returning 1
           )
           select min(id) as "first!", max(id) as "last!" from threads"#,
        cast.tenant_id as TenantId,
        first,
        last,
        &numbers,
        &agents,
        &labels,
        cast.now,
        cast.average_messages,
        cast.first_wa_id,
    )
    .fetch_one(conn)
    .await
    .context("seed a chunk of conversations")?;
    Ok(Ids {
        first: ids.first,
        last: ids.last,
    })
}

/// The stretches of time a run's messages are written in, oldest first: each holds the messages
/// of about `per` conversations.
pub struct Stretches {
    /// Where each stretch ends (the next begins), the last open-ended (`None`).
    pub ends: Vec<Option<DateTime<Utc>>>,
    /// The longest a conversation of the run lasted, in seconds: how much later than a stretch
    /// a conversation with messages in it may end.
    pub longest_secs: f64,
}

/// Splits the time of the run's conversations `ids` into stretches of about `per` conversations'
/// messages.
pub async fn stretches(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    ids: Ids,
    per: i64,
) -> anyhow::Result<Stretches> {
    let rows = sqlx::query!(
        r#"select max(last_message_at) as "end!", max(lasted) as "lasted!"
           from (select last_message_at,
                        extract(epoch from last_message_at - created_at)::float8 as lasted,
                        (row_number() over (order by last_message_at) - 1) / $4 as stretch
                 from conversations
                 where tenant_id = $1 and id between $2 and $3) c
           group by stretch
           order by 1"#,
        tenant_id as TenantId,
        ids.first,
        ids.last,
        per
    )
    .fetch_all(conn)
    .await
    .context("split the seeded conversations' time")?;
    let longest_secs = rows.iter().map(|row| row.lasted).fold(0.0, f64::max);
    let mut ends: Vec<_> = rows.into_iter().map(|row| Some(row.end)).collect();
    // The last conversation's last message falls in the stretch after the one it ends.
    ends.push(None);
    Ok(Stretches { ends, longest_secs })
}

/// Writes the messages of the run's conversations `ids` that fall from `from` to `to` (unbounded
/// when `None`), in the order of their time; and for the conversations whose last message is
/// among them, what their assignee has read (closed conversations and half of the open ones).
/// Returns how many messages.
pub async fn messages(
    conn: &mut PgConnection,
    cast: &Cast<'_>,
    ids: Ids,
    (from, to): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    longest_secs: f64,
) -> anyhow::Result<i64> {
    let agents: Vec<i64> = cast.agents.iter().map(|id| id.get()).collect();
    sqlx::query_scalar!(
        r#"with spans as (
               -- Each conversation's plan, read back from its clocks.
               select c.id, c.phone_number_id, c.assignee_id, c.status, c.last_message_at,
                      c.created_at,
                      c.last_customer_message_at is not distinct from c.last_message_at
                          as customer_last,
                      c.last_message_at
                          - coalesce(case when c.last_customer_message_at
                                                   is not distinct from c.last_message_at
                                          then c.last_reply_at
                                          else c.last_customer_message_at end,
                                     c.created_at) as gap
               from conversations c
               where c.tenant_id = $1 and c.id between $2 and $3
                 and c.last_message_at >= coalesce($4::timestamptz, '-infinity')
                 and c.last_message_at
                     < coalesce($5::timestamptz + make_interval(secs => $6), 'infinity')
                 and c.created_at < coalesce($5::timestamptz, 'infinity')
           ),
           planned as (
               select s.*,
                      round(extract(epoch from s.last_message_at - s.created_at)
                            / extract(epoch from s.gap))::int as k
               from spans s
           ),
           drafted as (
               select s.id as conversation_id, s.phone_number_id, s.assignee_id, j,
                      s.last_message_at - s.gap * (s.k - 1 - j) as at,
                      ((s.k - 1 - j) % 2 = 0) = s.customer_last as inbound,
                      abs(hashint8extended(s.id * 1000 + j, 5)) as mh
               from planned s cross join lateral generate_series(0, s.k - 1) j
               where s.last_message_at - s.gap * (s.k - 1 - j)
                         >= coalesce($4::timestamptz, '-infinity')
                 and s.last_message_at - s.gap * (s.k - 1 - j)
                         < coalesce($5::timestamptz, 'infinity')
           ),
           worded as (
               select d.*,
                      case when not d.inbound or d.mh % 100 < 88 then 'text'
                           when d.mh % 100 < 92 then 'location'
                           when d.mh % 100 < 96 then 'document'
                           else 'audio' end as kind,
                      (array['Hi','Hello','Good morning','Hey','Hi there','Good evening','Thanks',
                             'Sorry to bother you'])[1 + (d.mh >> 4) % 8] as greeting,
                      case when d.inbound then
                          (array['where is my order','I want a refund','the app does not open',
                                 'can I change my delivery address','my payment failed',
                                 'the package arrived damaged','how do I reset my password',
                                 'is this still in stock','I was charged twice',
                                 'can you send me the invoice','the courier never came',
                                 'do you ship to Portugal','my discount code is not accepted',
                                 'can I pick it up in the store','the size is wrong'])
                              [1 + (d.mh >> 8) % 15]
                      else
                          (array['thanks for reaching out','I have checked your order',
                                 'your refund is on its way','could you send a photo of the package',
                                 'I have updated your address','the invoice is attached',
                                 'we are sorry for the delay','happy to help',
                                 'is there anything else I can do','a new one ships tomorrow'])
                              [1 + (d.mh >> 8) % 10]
                      end as topic,
                      -- The order a conversation is about, mentioned in one message of four.
                      case when (d.mh >> 16) % 4 = 0 then ' #' || (10000000 + d.conversation_id) else '' end
                          as code,
                      (array['Central Station','Main Street 12','Harbour Market','Airport Terminal 2',
                             'City Library'])[1 + (d.mh >> 24) % 5] as place
               from drafted d
           ),
           written as (
               insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid,
                                     type, body, content, meta_timestamp, status, error_code,
                                     error_title, sent_by, sent_by_kind, sent_at, created_at)
               select $1, w.conversation_id, w.phone_number_id,
                      case when w.inbound then 'inbound' else 'outbound' end,
                      'wamid.seed.' || w.conversation_id || '.' || w.j, w.kind,
                      case w.kind
                          when 'text' then w.greeting || ', ' || w.topic || w.code || '.'
                          when 'location' then '[Location] ' || w.place
                          when 'document' then '[Document] invoice-' || (w.mh >> 20) % 90000 || '.pdf'
                          else '[Voice message]' end,
                      case w.kind
                          when 'text' then jsonb_build_object('type', 'text', 'text',
                              jsonb_build_object('body', w.greeting || ', ' || w.topic || w.code || '.'))
                          when 'location' then jsonb_build_object('type', 'location', 'location',
                              jsonb_build_object('latitude', 38.7 + (w.mh % 1000) / 10000.0,
                                                 'longitude', -9.1 - (w.mh % 997) / 10000.0,
                                                 'name', w.place))
                          when 'document' then jsonb_build_object('type', 'document', 'document',
                              jsonb_build_object('id', 'seed-media-' || w.mh % 1000000,
                                                 'mime_type', 'application/pdf',
                                                 'filename', 'invoice-' || (w.mh >> 20) % 90000 || '.pdf'))
                          else jsonb_build_object('type', 'audio', 'audio',
                              jsonb_build_object('id', 'seed-media-' || w.mh % 1000000,
                                                 'mime_type', 'audio/ogg; codecs=opus', 'voice', true))
                      end,
                      case when w.inbound then w.at end,
                      case when w.inbound then 'received'
                           when w.mh % 100 < 60 then 'read' when w.mh % 100 < 85 then 'delivered'
                           when w.mh % 100 < 95 then 'sent' else 'failed' end,
                      case when not w.inbound and w.mh % 100 >= 95 then 131026 end,
                      case when not w.inbound and w.mh % 100 >= 95 then 'Message undeliverable' end,
                      case when not w.inbound
                           then coalesce(w.assignee_id, ($7::bigint[])[1 + w.mh % cardinality($7)]) end,
                      case when not w.inbound then 'agent' end,
                      case when not w.inbound then w.at end,
                      w.at
               from worded w
               order by w.at, w.conversation_id
               returning id, conversation_id
           ),
           reads as (
               insert into conversation_reads (tenant_id, conversation_id, user_id, last_read_message_id)
               select $1, w.conversation_id, s.assignee_id, max(w.id)
               from written w join spans s on s.id = w.conversation_id
               where s.last_message_at < coalesce($5::timestamptz, 'infinity')
                 and s.assignee_id is not null
                 and (s.status <> 'open' or abs(hashint8extended(s.id, 11)) % 2 = 0)
               group by w.conversation_id, s.assignee_id
               returning 1
           )
           select count(*) as "n!" from written"#,
        cast.tenant_id as TenantId,
        ids.first,
        ids.last,
        from,
        to,
        longest_secs,
        &agents,
    )
    .fetch_one(conn)
    .await
    .context("seed the messages of a stretch of time")
}
