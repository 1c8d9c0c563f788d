//! The operator CLI, run as the real binary against the test's database.

use std::process::Output;

use tokio::process::Command;

use sqlx::PgPool;

use crate::helpers::*;

mod apikeys;
mod sandbox;

#[derive(Clone)]
pub(crate) struct Cli {
    database_url: String,
    dir: std::path::PathBuf,
}

impl Cli {
    pub(crate) fn new(pool: &PgPool) -> Self {
        let db = pool.connect_options().get_database().unwrap().to_owned();
        let base = std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/x".into());
        let base = base.rsplit_once('/').unwrap().0;
        let dir = std::env::temp_dir().join(format!("switchboard-cli-{db}"));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            database_url: format!("{base}/{db}"),
            dir,
        }
    }

    /// Runs the binary (asynchronously: the test's server must keep answering meanwhile).
    pub(crate) async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.command(args, env).output().await.unwrap()
    }

    /// The binary with `args`, against the test's database, ready to run.
    pub(crate) fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        command
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("DATABASE_URL", &self.database_url)
            .env(
                "SECRET_KEY",
                "cli test secret key, thirty-two chars or more",
            )
            .env("PUBLIC_URL", "https://inbox.acme.test")
            .env("RUST_LOG", "warn");
        for (key, value) in env {
            command.env(key, value);
        }
        command
    }
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const SECRETS: [(&str, &str); 3] = [
    ("META_APP_SECRET", "s3cret-app"),
    ("META_ACCESS_TOKEN", "EAAG-token-xyz"),
    ("META_VERIFY_TOKEN", "verify-me"),
];

#[sqlx::test]
async fn tenant_create_prints_the_slug_alone(pool: PgPool) {
    let cli = Cli::new(&pool);
    let output = cli
        .run(&["tenant", "create", "--name", "Acme Support"], &[])
        .await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "acme-support\n");
    let again = cli
        .run(&["tenant", "create", "--name", "Acme Support"], &[])
        .await;
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"));
}

#[sqlx::test]
async fn number_add_creates_the_app_once_and_prints_what_meta_needs(pool: PgPool) {
    let cli = Cli::new(&pool);
    cli.run(&["tenant", "create", "--name", "Acme Support"], &[])
        .await;
    let add = async |pnid: &str, env: &[(&str, &str)]| {
        cli.run(
            &[
                "number",
                "add",
                "--tenant",
                "acme-support",
                "--app-id",
                "1234567890",
                "--phone-number-id",
                pnid,
                "--waba-id",
                "102290129340398",
                "--display-phone",
                "+1 555 078 3881",
            ],
            env,
        )
        .await
    };
    let output = add("106540352242922", &SECRETS).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("https://inbox.acme.test/webhooks/whatsapp/1234567890"),
        "{out}"
    );
    assert!(out.contains("verify-me"), "{out}");

    let second = add("106540352242923", &[("META_ACCESS_TOKEN", "EAAG-other")]).await;
    assert!(
        second.status.success(),
        "the app is reused: {}",
        stderr(&second)
    );
    let apps: i64 = sqlx::query_scalar("select count(*) from meta_apps")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(apps, 1);

    let duplicate = add("106540352242922", &SECRETS).await;
    assert!(!duplicate.status.success());
    assert_eq!(
        stderr(&duplicate).trim().lines().count(),
        1,
        "one clear line: {}",
        stderr(&duplicate)
    );
    assert!(stderr(&duplicate).contains("already registered"));

    // Secrets are sealed at rest: the plaintext appears nowhere in the rows.
    let sealed: Vec<Vec<u8>> = sqlx::query_scalar(
        "select app_secret_encrypted from meta_apps union all select verify_token_encrypted from meta_apps
         union all select access_token_encrypted from phone_numbers",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    for secret in ["s3cret-app", "verify-me", "EAAG-token-xyz"] {
        assert!(
            sealed
                .iter()
                .all(|s| !s.windows(secret.len()).any(|w| w == secret.as_bytes()))
        );
    }
}

async fn add_number(cli: &Cli, tenant: &str, env: &[(&str, &str)]) -> Output {
    let args = [
        "number",
        "add",
        "--tenant",
        tenant,
        "--app-id",
        "1",
        "--phone-number-id",
        "2",
        "--waba-id",
        "3",
    ];
    cli.run(&args, env).await
}

#[sqlx::test]
async fn cli_errors_are_one_clear_line_and_a_failing_exit(pool: PgPool) {
    let cli = Cli::new(&pool);
    let unknown = add_number(&cli, "nope", &SECRETS).await;
    assert!(!unknown.status.success());
    assert_eq!(stderr(&unknown).trim(), "error: unknown tenant \"nope\"");

    cli.run(&["tenant", "create", "--name", "Acme"], &[]).await;
    let no_token = add_number(&cli, "acme", &[]).await;
    assert!(!no_token.status.success());
    assert!(stderr(&no_token).contains("META_ACCESS_TOKEN is not set"));
    let no_secret = add_number(&cli, "acme", &[("META_ACCESS_TOKEN", "t")]).await;
    assert!(!no_secret.status.success());
    assert!(stderr(&no_secret).contains("META_APP_SECRET"));
}

#[sqlx::test]
async fn number_add_refuses_an_app_id_that_meta_could_not_have_issued(pool: PgPool) {
    let cli = Cli::new(&pool);
    cli.run(&["tenant", "create", "--name", "Acme"], &[]).await;
    let args = [
        "number",
        "add",
        "--tenant",
        "acme",
        "--app-id",
        "my-app",
        "--phone-number-id",
        "2",
        "--waba-id",
        "3",
    ];
    let output = cli.run(&args, &SECRETS).await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("\"my-app\" is not a Meta App ID"),
        "{}",
        stderr(&output)
    );
    let apps: i64 = sqlx::query_scalar("select count(*) from meta_apps")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(apps, 0);
}

#[sqlx::test]
async fn user_create_stores_an_argon2_hash_of_the_password(pool: PgPool) {
    let cli = Cli::new(&pool);
    cli.run(&["tenant", "create", "--name", "Acme"], &[]).await;
    let output = cli
        .run(
            &[
                "user",
                "create",
                "--tenant",
                "acme",
                "--email",
                "ana@acme.test",
                "--role",
                "admin",
            ],
            &[("SWITCHBOARD_PASSWORD", "correct horse battery")],
        )
        .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let (role, hash): (String, String) = sqlx::query_as("select role, password_hash from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(role, "admin");
    assert!(hash.starts_with("$argon2id$") && !hash.contains("correct horse"));
    let without = cli
        .run(
            &[
                "user",
                "create",
                "--tenant",
                "acme",
                "--email",
                "bo@acme.test",
                "--role",
                "agent",
            ],
            &[],
        )
        .await;
    assert!(!without.status.success());
    assert!(stderr(&without).contains("SWITCHBOARD_PASSWORD"));
}

#[sqlx::test]
async fn webhooks_replay_reports_what_it_replayed(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    app.deliver(messages_webhook(
        vec![text("wamid.1", 1_700_000_000, "hi")],
        vec![],
    ))
    .await;
    app.deliver("{broken").await;
    let cli = Cli::new(&pool);
    let output = cli.run(&["webhooks", "replay", "--failed"], &[]).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "Replayed 1 event(s): 1 failed");
    let listed = cli.run(&["webhooks", "list", "--failed"], &[]).await;
    assert!(stdout(&listed).contains("not a WhatsApp webhook notification"));
}

#[sqlx::test]
async fn production_refuses_to_start_without_a_secret_key(pool: PgPool) {
    let cli = Cli::new(&pool);
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    let output = command
        .arg("migrate")
        .current_dir(&cli.dir)
        .env_clear()
        .env("DATABASE_URL", &cli.database_url)
        .env("SWITCHBOARD_ENV", "production")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("SECRET_KEY must be set"));
}

#[sqlx::test]
async fn contact_show_tells_the_window_and_the_opt_out(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let cli = Cli::new(&pool);
    let show = async || {
        let output = cli
            .run(
                &[
                    "contact",
                    "show",
                    "--number",
                    PHONE_NUMBER_ID,
                    "--phone",
                    "+1 555 000 1111",
                ],
                &[],
            )
            .await;
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };
    assert!(show().await.contains("No conversation"));

    let now = chrono::Utc::now().timestamp();
    app.deliver(messages_webhook(
        vec![text("wamid.1", now - 3600, "Hi")],
        vec![],
    ))
    .await;
    let shown = show().await;
    assert!(
        shown.contains("Dana") && shown.contains("Window: open until"),
        "{shown}"
    );
    assert!(shown.contains("Marketing: subscribed"), "{shown}");

    app.deliver(messages_webhook(
        vec![text("wamid.2", now - 60, "STOP")],
        vec![],
    ))
    .await;
    assert!(show().await.contains("Marketing: opted out"));

    sqlx::query("update conversations set last_customer_message_at = now() - interval '2 days'")
        .execute(&pool)
        .await
        .unwrap();
    assert!(show().await.contains("Window: closed since"));
}

#[sqlx::test]
async fn number_limit_sets_the_messages_per_second(pool: PgPool) {
    let _app = TestApp::new(pool.clone()).await;
    let cli = Cli::new(&pool);
    let output = cli
        .run(
            &[
                "number",
                "limit",
                "--phone-number-id",
                PHONE_NUMBER_ID,
                "--per-second",
                "250",
            ],
            &[],
        )
        .await;
    assert!(output.status.success(), "{}", stderr(&output));
    let limit: i32 = sqlx::query_scalar("select max_messages_per_second from phone_numbers")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(limit, 250);
    let zero = cli
        .run(
            &[
                "number",
                "limit",
                "--phone-number-id",
                PHONE_NUMBER_ID,
                "--per-second",
                "0",
            ],
            &[],
        )
        .await;
    assert!(!zero.status.success());
}

#[sqlx::test]
async fn contact_erase_asks_for_confirmation_then_erases(pool: PgPool) {
    let app = TestApp::new(pool.clone()).await;
    let cli = Cli::new(&pool);
    let now = chrono::Utc::now().timestamp();
    app.deliver(messages_webhook(
        vec![text("wamid.1", now - 60, "My address is 1 Elm St")],
        vec![],
    ))
    .await;
    let erase = async |confirm: bool| {
        let mut args = vec![
            "contact",
            "erase",
            "--number",
            PHONE_NUMBER_ID,
            "--phone",
            "+1 555 000 1111",
        ];
        if confirm {
            args.push("--yes");
        }
        cli.run(&args, &[]).await
    };
    let refused = erase(false).await;
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--yes"), "{}", stderr(&refused));
    assert_eq!(
        app.scalar::<i64>("select count(*) from contacts where erased_at is not null")
            .await,
        0
    );
    let erased = erase(true).await;
    assert!(erased.status.success(), "{}", stderr(&erased));
    assert!(
        stdout(&erased).contains("1 conversation(s), 1 message(s)"),
        "{}",
        stdout(&erased)
    );
    assert_eq!(
        app.scalar::<i64>("select count(*) from messages where body like '%Elm%'")
            .await,
        0
    );
    let again = erase(true).await;
    assert!(!again.status.success(), "nobody left to erase");
}
