//! The admin's reports in a real browser, over a seeded tenant whose days the background job has
//! worked out: the figures and charts show, a ready-made period and a number narrow them, and each
//! table offers its CSV.

use secrecy::SecretString;
use sqlx::PgPool;
use switchboard::{
    domain::reports::rollup,
    seed::{self, SeedPlan},
};

use crate::{
    driver::Browser,
    helpers::{inbox::PASSWORD, *},
};

/// Seeds a tenant (`agent1@reports.example` is its admin) with four months of conversations on
/// two numbers, and works out its days.
pub async fn a_seeded_tenant(app: &TestApp) {
    let plan = SeedPlan {
        tenant: "reports".to_owned(),
        conversations: 1_500,
        messages: 12_000,
        numbers: 2,
        agents: 4,
        password: SecretString::from(PASSWORD),
    };
    seed::seed(&app.pool, &app.config.secret_key.cipher(), &plan, |_, _| {})
        .await
        .unwrap();
    let now = chrono::Utc::now();
    while rollup::catch_up(&app.pool, now).await.unwrap() > 0 {}
}

#[sqlx::test]
async fn an_admin_reads_the_reports_and_narrows_them(pool: PgPool) {
    let app = TestApp::new(pool).await;
    a_seeded_tenant(&app).await;
    let Some(browser) = Browser::launch(&app).await else {
        return;
    };
    browser
        .run(async |browser| {
            browser.sign_in("agent1@reports.example").await;
            browser.click("[data-testid=admin-link]").await;
            browser
                .click("nav[aria-label=Admin] a[href='/admin/reports']")
                .await;
            browser.wait_for_path("/admin/reports").await;
            let opened: i64 = browser.text("[data-testid=opened]").await.parse().unwrap();
            assert!(opened > 0, "conversations were opened in 30 days");
            let closed: i64 = browser
                .text("[data-testid=closed-unanswered]")
                .await
                .parse()
                .unwrap();
            assert!(closed > 0, "the seed leaves some customers unanswered");
            assert!(
                browser
                    .text("[data-testid=response-median]")
                    .await
                    .contains(' ')
            );
            assert!(browser.count("figure.chart svg rect").await > 10);
            assert!(browser.count("[data-testid=report-agent]").await >= 4);

            // Last 7 days: fewer conversations than in 30.
            browser.click(".presets a:first-child").await;
            browser
                .wait_until("the last 7 days", async || {
                    browser.path().await.contains("from=")
                })
                .await;
            let week: i64 = browser.text("[data-testid=opened]").await.parse().unwrap();
            assert!(week <= opened);

            // One number: its share of the week.
            browser
                .eval::<()>(
                    "const s = document.querySelector('#report-number'); s.selectedIndex = 1;",
                )
                .await;
            browser
                .click("[data-testid=report-period] button[type=submit]")
                .await;
            browser
                .wait_until("one number", async || {
                    browser.path().await.contains("number=")
                })
                .await;
            let one: i64 = browser.text("[data-testid=opened]").await.parse().unwrap();
            assert!(one <= week);
            let export = browser
                .find("[data-testid=export-days]")
                .await
                .attr("href")
                .await
                .unwrap()
                .unwrap();
            assert!(
                export.contains("table=days") && export.contains("number="),
                "{export}"
            );
        })
        .await;
}
