//! Reports: a day's figures worked out from a scripted day of conversations (turns answered in and
//! after the window, windows closed unanswered, response times, delivery, failures, templates,
//! agents), days added up over a period, and days worked out again when statuses arrive.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use sqlx::PgPool;
use switchboard::domain::{
    ids::{ConversationId, NumberId, TemplateId, TenantId, UserId},
    reports::{
        figures::TemplateDay,
        hours,
        period::{self, Period, Report},
        rollup::{self, Part},
    },
};

use super::*;

/// The scripted day (UTC).
pub const DAY: &str = "2026-11-10";

pub fn day() -> NaiveDate {
    NaiveDate::parse_from_str(DAY, "%Y-%m-%d").unwrap()
}

/// `hh:mm` on the scripted day, `offset` days from it.
pub fn at(offset: i64, clock: &str) -> DateTime<Utc> {
    let time = chrono::NaiveTime::parse_from_str(clock, "%H:%M").unwrap();
    (day() + TimeDelta::days(offset)).and_time(time).and_utc()
}

/// A conversation of `tenant_id` at `number_id` with a new customer.
pub async fn conversation(
    pool: &PgPool,
    tenant_id: TenantId,
    number_id: NumberId,
    wa_id: &str,
) -> ConversationId {
    let id: i64 = sqlx::query_scalar(
        "with c as (insert into contacts (tenant_id, wa_id) values ($1, $3) returning id)
         insert into conversations (tenant_id, phone_number_id, contact_id)
         select $1, $2, c.id from c returning id",
    )
    .bind(tenant_id)
    .bind(number_id)
    .bind(wa_id)
    .fetch_one(pool)
    .await
    .unwrap();
    ConversationId::new(id)
}

/// What a scripted message is.
#[derive(Clone, Copy)]
pub enum Said {
    Customer,
    /// By an agent, with the message's final status.
    Agent(UserId, &'static str),
    /// A template sent by an agent.
    Template(UserId, TemplateId, &'static str),
    /// Refused by Meta with this code.
    Failed(UserId, i32),
}

pub async fn say(pool: &PgPool, conversation: ConversationId, when: DateTime<Utc>, said: Said) {
    let (direction, status, sent_by, template, code, sent_at) = match said {
        Said::Customer => ("inbound", "received", None, None, None, None),
        Said::Agent(by, status) => ("outbound", status, Some(by), None, None, Some(when)),
        Said::Template(by, id, status) => {
            ("outbound", status, Some(by), Some(id), None, Some(when))
        }
        Said::Failed(by, code) => ("outbound", "failed", Some(by), None, Some(code), None),
    };
    sqlx::query(
        "insert into messages (tenant_id, conversation_id, phone_number_id, direction, wamid, type,
                               body, content, meta_timestamp, status, error_code, sent_by,
                               sent_by_kind, idempotency_key, template_id, sent_at, created_at)
         select c.tenant_id, c.id, c.phone_number_id, $2, 'wamid.' || gen_random_uuid(), 'text',
                'hi', '{}', case when $2 = 'inbound' then $3 end, $4, $5, $6,
                case when $6 is not null then 'agent' end,
                case when $6 is not null then gen_random_uuid()::text end, $7, $8, $3
         from conversations c where c.id = $1",
    )
    .bind(conversation)
    .bind(direction)
    .bind(when)
    .bind(status)
    .bind(code)
    .bind(sent_by)
    .bind(template)
    .bind(sent_at)
    .execute(pool)
    .await
    .unwrap();
}

async fn resolve(pool: &PgPool, conversation: ConversationId, by: UserId, when: DateTime<Utc>) {
    sqlx::query(
        "insert into conversation_events (tenant_id, conversation_id, user_id, kind, body, created_at)
         select tenant_id, id, $2, 'status', 'resolved this', $3 from conversations where id = $1",
    )
    .bind(conversation)
    .bind(by)
    .bind(when)
    .execute(pool)
    .await
    .unwrap();
}

/// The scripted conversations, by (tenant, number); returns Ana and Ben (agents) and the template.
///
/// - A (new customer): writes 09:00 and 09:05; Ana answers 09:20 (delivered). Writes 10:00; Ana
///   answers 12:00 (read) and resolves it at 12:30.
/// - B (new customer): writes 08:00; Ana's reply at 09:00 fails (131026); nobody else answers.
/// - C: Ben's template two days before; the customer answers the day before at 15:00, nobody
///   answers within 24 hours; Ben's template at 16:00 (delivered); the customer writes at 17:00.
pub async fn script(app: &TestApp) -> (UserId, UserId, TemplateId) {
    let pool = &app.pool;
    let number = NumberId::new(
        app.scalar::<i64>("select id from phone_numbers limit 1")
            .await,
    );
    let ana = user(app, app.tenant_id, "ana@acme.test", "Ana Lima").await;
    let ben = user(app, app.tenant_id, "ben@acme.test", "Ben Ode").await;
    let template = approved_template(app).await;

    let a = conversation(pool, app.tenant_id, number, "3510001").await;
    say(pool, a, at(0, "09:00"), Said::Customer).await;
    say(pool, a, at(0, "09:05"), Said::Customer).await;
    say(pool, a, at(0, "09:20"), Said::Agent(ana, "delivered")).await;
    say(pool, a, at(0, "10:00"), Said::Customer).await;
    say(pool, a, at(0, "12:00"), Said::Agent(ana, "read")).await;
    resolve(pool, a, ana, at(0, "12:30")).await;

    let b = conversation(pool, app.tenant_id, number, "3510002").await;
    say(pool, b, at(0, "08:00"), Said::Customer).await;
    say(pool, b, at(0, "09:00"), Said::Failed(ana, 131026)).await;

    let c = conversation(pool, app.tenant_id, number, "3510003").await;
    say(
        pool,
        c,
        at(-2, "10:00"),
        Said::Template(ben, template, "read"),
    )
    .await;
    say(pool, c, at(-1, "15:00"), Said::Customer).await;
    say(
        pool,
        c,
        at(0, "16:00"),
        Said::Template(ben, template, "delivered"),
    )
    .await;
    say(pool, c, at(0, "17:00"), Said::Customer).await;
    (ana, ben, template)
}

/// Works out the scripted day and the next as they stand three days later.
pub async fn work_out(app: &TestApp) {
    for offset in [-2, -1, 0, 1] {
        let worked = rollup::work_out(
            &app.pool,
            day() + TimeDelta::days(offset),
            Part::All,
            at(3, "00:00"),
        )
        .await
        .unwrap();
        assert!(worked);
    }
}

/// The tenant's report from `first` to `last` days after the scripted day, at `number` or all.
async fn report(app: &TestApp, first: i64, last: i64, number: Option<NumberId>) -> Report {
    let mut conn = app.pool.acquire().await.unwrap();
    let period = Period {
        from: day() + TimeDelta::days(first),
        to: day() + TimeDelta::days(last),
        number,
    };
    period::report(&mut conn, app.tenant_id, period)
        .await
        .unwrap()
}

fn minutes(histogram: &switchboard::domain::reports::histogram::Histogram, q: f64) -> i64 {
    histogram.quantile(q).unwrap().num_minutes()
}

#[sqlx::test]
async fn a_new_install_has_no_days_waiting_to_be_worked_out(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let fresh = report(&app, -30, 0, None).await;
    assert_eq!((fresh.pending_days, fresh.as_of), (0, None));
    // Once a message arrives, its day waits until the job works it out.
    script(&app).await;
    assert!(report(&app, -30, 0, None).await.pending_days > 0);
}

#[sqlx::test]
async fn a_day_adds_up_its_turns_windows_deliveries_and_agents(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (ana, ben, template) = script(&app).await;
    work_out(&app).await;
    let d = &report(&app, 0, 0, None).await.total;

    assert_eq!(d.customer_messages, 5);
    // A and B are new customers; C's 17:00 follows the business's template.
    assert_eq!(d.opened, 2);
    assert_eq!(d.resolved, 1);
    // A's two turns inside the window; C's turn answered after its window closed at 15:00, which
    // is the one window that closed unanswered that day (B's closes the next day).
    assert_eq!(
        (d.answered_in_window, d.answered_late, d.closed_unanswered),
        (2, 1, 1)
    );
    // 20 min, 2 h and 25 h; only A's first turn opened a conversation.
    assert_eq!(d.response_times.count(), 3);
    assert!((115..=125).contains(&minutes(&d.response_times, 0.5)));
    assert!((1425..=1575).contains(&minutes(&d.response_times, 0.9)));
    assert_eq!(d.first_response_times.count(), 1);
    assert!((19..=21).contains(&minutes(&d.first_response_times, 0.5)));

    assert_eq!(
        (d.outbound, d.accepted, d.delivered, d.read, d.failed),
        (4, 3, 3, 1, 1)
    );
    assert_eq!(d.failures.get("131026"), Some(&1));
    assert_eq!((d.templates_sent, d.templates_after_window), (1, 1));
    assert_eq!(
        d.templates.get(&template.get()),
        Some(&TemplateDay {
            sent: 1,
            delivered: 1,
            read: 0,
            failed: 0,
            replied: 1
        })
    );
    let ana_day = &d.agents[&ana.get()];
    assert_eq!(
        (ana_day.replies, ana_day.answered, ana_day.resolved),
        (2, 2, 1)
    );
    let ben_day = &d.agents[&ben.get()];
    assert_eq!(
        (ben_day.replies, ben_day.answered, ben_day.resolved),
        (1, 1, 0)
    );

    // The next day: B's window and C's second one close unanswered.
    let next = report(&app, 1, 1, None).await;
    assert_eq!(next.total.closed_unanswered, 2);

    // Over both days, and day by day.
    let both = report(&app, 0, 1, None).await;
    assert_eq!(both.total.closed_unanswered, 3);
    assert_eq!(both.days.len(), 2);
    assert_eq!(both.days[0].1.customer_messages, 5);
    assert_eq!(both.days[1].1, next.total);
}

#[sqlx::test]
async fn a_window_still_open_has_not_closed_and_another_number_has_its_own_figures(pool: PgPool) {
    let app = TestApp::new(pool).await;
    script(&app).await;
    // Worked out at 16:30 on the day: C's template is out, B's window still open.
    rollup::work_out(&app.pool, day(), Part::All, at(0, "16:30"))
        .await
        .unwrap();
    assert_eq!(report(&app, 0, 0, None).await.total.closed_unanswered, 1);
    // Messages after 16:30 are in the rows already (inserted "before" they happen); what
    // matters here is that windows closing after 16:30 are not counted yet.
    let next_day = rollup::work_out(
        &app.pool,
        day() + TimeDelta::days(1),
        Part::All,
        at(1, "08:30"),
    )
    .await
    .unwrap();
    assert!(next_day);
    assert_eq!(
        report(&app, 1, 1, None).await.total.closed_unanswered,
        1,
        "B's closed at 08:00; C's closes at 17:00"
    );

    let other = app
        .add_number(
            app.tenant_id,
            app.app_id,
            "5550001",
            WABA_ID,
            Some("+1 555 0001"),
        )
        .await;
    assert_eq!(
        report(&app, 0, 0, Some(other)).await.total,
        Default::default()
    );
}

#[sqlx::test]
async fn a_past_day_has_its_deliveries_counted_again_when_its_messages_get_statuses(pool: PgPool) {
    let app = TestApp::new(pool).await;
    script(&app).await;
    let now = at(3, "12:00");
    // The first run works out the history (every day since the first message, to today).
    assert_eq!(rollup::catch_up(&app.pool, now).await.unwrap(), 6);
    let before = report(&app, 0, 0, None).await.total;
    assert_eq!(before.read, 1);

    // Nothing new: only today is worked out again (a minute later).
    let later = now + TimeDelta::minutes(1);
    assert_eq!(rollup::catch_up(&app.pool, later).await.unwrap(), 1);

    // A read receipt for A's first reply, received as the last run began (and committed after
    // it read the statuses): its day's deliveries are counted again, and the rest of the day is
    // kept as it was.
    let wamid: String = sqlx::query_scalar(
        "update messages set status = 'read' where status = 'delivered' and template_id is null
         returning wamid",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into message_statuses (tenant_id, phone_number_id, wamid, status, meta_timestamp, raw, received_at)
         select tenant_id, phone_number_id, wamid, 'read', now(), '{}', $2 from messages where wamid = $1",
    )
    .bind(&wamid)
    .bind(later - TimeDelta::seconds(5))
    .execute(&app.pool)
    .await
    .unwrap();
    let again = later + TimeDelta::minutes(1);
    assert_eq!(rollup::catch_up(&app.pool, again).await.unwrap(), 2);
    let after = report(&app, 0, 0, None).await.total;
    assert_eq!(after.read, 2);
    assert_eq!(after.delivered, before.delivered);
    assert_eq!(after.response_times, before.response_times);
    assert_eq!(after.closed_unanswered, before.closed_unanswered);
    assert_eq!(after.agents, before.agents);

    // A day that took long is worked out less often: ten times as long apart.
    sqlx::query("update report_runs set took = interval '30 seconds'")
        .execute(&app.pool)
        .await
        .unwrap();
    let soon = again + TimeDelta::minutes(2);
    assert_eq!(rollup::catch_up(&app.pool, soon).await.unwrap(), 0);
    let later_still = again + TimeDelta::minutes(6);
    assert_eq!(rollup::catch_up(&app.pool, later_still).await.unwrap(), 1);
}

/// When the hour beginning at `hh:00` on the scripted day was last worked out.
async fn hour_worked_out_at(app: &TestApp, hh: &str) -> Option<DateTime<Utc>> {
    sqlx::query_scalar("select computed_at from report_hour_runs where hour = $1")
        .bind(at(0, &format!("{hh}:00")))
        .fetch_optional(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_day_worked_out_by_the_hour_adds_up_to_the_day_worked_out_whole(pool: PgPool) {
    let app = TestApp::new(pool).await;
    script(&app).await;
    // Half an hour into the next day, the scripted day is yesterday: worked out by the hour.
    let now = at(1, "00:30");
    assert!(
        hours::work_out_by_the_hour(&app.pool, day(), now)
            .await
            .unwrap()
    );
    let by_the_hour = report(&app, 0, 0, None).await.total;
    assert_eq!(by_the_hour.customer_messages, 5);
    assert_eq!(by_the_hour.response_times.count(), 3);

    assert!(
        rollup::work_out(&app.pool, day(), Part::All, now)
            .await
            .unwrap()
    );
    assert_eq!(report(&app, 0, 0, None).await.total, by_the_hour);
}

#[sqlx::test]
async fn today_is_worked_out_again_only_in_the_hours_that_changed(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (ana, ben, template) = script(&app).await;
    // B, whose message of 08:00 went unanswered, is sent a template at 16:10.
    let b = ConversationId::new(
        app.scalar::<i64>(
            "select c.id from conversations c join contacts k on k.id = c.contact_id
             where k.wa_id = '3510002'",
        )
        .await,
    );
    say(
        &app.pool,
        b,
        at(0, "16:10"),
        Said::Template(ben, template, "delivered"),
    )
    .await;
    let now = at(0, "18:30");
    // Two days of history, yesterday by the hour, and today by the hour.
    assert_eq!(rollup::catch_up(&app.pool, now).await.unwrap(), 3);
    assert_eq!(report(&app, 0, 0, None).await.total.customer_messages, 5);
    assert_eq!(hour_worked_out_at(&app, "09").await, Some(now));
    assert_eq!(hour_worked_out_at(&app, "19").await, None, "not begun");

    // B answers in the hour going on: that hour is worked out again, and the deliveries of the
    // template's hour (it was answered).
    let replied = |figures: &switchboard::domain::reports::figures::DayFigures| {
        figures.templates[&template.get()].replied
    };
    let first = report(&app, 0, 0, None).await.total;
    say(&app.pool, b, at(0, "18:40"), Said::Customer).await;
    let later = now + TimeDelta::minutes(1);
    assert_eq!(rollup::catch_up(&app.pool, later).await.unwrap(), 1);
    let answered = report(&app, 0, 0, None).await.total;
    assert_eq!(answered.customer_messages, 6);
    assert_eq!((replied(&first), replied(&answered)), (1, 2));
    assert_eq!(hour_worked_out_at(&app, "18").await, Some(later));
    assert_eq!(hour_worked_out_at(&app, "16").await, Some(later));
    assert_eq!(hour_worked_out_at(&app, "09").await, Some(now));

    // A read receipt for A's 09:20 reply: that hour's deliveries are counted again.
    let before = report(&app, 0, 0, None).await.total;
    sqlx::query(
        "with read as (
             update messages set status = 'read'
             where status = 'delivered' and template_id is null returning *
         )
         insert into message_statuses (tenant_id, phone_number_id, wamid, status, meta_timestamp,
                                       raw, received_at)
         select tenant_id, phone_number_id, wamid, 'read', now(), '{}', $1 from read",
    )
    .bind(later + TimeDelta::seconds(5))
    .execute(&app.pool)
    .await
    .unwrap();
    let again = later + TimeDelta::minutes(1);
    assert_eq!(rollup::catch_up(&app.pool, again).await.unwrap(), 1);
    let after = report(&app, 0, 0, None).await.total;
    assert_eq!((before.read, after.read), (1, 2));
    assert_eq!(after.response_times, before.response_times);
    assert_eq!(hour_worked_out_at(&app, "09").await, Some(again));
    assert_eq!(hour_worked_out_at(&app, "12").await, Some(now));

    // A's 12:00 reply fails after all: no longer a reply, so its hour is worked out whole.
    sqlx::query(
        "with failed as (
             update messages set status = 'failed', error_code = 131026 where sent_at = $1
             returning *
         )
         insert into message_statuses (tenant_id, phone_number_id, wamid, status, meta_timestamp,
                                       raw, received_at)
         select tenant_id, phone_number_id, wamid, 'failed', now(), '{}', $2 from failed",
    )
    .bind(at(0, "12:00"))
    .bind(again + TimeDelta::seconds(10))
    .execute(&app.pool)
    .await
    .unwrap();
    let last = again + TimeDelta::minutes(1);
    assert_eq!(rollup::catch_up(&app.pool, last).await.unwrap(), 1);
    let failed = report(&app, 0, 0, None).await.total;
    assert_eq!(failed.failed, after.failed + 1);
    assert_eq!(
        failed.agents[&ana.get()].replies,
        after.agents[&ana.get()].replies - 1
    );
    assert_eq!(hour_worked_out_at(&app, "12").await, Some(last));
    assert_eq!(hour_worked_out_at(&app, "09").await, Some(again));

    // An hour later, besides the hours going on and just ended, the hour worked out longest ago
    // is worked out again, whole (one a run): what no sign points to is in within about an hour.
    let hour_later = at(0, "19:40");
    assert_eq!(rollup::catch_up(&app.pool, hour_later).await.unwrap(), 1);
    assert_eq!(hour_worked_out_at(&app, "00").await, Some(hour_later));
    assert_eq!(hour_worked_out_at(&app, "18").await, Some(hour_later));
    assert_eq!(hour_worked_out_at(&app, "19").await, Some(hour_later));
    assert_eq!(hour_worked_out_at(&app, "01").await, Some(now));

    // Two days later the day, last worked out before it had settled, is worked out whole as any
    // past day, and its hours are forgotten.
    assert!(rollup::catch_up(&app.pool, at(2, "12:00")).await.unwrap() > 0);
    assert_eq!(hour_worked_out_at(&app, "09").await, None);
    let old_hours: i64 = sqlx::query_scalar("select count(*) from report_hours where hour < $1")
        .bind(at(1, "00:00"))
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(old_hours, 0);
    assert_eq!(report(&app, 0, 0, None).await.total, failed);
}
