//! The operator CLI, run as the real binary against the test's database.

use std::process::{Command, Output};

use sqlx::PgPool;

use crate::helpers::*;

struct Cli {
    database_url: String,
    dir: std::path::PathBuf,
}

impl Cli {
    fn new(pool: &PgPool) -> Self {
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

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
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
        command.output().unwrap()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
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
    let output = cli.run(&["tenant", "create", "--name", "Acme Support"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "acme-support\n");
    let again = cli.run(&["tenant", "create", "--name", "Acme Support"], &[]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"));
}

#[sqlx::test]
async fn number_add_creates_the_app_once_and_prints_what_meta_needs(pool: PgPool) {
    let cli = Cli::new(&pool);
    cli.run(&["tenant", "create", "--name", "Acme Support"], &[]);
    let add = |pnid: &str, env: &[(&str, &str)]| {
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
    };
    let output = add("106540352242922", &SECRETS);
    assert!(output.status.success(), "{}", stderr(&output));
    let out = stdout(&output);
    assert!(
        out.contains("https://inbox.acme.test/webhooks/whatsapp/1234567890"),
        "{out}"
    );
    assert!(out.contains("verify-me"), "{out}");

    let second = add("106540352242923", &[("META_ACCESS_TOKEN", "EAAG-other")]);
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

    let duplicate = add("106540352242922", &SECRETS);
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

#[sqlx::test]
async fn cli_errors_are_one_clear_line_and_a_failing_exit(pool: PgPool) {
    let cli = Cli::new(&pool);
    let unknown = cli.run(
        &[
            "number",
            "add",
            "--tenant",
            "nope",
            "--app-id",
            "1",
            "--phone-number-id",
            "2",
            "--waba-id",
            "3",
        ],
        &SECRETS,
    );
    assert!(!unknown.status.success());
    assert_eq!(stderr(&unknown).trim(), "error: unknown tenant \"nope\"");

    cli.run(&["tenant", "create", "--name", "Acme"], &[]);
    let no_token = cli.run(
        &[
            "number",
            "add",
            "--tenant",
            "acme",
            "--app-id",
            "1",
            "--phone-number-id",
            "2",
            "--waba-id",
            "3",
        ],
        &[],
    );
    assert!(!no_token.status.success());
    assert!(stderr(&no_token).contains("META_ACCESS_TOKEN is not set"));
    let no_secret = cli.run(
        &[
            "number",
            "add",
            "--tenant",
            "acme",
            "--app-id",
            "1",
            "--phone-number-id",
            "2",
            "--waba-id",
            "3",
        ],
        &[("META_ACCESS_TOKEN", "t")],
    );
    assert!(!no_secret.status.success());
    assert!(stderr(&no_secret).contains("META_APP_SECRET"));
}

#[sqlx::test]
async fn user_create_stores_an_argon2_hash_of_the_password(pool: PgPool) {
    let cli = Cli::new(&pool);
    cli.run(&["tenant", "create", "--name", "Acme"], &[]);
    let output = cli.run(
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
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let (role, hash): (String, String) = sqlx::query_as("select role, password_hash from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(role, "admin");
    assert!(hash.starts_with("$argon2id$") && !hash.contains("correct horse"));
    let without = cli.run(
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
    );
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
    let output = cli.run(&["webhooks", "replay", "--failed"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "Replayed 1 event(s): 1 failed");
    let listed = cli.run(&["webhooks", "list", "--failed"], &[]);
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
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("SECRET_KEY must be set"));
}
