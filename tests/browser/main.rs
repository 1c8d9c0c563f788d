//! End-to-end tests in headless Chromium: the real server on a free port over a fresh database
//! per test (the API tests' `TestApp`), driven through chromedriver the way an agent works. They
//! skip, loudly, where Chromium is not installed, unless `SWITCHBOARD_BROWSER_TESTS=required`.

// The API tests' helpers, shared: these tests use only some of them.
#[path = "../api/helpers/mod.rs"]
#[allow(dead_code, unused_imports)]
mod helpers;

mod customers;
mod driver;

mod accounts;
mod composer;
mod hostile;
mod live;
mod media;
mod numbers;
mod reports;
mod screenshots;
mod team;
mod templates;
mod tenants;
mod touch;
