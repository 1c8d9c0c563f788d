//! The reports page and its CSV exports, over the scripted day of `reports`: the tenant's
//! figures only, to admins only; another tenant's number is not found.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::{
    reports::{DAY, Said, at, conversation, say, script, work_out},
    *,
};

#[sqlx::test]
async fn the_page_and_its_exports_show_the_tenants_figures_to_admins_only(pool: PgPool) {
    let app = TestApp::new(pool).await;
    script(&app).await;
    // Another tenant's day, which must not show.
    let (globex, globex_app) = app
        .add_tenant("Globex", "5555555555", "globex-secret")
        .await;
    let globex_number = app
        .add_number(globex, globex_app, "9990001112223", "8880001112223", None)
        .await;
    let theirs = conversation(&app.pool, globex, globex_number, "3519999").await;
    say(&app.pool, theirs, at(0, "11:00"), Said::Customer).await;
    work_out(&app).await;

    let mut admin = signed_in_admin(&app).await;
    let query = format!("from={DAY}&to={DAY}");
    let page = admin.get(&format!("/admin/reports?{query}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let shown = |id: &str| {
        page.body
            .split(&format!(r#"data-testid="{id}">"#))
            .nth(1)
            .unwrap_or_else(|| panic!("no {id}"))
            .split('<')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(shown("closed-unanswered"), "1");
    assert_eq!(shown("opened"), "2", "Globex's customer is not counted");
    assert_eq!(shown("resolved"), "1");
    assert_eq!(shown("first-response-median"), "20 min");
    assert_eq!(shown("templates-after-window"), "1");
    assert_eq!(shown("delivery-rate"), "75.0\u{a0}%");
    assert!(page.body.contains("Ana Lima"));
    assert!(page.body.contains("order_update"));
    assert!(page.body.contains("Message undeliverable") || page.body.contains("131026"));
    assert!(page.body.contains("<svg"));

    let csv = admin
        .get(&format!("/admin/reports/export?table=agents&{query}"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let mut lines = csv.body.lines();
    assert_eq!(
        lines.next(),
        Some(
            "agent,replies,turns_answered,conversations_resolved,response_median_s,response_p90_s"
        )
    );
    let ana = lines.find(|l| l.starts_with("Ana Lima,")).unwrap();
    assert!(ana.starts_with("Ana Lima,2,2,1,"), "{ana}");
    let days = admin
        .get(&format!("/admin/reports/export?table=days&{query}"))
        .await;
    assert!(
        days.body
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("{DAY},5,2,1,2,1,1,"))
    );
    for table in ["failures", "templates", "quality"] {
        let export = admin
            .get(&format!("/admin/reports/export?table={table}&{query}"))
            .await;
        assert_eq!(export.status, StatusCode::OK, "{table}");
    }
    let audited: i64 = app
        .scalar("select count(*) from audit_log where action = 'report.export'")
        .await;
    assert_eq!(audited, 5);
    assert_eq!(
        admin
            .get(&format!("/admin/reports/export?table=secrets&{query}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Another tenant's number is not found, in the page and the exports.
    let foreign = format!("/admin/reports?{query}&number={globex_number}");
    assert_eq!(admin.get(&foreign).await.status, StatusCode::NOT_FOUND);
    let foreign = format!("/admin/reports/export?table=days&{query}&number={globex_number}");
    assert_eq!(admin.get(&foreign).await.status, StatusCode::NOT_FOUND);
    // A period that ends before it starts is explained.
    let backwards = admin
        .get("/admin/reports?from=2026-11-10&to=2026-11-01")
        .await;
    assert!(backwards.body.contains(r#"data-testid="report-problem""#));

    let mut agent = Client::signed_in(&app, "ana@acme.test").await;
    assert_eq!(
        agent.get("/admin/reports").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        agent.get("/admin/reports/export?table=days").await.status,
        StatusCode::FORBIDDEN
    );
}
