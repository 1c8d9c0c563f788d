//! `Browser`: headless Chromium on a page of the test's server, through WebDriver (fantoccini),
//! with the few verbs the tests use: open a path, sign in, find by selector, wait for a condition
//! (bounded, never a fixed sleep), run a line of script. [`Browser::run`] saves a screenshot when
//! the test fails and checks that no dialog is left open.

mod chromedriver;

use std::{panic::AssertUnwindSafe, path::PathBuf, time::Duration};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use futures::FutureExt;
use hyper_util::client::legacy::connect::HttpConnector;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::helpers::{TestApp, inbox::PASSWORD};
use chromedriver::Chromedriver;

/// How long a wait lasts before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A laptop's window; [`Browser::launch_sized`] for others.
const DESKTOP: (u32, u32) = (1280, 800);

pub struct Browser {
    client: Client,
    base: String,
    // Dropped after the client: ends chromedriver and its browsers.
    _driver: Chromedriver,
}

impl Browser {
    /// Chromium at a laptop's size on `app`'s server; `None` when the tests are skipped.
    pub async fn launch(app: &TestApp) -> Option<Self> {
        Self::launch_sized(app, DESKTOP).await
    }

    /// Chromium with a viewport of `(width, height)` CSS pixels.
    pub async fn launch_sized(app: &TestApp, (width, height): (u32, u32)) -> Option<Self> {
        let driver = Chromedriver::start().await?;
        let capabilities = json!({
            "browserName": "chrome",
            // Leave a dialog open so that a test can see it (by default it is dismissed).
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {
                "binary": driver.chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--hide-scrollbars", "--force-device-scale-factor=1",
                         format!("--window-size={width},{height}")],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a Chromium session");
        let browser = Self {
            client,
            base: app.url.clone(),
            _driver: driver,
        };
        // --window-size sizes the window; the page needs the viewport exactly this size.
        let (outer_w, outer_h): (u32, u32) = browser
            .eval("return [window.outerWidth - innerWidth, window.outerHeight - innerHeight]")
            .await;
        browser
            .client
            .set_window_size(width + outer_w, height + outer_h)
            .await
            .expect("resize the window");
        Some(browser)
    }

    /// Runs `test`; if it fails, saves a screenshot of the page first. Afterwards no dialog
    /// (`alert`, `confirm`, `prompt`) may be open. Closes the browser either way.
    pub async fn run(self, test: impl AsyncFnOnce(&Browser)) {
        let outcome = AssertUnwindSafe(async {
            test(&self).await;
            self.assert_no_dialog().await;
        })
        .catch_unwind()
        .await;
        if let Err(panic) = outcome {
            self.save_failure_screenshot().await;
            let _ = self.client.close().await;
            std::panic::resume_unwind(panic);
        }
        self.client.close().await.expect("close the browser");
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `path` on the test's server.
    pub async fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The page's path and query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("the current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Signs in through the form with [`PASSWORD`] and waits for the inbox.
    pub async fn sign_in(&self, email: &str) {
        self.open("/login").await;
        self.fill("#email", email).await;
        self.fill("#password", PASSWORD).await;
        self.click("form[action='/login'] button[type=submit]")
            .await;
        self.wait_for_path("/inbox").await;
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => panic!("no `{css}` within 10 s on {}: {e}", self.where_am_i().await),
        }
    }

    /// Every element matching `css` now (none is fine).
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find `{css}`: {e}"))
    }

    pub async fn count(&self, css: &str) -> usize {
        self.find_all(css).await.len()
    }

    /// The text of the first element matching `css` (waiting for it).
    pub async fn text(&self, css: &str) -> String {
        self.find(css)
            .await
            .text()
            .await
            .expect("an element's text")
    }

    /// Clicks the first element matching `css`, found again if a live update replaced it between
    /// finding and clicking.
    pub async fn click(&self, css: &str) {
        for _ in 0..3 {
            match self.find(css).await.click().await {
                Ok(()) => return,
                Err(e) if e.is_stale_element_reference() => continue,
                Err(e) => panic!("click `{css}`: {e}"),
            }
        }
        panic!("click `{css}`: replaced three times over");
    }

    /// Types `text` into the field matching `css` (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.expect("clear a field");
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into `{css}`: {e}"));
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub async fn eval<T: DeserializeOwned>(&self, script: &str) -> T {
        let value = self
            .client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("run `{script}`: {e}"));
        serde_json::from_value(value).unwrap_or_else(|e| panic!("the result of `{script}`: {e}"))
    }

    /// Waits (up to [`PATIENCE`]) until `condition` holds; fails the test saying `what` did not
    /// happen.
    pub async fn wait_until(&self, what: &str, mut condition: impl AsyncFnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            if condition().await {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: not within 10 s (on {})",
                self.where_am_i().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page's path is `path` (query ignored).
    pub async fn wait_for_path(&self, path: &str) {
        self.wait_until(&format!("the browser is at {path}"), async || {
            self.client
                .current_url()
                .await
                .is_ok_and(|url| url.path() == path)
        })
        .await;
    }

    /// Waits until an element matching `css` contains `text`.
    pub async fn wait_for_text(&self, css: &str, text: &str) {
        self.wait_until(&format!("`{css}` shows {text:?}"), async || {
            for element in self.find_all(css).await {
                if element.text().await.is_ok_and(|t| t.contains(text)) {
                    return true;
                }
            }
            false
        })
        .await;
    }

    /// Marks the current document, so that [`Browser::assert_same_document`] can tell whether the
    /// page was reloaded or navigated away since.
    pub async fn mark_document(&self) {
        let _: Value = self.eval("window.__notReloaded = true; return null").await;
    }

    pub async fn assert_same_document(&self) {
        let kept: bool = self.eval("return window.__notReloaded === true").await;
        assert!(kept, "the page was reloaded or left");
    }

    /// Fails if a dialog is open, saying what it says.
    pub async fn assert_no_dialog(&self) {
        match self.client.get_alert_text().await {
            Err(e) if e.is_no_such_alert() => {}
            Ok(text) => panic!("a dialog is open: {text:?}"),
            Err(e) => panic!("ask for a dialog: {e}"),
        }
    }

    /// Saves the viewport as a PNG at `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("a screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("the screenshot's directory");
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    async fn save_failure_screenshot(&self) {
        let test = std::thread::current()
            .name()
            .unwrap_or("browser-test")
            .replace("::", "-");
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("browser-failures")
            .join(format!("{test}.png"));
        // A dialog blocks screenshots; the panic being reported says what went wrong.
        let _ = self.client.dismiss_alert().await;
        if let Ok(png) = self.client.screenshot().await {
            let saved = std::fs::create_dir_all(path.parent().unwrap_or(&path))
                .and_then(|()| std::fs::write(&path, png));
            if saved.is_ok() {
                eprintln!("screenshot of the failed test: {}", path.display());
            }
        }
    }

    /// The URL, for failure messages.
    async fn where_am_i(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("(no URL: {e})"),
        }
    }
}
