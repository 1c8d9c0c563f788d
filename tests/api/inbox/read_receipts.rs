//! Read receipts at Meta: sent when an agent opens a conversation, only for numbers that say so.

use std::time::Duration;

use sqlx::PgPool;
use switchboard::domain::{ids::NumberId, numbers};

use super::*;

/// The sandbox's calls that mark a message read (sends would also POST to `/messages`, but none
/// are made here).
fn receipts(app: &TestApp) -> usize {
    app.sandbox
        .as_ref()
        .expect("the sandbox is on")
        .calls()
        .into_iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/messages") && c.status == 200)
        .count()
}

#[sqlx::test]
async fn opening_a_conversation_marks_it_read_at_meta_only_where_the_number_says_so(pool: PgPool) {
    let app = TestApp::new(pool).await;
    sqlx::query("update phone_numbers set sandbox = true")
        .execute(&app.pool)
        .await
        .unwrap();
    user(&app, app.tenant_id, "ana@acme.test", "Ana").await;
    let conversation = customer_writes(&app, "wamid.one", "Hello", 1).await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;

    // Off by default: opening it tells Meta nothing.
    ana.get(&format!("/inbox/conversations/{conversation}"))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receipts(&app), 0);

    let number: i64 = app.scalar("select id from phone_numbers limit 1").await;
    let mut conn = app.pool.acquire().await.unwrap();
    numbers::set_read_receipts(&mut conn, app.tenant_id, None, NumberId::new(number), true)
        .await
        .unwrap();
    drop(conn);
    customer_writes(&app, "wamid.two", "Are you there?", 0).await;
    ana.get(&format!("/inbox/conversations/{conversation}"))
        .await;
    for _ in 0..100 {
        if receipts(&app) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        receipts(&app),
        1,
        "{:?}",
        app.sandbox.as_ref().unwrap().calls()
    );

    // Opening it again, with nothing new, sends nothing more.
    ana.get(&format!("/inbox/conversations/{conversation}"))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receipts(&app), 1);
}
