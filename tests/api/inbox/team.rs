//! The admin console's team page: invitations and password resets by one-time link, roles,
//! deactivation that ends sessions at once; admins only, and only their own tenant's members.

use axum::http::StatusCode;
use sqlx::PgPool;

use super::*;

/// An admin of the test tenant, signed in, and an agent beside them.
async fn admin_and_agent(app: &TestApp) -> (Client<'_>, UserId) {
    user(app, app.tenant_id, "ada@acme.test", "Ada Admin").await;
    sqlx::query("update users set role = 'admin' where email = 'ada@acme.test'")
        .execute(&app.pool)
        .await
        .unwrap();
    let agent = user(app, app.tenant_id, "ana@acme.test", "Ana Lima").await;
    (Client::signed_in(app, "ada@acme.test").await, agent)
}

/// The path of the one-time link a page shows.
fn link_path(page: &str) -> String {
    let start = page.find("/account/").expect("a one-time link on the page");
    page[start..].split('"').next().unwrap().to_owned()
}

async fn audited(app: &TestApp, action: &str) -> i64 {
    app.scalar(&format!(
        "select count(*) from audit_log where action = '{action}'"
    ))
    .await
}

#[sqlx::test]
async fn agents_are_refused_the_console(pool: PgPool) {
    let app = TestApp::new(pool).await;
    user(&app, app.tenant_id, "ana@acme.test", "Ana Lima").await;
    let mut agent = Client::signed_in(&app, "ana@acme.test").await;
    assert_eq!(agent.get("/admin/team").await.status, StatusCode::FORBIDDEN);
    let csrf = agent.csrf().await;
    let invite = agent
        .post_form(
            "/admin/team/invite",
            &[
                ("email", "eve@acme.test"),
                ("name", "Eve"),
                ("role", "admin"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(invite.status, StatusCode::FORBIDDEN);
    let users: i64 = app.scalar("select count(*) from users").await;
    assert_eq!(users, 1);
    assert!(
        !agent
            .get("/inbox")
            .await
            .body
            .contains(r#"data-testid="admin-link""#)
    );
}

#[sqlx::test]
async fn an_invited_member_joins_with_the_link_once(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (mut admin, _) = admin_and_agent(&app).await;
    let csrf = admin.csrf().await;
    let without_token = admin
        .post_form(
            "/admin/team/invite",
            &[("email", "bo@acme.test"), ("role", "agent")],
        )
        .await;
    assert_eq!(without_token.status, StatusCode::FORBIDDEN);

    let invited = admin
        .post_form(
            "/admin/team/invite",
            &[
                ("email", "bo@acme.test"),
                ("name", "Bo Chen"),
                ("role", "agent"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(invited.status, StatusCode::OK, "{}", invited.body);
    let link = link_path(&invited.body);
    let team = admin.get("/admin/team").await;
    assert!(
        team.body.contains("Bo Chen") && team.body.contains("Invited"),
        "{}",
        team.body
    );
    // Until the invitation is accepted, nobody can sign in as the new member.
    let mut guess = Client::new(&app);
    assert_eq!(
        guess.sign_in("bo@acme.test", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );

    let mut bo = Client::new(&app);
    let page = bo.get(&link).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Welcome, Bo Chen"), "{}", page.body);
    let csrf = field(&page.body, "csrf");
    let short = bo
        .post_form(&link, &[("password", "short"), ("csrf", &csrf)])
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short.body.contains("at least 10 characters"),
        "{}",
        short.body
    );
    let csrf = field(&short.body, "csrf");
    let joined = bo
        .post_form(
            &link,
            &[("password", "a long enough secret"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(joined.status, StatusCode::SEE_OTHER, "{}", joined.body);
    assert_eq!(joined.location(), "/inbox");
    let inbox = bo.get("/inbox").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains("Bo Chen"));

    assert_eq!(
        Client::new(&app).get(&link).await.status,
        StatusCode::NOT_FOUND
    );
    let mut again = Client::new(&app);
    let signed_in = again.sign_in("bo@acme.test", "a long enough secret").await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert_eq!(audited(&app, "user.invite").await, 1);
    assert_eq!(audited(&app, "user.invite_accepted").await, 1);
    let role: String = app
        .scalar("select role from users where email = 'bo@acme.test'")
        .await;
    assert_eq!(role, "agent");
}

#[sqlx::test]
async fn an_address_already_in_use_is_refused_beside_its_field(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (mut admin, _) = admin_and_agent(&app).await;
    let csrf = admin.csrf().await;
    let taken = admin
        .post_form(
            "/admin/team/invite",
            &[
                ("email", "ANA@acme.test"),
                ("name", "Ana"),
                ("role", "agent"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        taken.body.contains("already has an account"),
        "{}",
        taken.body
    );
    let links: i64 = app.scalar("select count(*) from account_links").await;
    assert_eq!(links, 0);
}

#[sqlx::test]
async fn a_deactivated_member_is_signed_out_at_once_and_cannot_sign_in(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (mut admin, agent) = admin_and_agent(&app).await;
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    let csrf = admin.csrf().await;

    let deactivated = admin
        .post_form(
            &format!("/admin/team/{agent}/access"),
            &[("active", "false"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        deactivated.status,
        StatusCode::SEE_OTHER,
        "{}",
        deactivated.body
    );
    let next = ana.get("/inbox").await;
    assert_eq!(next.status, StatusCode::SEE_OTHER);
    assert!(next.location().starts_with("/login"), "{}", next.location());
    let refused = Client::new(&app).sign_in("ana@acme.test", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused.body.contains("do not match an account"),
        "{}",
        refused.body
    );
    assert!(admin.get("/admin/team").await.body.contains("Deactivated"));

    let activated = admin
        .post_form(
            &format!("/admin/team/{agent}/access"),
            &[("active", "true"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(activated.status, StatusCode::SEE_OTHER);
    Client::signed_in(&app, "ana@acme.test").await;
    assert_eq!(audited(&app, "user.deactivate").await, 1);
    assert_eq!(audited(&app, "user.reactivate").await, 1);
}

#[sqlx::test]
async fn a_reset_link_sets_a_new_password_and_ends_the_old_sessions(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (mut admin, agent) = admin_and_agent(&app).await;
    let mut old_session = Client::signed_in(&app, "ana@acme.test").await;
    let csrf = admin.csrf().await;
    let first = admin
        .post_form(&format!("/admin/team/{agent}/reset"), &[("csrf", &csrf)])
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let voided = link_path(&first.body);
    let second = admin
        .post_form(&format!("/admin/team/{agent}/reset"), &[("csrf", &csrf)])
        .await;
    let link = link_path(&second.body);
    assert_eq!(
        Client::new(&app).get(&voided).await.status,
        StatusCode::NOT_FOUND
    );
    // The old password works until the link is used.
    Client::signed_in(&app, "ana@acme.test").await;

    let mut ana = Client::new(&app);
    let page = ana.get(&link).await;
    assert!(
        page.body.contains("A new password for Ana Lima"),
        "{}",
        page.body
    );
    let csrf = field(&page.body, "csrf");
    let saved = ana
        .post_form(
            &link,
            &[("password", "another long secret"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(ana.get("/inbox").await.status, StatusCode::OK);
    assert_eq!(
        old_session.get("/inbox").await.status,
        StatusCode::SEE_OTHER
    );
    let old = Client::new(&app).sign_in("ana@acme.test", PASSWORD).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    Client::new(&app)
        .sign_in("ana@acme.test", "another long secret")
        .await;
    assert_eq!(audited(&app, "user.password_reset").await, 1);
}

#[sqlx::test]
async fn roles_change_but_never_an_admins_own(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (mut admin, agent) = admin_and_agent(&app).await;
    let me: UserId = app
        .scalar("select id from users where email = 'ada@acme.test'")
        .await;
    let csrf = admin.csrf().await;
    let promoted = admin
        .post_form(
            &format!("/admin/team/{agent}/role"),
            &[("role", "admin"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(promoted.status, StatusCode::SEE_OTHER);
    let role: String = app
        .scalar(&format!("select role from users where id = {agent}"))
        .await;
    assert_eq!(role, "admin");
    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    assert_eq!(ana.get("/admin/team").await.status, StatusCode::OK);

    for (path, field_value) in [("role", ("role", "agent")), ("access", ("active", "false"))] {
        let own = admin
            .post_form(
                &format!("/admin/team/{me}/{path}"),
                &[field_value, ("csrf", &csrf)],
            )
            .await;
        assert_eq!(own.status, StatusCode::CONFLICT, "{path}: {}", own.body);
    }
    let role: String = app
        .scalar(&format!("select role from users where id = {me}"))
        .await;
    assert_eq!(role, "admin");
    assert_eq!(audited(&app, "user.role").await, 1);
}

#[sqlx::test]
async fn another_tenants_members_are_not_found(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (mut admin, _) = admin_and_agent(&app).await;
    let (other_tenant, _) = app.add_tenant("Globex", "999000111", "globex").await;
    let foreign = user(&app, other_tenant, "gil@globex.test", "Gil").await;
    let csrf = admin.csrf().await;
    let attempts = [
        (
            format!("/admin/team/{foreign}/reset"),
            vec![("csrf", csrf.as_str())],
        ),
        (
            format!("/admin/team/{foreign}/access"),
            vec![("active", "false"), ("csrf", csrf.as_str())],
        ),
        (
            format!("/admin/team/{foreign}/role"),
            vec![("role", "admin"), ("csrf", csrf.as_str())],
        ),
    ];
    for (path, fields) in attempts {
        let answer = admin.post_form(&path, &fields).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
    }
    let team = admin.get("/admin/team").await;
    assert!(!team.body.contains("gil@globex.test"));
    let (role, deactivated, links): (String, bool, i64) = sqlx::query_as(
        "select role, deactivated_at is not null,
                (select count(*) from account_links where user_id = users.id)
         from users where id = $1",
    )
    .bind(foreign)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((role.as_str(), deactivated, links), ("agent", false, 0));
    Client::signed_in(&app, "gil@globex.test").await;
}

#[sqlx::test]
async fn the_audit_trail_shows_this_tenants_entries_by_kind_a_page_at_a_time(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (mut admin, agent) = admin_and_agent(&app).await;
    let (other_tenant, _) = app.add_tenant("Globex", "999000111", "globex").await;
    sqlx::query("insert into audit_log (tenant_id, action, details) values ($1, 'user.role', '{\"secretive\": \"globex\"}')")
        .bind(other_tenant)
        .execute(&app.pool)
        .await
        .unwrap();
    // Sixty older entries, so that the trail takes two pages.
    sqlx::query(
        "insert into audit_log (tenant_id, action, details)
         select $1, 'number.limit', jsonb_build_object('n', g) from generate_series(1, 60) g",
    )
    .bind(app.tenant_id)
    .execute(&app.pool)
    .await
    .unwrap();
    let csrf = admin.csrf().await;
    admin
        .post_form(
            &format!("/admin/team/{agent}/role"),
            &[("role", "admin"), ("csrf", &csrf)],
        )
        .await;

    let first = admin.get("/admin/audit").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(
        first.body.matches(r#"data-testid="audit-entry""#).count(),
        50
    );
    let newest = first
        .body
        .find("user.role")
        .expect("the role change, first");
    assert!(newest < first.body.find("number.limit").unwrap());
    assert!(first.body.contains("Ada Admin") && first.body.contains("from: agent"));
    assert!(
        !first.body.contains("globex"),
        "another tenant's entry shows"
    );
    let older = first
        .body
        .split(r#"href="/admin/audit?"#)
        .nth(1)
        .expect("a link to older entries")
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    let second = admin.get(&format!("/admin/audit?{older}")).await;
    // The rest of the sixty, and the admin's sign-in before them.
    assert_eq!(
        second.body.matches(r#"data-testid="audit-entry""#).count(),
        12
    );
    assert!(second.body.contains("n: 1<") && !second.body.contains("user.role"));

    // The role change and the admin's sign-in.
    let members = admin.get("/admin/audit?kind=user.").await;
    assert_eq!(
        members.body.matches(r#"data-testid="audit-entry""#).count(),
        2
    );
    let none = admin.get("/admin/audit?kind=setup").await;
    assert!(
        none.body.contains("Nothing recorded of this kind"),
        "{}",
        none.body
    );

    let mut ana = Client::signed_in(&app, "ana@acme.test").await;
    sqlx::query("update users set role = 'agent' where id = $1")
        .bind(agent)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(ana.get("/admin/audit").await.status, StatusCode::FORBIDDEN);
}

#[sqlx::test]
async fn sign_ins_and_failed_ones_are_in_the_audit_trail(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (mut admin, _) = admin_and_agent(&app).await;
    let failed = Client::new(&app)
        .sign_in("ana@acme.test", "not the password")
        .await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    let unknown = Client::new(&app)
        .sign_in("nobody@acme.test", "whatever it is")
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);

    let trail = admin.get("/admin/audit?kind=user.").await;
    let rows: Vec<&str> = trail
        .body
        .split(r#"data-testid="audit-entry""#)
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 2, "{}", trail.body);
    assert!(rows[0].contains("user.sign_in_failed") && rows[0].contains("Ana Lima"));
    assert!(rows[1].contains("user.sign_in<") && rows[1].contains("Ada Admin"));
    assert!(rows.iter().all(|row| row.contains("ip: ")));
    assert!(!trail.body.contains("not the password"));
    // A failure for an address no account has goes to the operator's trail, no tenant's.
    assert_eq!(
        app.scalar::<i64>(
            "select count(*) from audit_log where tenant_id is null and action = 'user.sign_in_failed'"
        )
        .await,
        1
    );
}

#[sqlx::test]
async fn expired_links_are_pruned_and_live_ones_kept(pool: PgPool) {
    let app = TestApp::new(pool).await;
    admin_and_agent(&app).await;
    let admin: i64 = app
        .scalar("select id from users where email = 'ada@acme.test'")
        .await;
    let mut conn = app.pool.acquire().await.unwrap();
    for who in ["old@acme.test", "new@acme.test"] {
        switchboard::domain::accounts::invite(
            &mut conn,
            app.tenant_id,
            UserId::new(admin),
            who,
            "Someone",
            switchboard::domain::users::Role::Agent,
        )
        .await
        .unwrap()
        .unwrap();
    }
    sqlx::query(
        "update account_links l set expires_at = now() - interval '1 minute'
         from users u where u.id = l.user_id and u.email = 'old@acme.test'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let pruned = switchboard::domain::accounts::prune_links(&app.pool)
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    let left: String = app
        .scalar("select u.email from account_links l join users u on u.id = l.user_id")
        .await;
    assert_eq!(left, "new@acme.test");
}

#[sqlx::test]
async fn the_audit_trail_narrows_to_one_member(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let (mut admin, agent) = admin_and_agent(&app).await;
    // Ana signs in (her entry), Ada changes her role (Ada's entry).
    Client::signed_in(&app, "ana@acme.test").await;
    let csrf = admin.csrf().await;
    admin
        .post_form(
            &format!("/admin/team/{agent}/role"),
            &[("role", "admin"), ("csrf", &csrf)],
        )
        .await;
    let entries = |page: &str| -> Vec<String> {
        page.split(r#"data-testid="audit-entry""#)
            .skip(1)
            .map(|row| row[..row.find("</tr>").unwrap()].to_owned())
            .collect()
    };
    let hers = admin.get(&format!("/admin/audit?member={agent}")).await;
    let rows = entries(&hers.body);
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|row| row.contains("Ana Lima")), "{rows:?}");
    assert!(
        hers.body
            .contains(&format!(r#"<option value="{agent}" selected>"#))
    );
    let everyone = admin.get("/admin/audit").await;
    assert!(
        entries(&everyone.body)
            .iter()
            .any(|row| row.contains("Ada Admin"))
    );
    // Another tenant's member is no choice here: the page shows everyone.
    let (other, _) = app
        .add_tenant("Globex", "5555555555", "globex-secret")
        .await;
    let stranger = user(&app, other, "gus@globex.test", "Gus").await;
    let foreign = admin.get(&format!("/admin/audit?member={stranger}")).await;
    assert_eq!(entries(&foreign.body).len(), entries(&everyone.body).len());
}

#[sqlx::test]
async fn every_audited_action_records_where_it_came_from(pool: PgPool) {
    let app = TestApp::with_config(pool, |config| config.trust_proxy = true).await;
    let (mut admin, agent) = admin_and_agent(&app).await;
    let csrf = admin.csrf().await;
    let cookie = admin.cookie_header();
    let body = format!("role=admin&csrf={csrf}");
    let request = axum::http::Request::post(format!("/admin/team/{agent}/role"))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", "198.51.100.7, 203.0.113.9")
        .body(axum::body::Body::from(body))
        .unwrap();
    let (status, _) = app.request(request).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let ip: Option<String> = app
        .scalar("select ip from audit_log where action = 'user.role'")
        .await;
    assert_eq!(
        ip.as_deref(),
        Some("203.0.113.9"),
        "the address the proxy added"
    );
    let trail = admin.get("/admin/audit?kind=user.").await;
    assert!(
        trail
            .body
            .contains(r#"<td data-testid="audit-ip">203.0.113.9</td>"#)
    );
}
