//! `switchboard dev seed`: consistent data at any size, that an agent can sign in to.

use secrecy::SecretString;
use sqlx::PgPool;
use switchboard::seed::{self, SeedPlan};

use crate::helpers::TestApp;

#[sqlx::test]
async fn seeded_conversations_agree_with_their_messages(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let plan = SeedPlan {
        tenant: "seeded".into(),
        conversations: 400,
        messages: 4_000,
        numbers: 3,
        agents: 4,
        password: SecretString::from("seeded password"),
    };
    let mut reports = Vec::new();
    let seeded = seed::seed(&app.pool, &app.config.cipher(), &plan, |c, m| {
        reports.push((c, m))
    })
    .await
    .unwrap();
    assert_eq!(seeded.conversations, 400);
    // The conversations are written first, then their messages.
    assert_eq!(reports.first(), Some(&(400, 0)));
    assert_eq!(reports.last(), Some(&(400, seeded.messages)));
    // About ten messages per conversation.
    assert!(
        (3_000..=5_000).contains(&seeded.messages),
        "{}",
        seeded.messages
    );
    let tenant: i64 = app
        .scalar("select id from tenants where slug = 'seeded'")
        .await;
    let count = |sql: &str| {
        let sql = sql.replace("$tenant", &tenant.to_string());
        let app = &app;
        async move { app.scalar::<i64>(&sql).await }
    };
    assert_eq!(
        count("select count(*) from conversations where tenant_id = $tenant").await,
        400
    );
    assert_eq!(
        count("select count(*) from messages where tenant_id = $tenant").await,
        seeded.messages
    );
    assert_eq!(
        count("select count(*) from phone_numbers where tenant_id = $tenant").await,
        3
    );
    assert_eq!(
        count("select count(*) from users where tenant_id = $tenant").await,
        4
    );

    // Every conversation's clocks are those of its messages.
    let disagreeing = count(
        "select count(*) from conversations c
         join lateral (select max(created_at) as last,
                              max(created_at) filter (where direction = 'inbound') as customer,
                              max(created_at) filter (where direction = 'outbound') as reply
                       from messages m where m.conversation_id = c.id) m on true
         where c.tenant_id = $tenant
           and (c.last_message_at <> m.last
                or c.last_customer_message_at is distinct from m.customer
                or c.last_reply_at is distinct from m.reply)",
    )
    .await;
    assert_eq!(disagreeing, 0);
    // Messages were written as they would have arrived: their ids in the order of their time.
    let out_of_order = count(
        "select count(*) from (select created_at,
                                      lag(created_at) over (order by id) as before
                               from messages where tenant_id = $tenant) m
         where created_at < before",
    )
    .await;
    assert_eq!(out_of_order, 0);
    // What the agents have read is their conversations' last message.
    let reads = count(
        "select count(*) from conversation_reads r
         join conversations c on c.id = r.conversation_id and c.tenant_id = $tenant
         where r.user_id = c.assignee_id
           and r.last_read_message_id = (select max(id) from messages m
                                         where m.conversation_id = c.id)",
    )
    .await;
    let assigned_closed = count(
        "select count(*) from conversations where tenant_id = $tenant
         and assignee_id is not null and status <> 'open'",
    )
    .await;
    assert!(
        reads >= assigned_closed && reads > 0,
        "{reads} < {assigned_closed}"
    );
    assert_eq!(
        reads,
        count(
            "select count(*) from conversation_reads r join conversations c on c.id = r.conversation_id
             where c.tenant_id = $tenant"
        )
        .await
    );
    // A spread of statuses, assignees and windows.
    for status in ["open", "pending", "resolved"] {
        let n = count(&format!(
            "select count(*) from conversations where tenant_id = $tenant and status = '{status}'"
        ))
        .await;
        assert!(n > 20, "{status}: {n}");
    }
    let unassigned = count(
        "select count(*) from conversations where tenant_id = $tenant and assignee_id is null",
    )
    .await;
    assert!((60..=200).contains(&unassigned), "{unassigned}");
    let open_windows = count(
        "select count(*) from conversations where tenant_id = $tenant
         and last_customer_message_at > now() - interval '24 hours'",
    )
    .await;
    assert!(open_windows > 10, "{open_windows}");
    let failed =
        count("select count(*) from messages where tenant_id = $tenant and status = 'failed'")
            .await;
    assert!(failed > 0);

    // A second run adds to the same tenant, reusing its agents.
    let again = SeedPlan {
        conversations: 10,
        messages: 10,
        ..plan
    };
    seed::seed(&app.pool, &app.config.cipher(), &again, |_, _| ())
        .await
        .unwrap();
    assert_eq!(
        count("select count(*) from conversations where tenant_id = $tenant").await,
        410
    );
    assert_eq!(
        count("select count(*) from users where tenant_id = $tenant").await,
        4
    );
}
