//! The sandbox through the real binary: the README's loop, and what the sandbox refuses to do.

use super::*;

/// A test server delivering through its sandbox (appliers, the sandbox's dispatcher, the delivery
/// worker), and the CLI pointed at it with the server's secret key.
struct SandboxLoop {
    app: TestApp,
    cli: Cli,
    bind: String,
}

impl SandboxLoop {
    async fn start(pool: PgPool) -> Self {
        let app = TestApp::new(pool.clone()).await;
        app.start_appliers();
        app.start_sandbox_dispatcher();
        app.start_outbox();
        let bind = app.config.bind_addr.to_string();
        Self {
            app,
            cli: Cli::new(&pool),
            bind,
        }
    }

    fn env(&self) -> [(&str, &str); 2] {
        [
            ("SECRET_KEY", "test secret key, thirty-two chars at least"),
            ("BIND_ADDR", self.bind.as_str()),
        ]
    }

    async fn run(&self, args: &[&str]) -> Output {
        self.cli.run(args, &self.env()).await
    }

    /// `switchboard sandbox create` for tenant `acme`: the number it printed.
    async fn create_number(&self) -> String {
        let created = self.run(&["sandbox", "create", "--tenant", "acme"]).await;
        assert!(created.status.success(), "{}", stderr(&created));
        let number = stdout(&created)
            .split_whitespace()
            .nth(2)
            .unwrap()
            .to_owned();
        assert!(number.starts_with("sandbox-"), "{}", stdout(&created));
        number
    }
}

/// `switchboard send … | head -1`: once nothing reads the delivery ticks, following them ends
/// quietly instead of in a panic.
#[sqlx::test]
async fn a_send_followed_into_a_closed_pipe_ends_quietly(pool: PgPool) {
    use tokio::io::AsyncBufReadExt;

    let sandbox = SandboxLoop::start(pool).await;
    let number = sandbox.create_number().await;
    let said = [
        "sandbox",
        "say",
        "--number",
        &number,
        "--from",
        "+15550001111",
        "Hi",
    ];
    assert!(sandbox.run(&said).await.status.success());

    let send = [
        "send",
        "--number",
        &number,
        "--to",
        "+15550001111",
        "--text",
        "Hello",
    ];
    let mut child = sandbox
        .cli
        .command(&send, &sandbox.env())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap_or_default();
    assert!(first.starts_with("Queued message"), "{first}");
    drop(lines);
    let ended = child.wait_with_output().await.unwrap();
    assert!(ended.status.success(), "{}", stderr(&ended));
    let sent: i64 = sandbox
        .app
        .scalar("select count(*) from messages where direction = 'outbound'")
        .await;
    assert_eq!(sent, 1);
}

/// The README's sandbox loop, through the real binary: the customer writes, the agent answers, the
/// window closes, a template goes out.
#[sqlx::test]
async fn the_sandbox_loop_works_from_the_command_line(pool: PgPool) {
    let sandbox = SandboxLoop::start(pool.clone()).await;
    let run = async |args: Vec<&str>| sandbox.run(&args).await;

    let number = sandbox.create_number().await;

    let said = run(vec![
        "sandbox",
        "say",
        "--number",
        &number,
        "--from",
        "+1 555 000 1111",
        "Where is my order?",
    ])
    .await;
    assert!(said.status.success(), "{}", stderr(&said));
    let answered = run(vec![
        "send",
        "--number",
        &number,
        "--to",
        "+15550001111",
        "--text",
        "It ships today!",
    ])
    .await;
    assert!(answered.status.success(), "{}", stderr(&answered));
    let ticks: Vec<String> = stdout(&answered)
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect();
    assert_eq!(
        ticks.last().map(String::as_str),
        Some("read"),
        "{}",
        stdout(&answered)
    );

    let old = run(vec![
        "sandbox",
        "say",
        "--number",
        &number,
        "--from",
        "+15550002222",
        "--hours-ago",
        "25",
        "Hello?",
    ])
    .await;
    assert!(old.status.success(), "{}", stderr(&old));
    let refused = run(vec![
        "send",
        "--number",
        &number,
        "--to",
        "+15550002222",
        "--text",
        "Sorry for the wait",
    ])
    .await;
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("24-hour window closed"),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused).contains("--template order_update"),
        "offers the templates: {}",
        stderr(&refused)
    );

    let template = run(vec![
        "send",
        "--number",
        &number,
        "--to",
        "+15550002222",
        "--template",
        "order_update",
        "--var",
        "Dana",
        "--var",
        "#1042",
        "--url-suffix",
        "1042",
    ])
    .await;
    assert!(template.status.success(), "{}", stderr(&template));
    assert_eq!(stdout(&template).lines().last(), Some("read"));

    // A failed message, retried by hand, really goes out.
    let fault = [
        "sandbox",
        "fail-next",
        "--number",
        &number,
        "--code",
        "131026",
    ];
    assert!(run(fault.to_vec()).await.status.success());
    let failed = run(vec![
        "send",
        "--number",
        &number,
        "--to",
        "+15550001111",
        "--text",
        "Hello again",
    ])
    .await;
    assert!(!failed.status.success());
    assert!(
        stderr(&failed).contains("Message undeliverable"),
        "{}",
        stderr(&failed)
    );
    let id = stdout(&failed)
        .split_whitespace()
        .nth(2)
        .unwrap()
        .trim_end_matches('.')
        .to_owned();
    let retried = run(vec!["retry", "--message", &id]).await;
    assert!(retried.status.success(), "{}", stderr(&retried));
    assert_eq!(
        stdout(&retried).lines().next(),
        Some(format!("Queued message {id} again.").as_str())
    );
    assert_eq!(stdout(&retried).lines().last(), Some("read"));
    let again = run(vec!["retry", "--message", &id]).await;
    assert!(stderr(&again).contains("Only failed or unconfirmed messages"));

    // The operator sent and retried them all.
    let senders: Vec<String> = sqlx::query_scalar(
        "select distinct sent_by_kind from messages where direction = 'outbound'
         union all select details ->> 'by' from audit_log where action = 'message.retry'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(senders, ["operator", "operator"]);
}

#[sqlx::test]
async fn send_names_what_is_wrong_with_the_customer_given(pool: PgPool) {
    let _app = TestApp::new(pool.clone()).await;
    let cli = Cli::new(&pool);
    let send = async |to: &str| {
        let args = [
            "send",
            "--number",
            PHONE_NUMBER_ID,
            "--to",
            to,
            "--text",
            "Hi",
        ];
        let output = cli.run(&args, &[]).await;
        assert!(!output.status.success());
        stderr(&output)
    };
    assert!(
        send("555 12")
            .await
            .contains("\"555 12\" is not a phone number: it has 5 digits")
    );
    assert!(
        send("us.1349")
            .await
            .contains("nor a business-scoped user id")
    );
}

#[sqlx::test]
async fn the_embedded_sandbox_never_acts_for_a_real_number(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v23.0/{PHONE_NUMBER_ID}/messages", app.config.sandbox_graph_url()))
        .bearer_auth("test-access-token")
        .json(&serde_json::json!({ "messaging_product": "whatsapp", "to": CUSTOMER, "type": "text", "text": { "body": "x" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], 100);
}
