//! The `switchboard` release binary: provisioning a database through its CLI, and `serve` as a child
//! process on a free loopback port, killed if the benchmark fails and stopped with SIGTERM otherwise.

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener},
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use tokio::process::{Child, Command};

use crate::payload;

/// Encrypts the app secret and token at rest; any value of 32+ characters will do here.
pub const SECRET_KEY: &str = "switchboard load benchmark secret key, not for production";
/// How long the server may take to answer `/readyz` after it starts.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may take to exit after SIGTERM.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// The `switchboard` executable the benchmark drives.
pub struct Binary {
    path: PathBuf,
    /// Where the child processes run: no `.env` or key file of the checkout is picked up.
    workdir: PathBuf,
}

impl Binary {
    /// `explicit`, else `$SWITCHBOARD_BIN`, else the release binary cargo built with this bench.
    pub fn locate(explicit: Option<PathBuf>) -> anyhow::Result<Self> {
        let path = explicit
            .or_else(|| std::env::var_os("SWITCHBOARD_BIN").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_switchboard")));
        ensure!(
            path.is_file(),
            "no switchboard binary at {} (run `cargo build --release`, or pass --server-bin)",
            path.display()
        );
        let workdir = std::env::temp_dir().join("switchboard-bench");
        std::fs::create_dir_all(&workdir)
            .with_context(|| format!("create {}", workdir.display()))?;
        Ok(Self { path, workdir })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the tenant, its Meta app and its number in the database at `database_url`.
    pub async fn provision(&self, database_url: &str) -> anyhow::Result<()> {
        let slug = self
            .cli(database_url, &["tenant", "create", "--name", "Bench"])
            .await?;
        let slug = slug.trim();
        self.cli(
            database_url,
            &[
                "number",
                "add",
                "--tenant",
                slug,
                "--app-id",
                payload::META_APP_ID,
                "--phone-number-id",
                payload::PHONE_NUMBER_ID,
                "--waba-id",
                payload::WABA_ID,
                "--display-phone",
                payload::DISPLAY_PHONE,
            ],
        )
        .await?;
        Ok(())
    }

    /// Seeds the tenant `provision` created (`switchboard dev seed`), its agents signing in with
    /// `password`; returns what the command printed.
    #[allow(dead_code, reason = "used by the inbox benchmark only")]
    pub async fn seed(
        &self,
        database_url: &str,
        conversations: u64,
        messages: u64,
        password: &str,
    ) -> anyhow::Result<String> {
        let (conversations, messages) = (conversations.to_string(), messages.to_string());
        let args = [
            "dev",
            "seed",
            "--tenant",
            "bench",
            "--conversations",
            &conversations,
            "--messages",
            &messages,
        ];
        let output = self
            .command(database_url)
            .args(args)
            .env("SEED_PASSWORD", password)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .await
            .with_context(|| format!("run {}", self.path.display()))?;
        ensure!(
            output.status.success(),
            "`switchboard {}` failed ({})",
            args.join(" "),
            output.status
        );
        String::from_utf8(output.stdout).context("the CLI printed something that is not UTF-8")
    }

    /// Runs a CLI command; returns its standard output.
    async fn cli(&self, database_url: &str, args: &[&str]) -> anyhow::Result<String> {
        let output = self
            .command(database_url)
            .args(args)
            .env("META_APP_SECRET", payload::APP_SECRET)
            .env("META_VERIFY_TOKEN", payload::VERIFY_TOKEN)
            .env("META_ACCESS_TOKEN", "switchboard-bench-access-token")
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("run {}", self.path.display()))?;
        ensure!(
            output.status.success(),
            "`switchboard {}` failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
        String::from_utf8(output.stdout).context("the CLI printed something that is not UTF-8")
    }

    /// Starts `switchboard serve` on a free port and waits until it is ready.
    pub async fn start(&self, database_url: &str) -> anyhow::Result<Server> {
        self.start_with(database_url, &[]).await
    }

    /// [`Binary::start`] with more environment variables.
    pub async fn start_with(
        &self,
        database_url: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Server> {
        let addr = free_port().context("find a free port")?;
        let log_path = self.workdir.join("server.log");
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("create {}", log_path.display()))?;
        let child = self
            .command(database_url)
            .arg("serve")
            .env("BIND_ADDR", addr.to_string())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("share the log file")?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("start {} serve", self.path.display()))?;
        let mut server = Server {
            pid: child.id().context("the server exited at once")?,
            child,
            base_url: format!("http://{addr}"),
            log_path,
        };
        server.wait_until_ready().await?;
        Ok(server)
    }

    fn command(&self, database_url: &str) -> Command {
        let mut command = Command::new(&self.path);
        command
            .current_dir(&self.workdir)
            .env("DATABASE_URL", database_url)
            .env("SECRET_KEY", SECRET_KEY)
            .env("SWITCHBOARD_ENV", "development")
            // As in production: with these set, every error captures and symbolizes a backtrace,
            // which costs time and (loading debug info) tens of MB of RSS.
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE");
        command
    }
}

/// Asks the kernel for a loopback port that is free now.
fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()
}

/// A running `switchboard serve`; killed when dropped.
pub struct Server {
    child: Child,
    pid: u32,
    base_url: String,
    log_path: PathBuf,
}

/// How the server stopped after SIGTERM.
pub struct Shutdown {
    pub status: ExitStatus,
    pub took: Duration,
}

impl Server {
    /// The webhook callback URL of a Meta app.
    pub fn webhook_url(&self, meta_app_id: &str) -> String {
        format!("{}/webhooks/whatsapp/{meta_app_id}", self.base_url)
    }

    async fn wait_until_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .context("build an HTTP client")?;
        let url = format!("{}/readyz", self.base_url);
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().context("check on the server")? {
                bail!("the server exited with {status}; {}", self.log_tail());
            }
            if let Ok(response) = client.get(&url).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!(
            "the server was not ready within {READY_TIMEOUT:?}; {}",
            self.log_tail()
        )
    }

    /// The server's base URL (`http://127.0.0.1:port`).
    #[allow(
        dead_code,
        reason = "used by the inbox and integrators benchmarks only"
    )]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The server's peak resident set size so far (`VmHWM`), in kB.
    pub fn peak_rss_kb(&self) -> anyhow::Result<u64> {
        self.status_kb("VmHWM")
    }

    /// The server's resident set size now (`VmRSS`), in kB.
    #[allow(dead_code, reason = "used by the inbox benchmark only")]
    pub fn rss_kb(&self) -> anyhow::Result<u64> {
        self.status_kb("VmRSS")
    }

    fn status_kb(&self, field: &str) -> anyhow::Result<u64> {
        let path = format!("/proc/{}/status", self.pid);
        let status = std::fs::read_to_string(&path).with_context(|| format!("read {path}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {field} line in {path}"))
    }

    /// Sends SIGTERM and waits for the process to exit; kills it if it takes too long.
    pub async fn terminate(mut self) -> anyhow::Result<Shutdown> {
        let started = Instant::now();
        let kill = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await
            .context("run kill -TERM")?;
        ensure!(kill.success(), "kill -TERM {} failed: {kill}", self.pid);
        match tokio::time::timeout(SHUTDOWN_TIMEOUT, self.child.wait()).await {
            Ok(status) => Ok(Shutdown {
                status: status.context("wait for the server")?,
                took: started.elapsed(),
            }),
            Err(_) => {
                self.child.start_kill().context("kill the server")?;
                bail!(
                    "the server did not exit within {SHUTDOWN_TIMEOUT:?} of SIGTERM; {}",
                    self.log_tail()
                )
            }
        }
    }

    /// The end of the server's log, for error messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("its log ({}) ends:\n{tail}", self.log_path.display())
    }
}
