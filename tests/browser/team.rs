//! The admin console's team page in a real browser: an admin invites an agent, the agent joins
//! with the one-time link, and the admin deactivates them, which signs them out at once.

use sqlx::PgPool;

use crate::{
    driver::Browser,
    helpers::{inbox::*, *},
};

#[sqlx::test]
async fn an_admin_invites_an_agent_who_joins_and_is_later_deactivated(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ada@acme.test", "Ada Admin").await;
    sqlx::query("update users set role = 'admin'")
        .execute(&app.pool)
        .await
        .unwrap();
    let (Some(admin), Some(newcomer)) = (Browser::launch(&app).await, Browser::launch(&app).await)
    else {
        return;
    };
    let link = std::cell::RefCell::new(String::new());
    admin
        .run(async |browser| {
            browser.sign_in("ada@acme.test").await;
            browser.click("[data-testid=admin-link]").await;
            browser.wait_for_path("/admin/numbers").await;
            browser
                .click("nav[aria-label=Admin] a[href='/admin/team']")
                .await;
            browser.wait_for_path("/admin/team").await;
            browser.fill("#invite-email", "bo@acme.test").await;
            browser.fill("#invite-name", "Bo Chen").await;
            browser
                .click("form[action='/admin/team/invite'] button[type=submit]")
                .await;
            let shown = browser.find("[data-testid=one-time-link]").await;
            *link.borrow_mut() = shown.attr("value").await.unwrap().unwrap();
        })
        .await;
    let link = link.into_inner();
    let path = link
        .split_once("/account/")
        .map(|(_, token)| format!("/account/{token}"));
    let path = path.expect("the link leads to /account/…");
    newcomer
        .run(async |browser| {
            browser.open(&path).await;
            browser.wait_for_text("h1", "Welcome, Bo Chen").await;
            browser.fill("#password", "a long enough secret").await;
            browser.click("button[type=submit]").await;
            browser.wait_for_path("/inbox").await;
            assert!(browser.text(".me").await.contains("Bo Chen"));
            assert_eq!(browser.count("[data-testid=admin-link]").await, 0);
        })
        .await;
    let admin = Browser::launch(&app).await.expect("a second admin window");
    admin
        .run(async |browser| {
            browser.sign_in("ada@acme.test").await;
            browser.open("/admin/team").await;
            let bo = "[data-testid=member][data-email='bo@acme.test']";
            browser
                .wait_for_text(&format!("{bo} [data-testid=member-status]"), "Online")
                .await;
            browser.click(&format!("{bo} [data-testid=access]")).await;
            browser
                .wait_for_text(&format!("{bo} [data-testid=member-status]"), "Deactivated")
                .await;
        })
        .await;
    let sessions: i64 = app
        .scalar("select count(*) from sessions s join users u on u.id = s.user_id where u.email = 'bo@acme.test'")
        .await;
    assert_eq!(sessions, 0);
}
