//! Finding Chromium and chromedriver, and running chromedriver for one test: on a free port, in a
//! process group of its own so that the browsers it starts end with it, whatever the test did.
//!
//! Without Chromium the tests say so loudly and pass, unless `SWITCHBOARD_BROWSER_TESTS=required`
//! (as `.ci/run` sets it): then a missing browser fails them.

use std::{
    io::Write,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Once,
    time::Duration,
};

/// What `SWITCHBOARD_BROWSER_TESTS` must say for a missing browser to fail the tests.
const REQUIRED: &str = "required";

/// A running chromedriver; dropping it ends it and every browser it started, and removes their
/// temporary files (profiles, sockets).
pub struct Chromedriver {
    child: Child,
    /// The `TMPDIR` of chromedriver and its browsers.
    temp: PathBuf,
    /// Where it listens, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// The Chromium it starts.
    pub chromium: PathBuf,
}

impl Chromedriver {
    /// Starts chromedriver, or returns `None` (after saying so) when Chromium or chromedriver is
    /// not installed and not required.
    pub async fn start() -> Option<Self> {
        let (Some(chromium), Some(chromedriver)) = (
            find(
                "SWITCHBOARD_CHROMIUM",
                &["chromium", "chromium-browser", "google-chrome"],
            ),
            find("SWITCHBOARD_CHROMEDRIVER", &["chromedriver"]),
        ) else {
            missing();
            return None;
        };
        // A free port can be taken between asking for it and chromedriver binding it: try again.
        for _ in 0..3 {
            let port = free_port();
            let temp = std::env::temp_dir().join(format!(
                "switchboard-chromium-{}-{port}",
                std::process::id()
            ));
            std::fs::create_dir_all(&temp).expect("a temporary directory for Chromium");
            let child = Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .env("TMPDIR", &temp)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display()));
            let mut driver = Self {
                child,
                temp,
                url: format!("http://127.0.0.1:{port}"),
                chromium: chromium.clone(),
            };
            if driver.ready().await {
                return Some(driver);
            }
        }
        panic!("{} did not start (three tries)", chromedriver.display());
    }

    /// Waits (up to 10 s) until chromedriver answers; `false` if it exited first.
    async fn ready(&mut self) -> bool {
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return false;
            }
            let status = client
                .get(format!("{}/status", self.url))
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if status.is_ok_and(|s| s.status().is_success()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The group is chromedriver's own (process_group(0)): its id is chromedriver's pid.
        if let Ok(group) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: killpg only sends a signal; the group is the one this test started.
            unsafe { libc::killpg(group, libc::SIGKILL) };
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.temp);
    }
}

/// The program named by `variable`, or the first of `names` on the `PATH` (or in /usr/bin).
fn find(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path)).filter(|p| is_executable(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .collect();
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

/// Fails the test if the browser is required; otherwise says once, past the test harness's
/// output capture, that the browser tests are skipped.
fn missing() {
    let required = std::env::var("SWITCHBOARD_BROWSER_TESTS").is_ok_and(|v| v == REQUIRED);
    assert!(
        !required,
        "SWITCHBOARD_BROWSER_TESTS=required, but Chromium or chromedriver is missing: install \
         Debian's `chromium` and `chromium-driver` (or set SWITCHBOARD_CHROMIUM and \
         SWITCHBOARD_CHROMEDRIVER)"
    );
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let banner = "\n\
            ********************************************************************************\n\
            * BROWSER TESTS SKIPPED: Chromium or chromedriver is not installed.            *\n\
            * Install Debian's `chromium` and `chromium-driver` to run them; set            *\n\
            * SWITCHBOARD_BROWSER_TESTS=required to make a missing browser fail instead.    *\n\
            ********************************************************************************\n";
        // Straight to the process's stderr: `eprintln!` would be captured with the test's output.
        let _ = std::io::stderr().write_all(banner.as_bytes());
    });
}
