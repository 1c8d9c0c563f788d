//! A bot written with a WhatsApp SDK checks a forwarded payload's signature with the SDK's own
//! verifier, the endpoint's secret as its app secret: pywa's `webhook_updates_validator` and
//! `@kapso/whatsapp-cloud-api/server`'s `verifySignature` (`tests/sdk/*_verify_signature.*`).
//! Skipped loudly without Python or Node and the SDKs, unless `SWITCHBOARD_SDK_TESTS=required`.

use std::process::Stdio;

use sqlx::PgPool;
use switchboard::domain::webhook_endpoints::Format;
use tokio::{io::AsyncWriteExt, process::Command};

use super::*;
use crate::graph_endpoint::sdks::{available, sdk_dir};

/// Whether `program` (a verifier script) accepts `body` signed with `header` under `secret`.
async fn verifies(program: &mut Command, secret: &str, header: &str, body: &[u8]) -> bool {
    let mut child = program
        .args([secret, header])
        .current_dir(sdk_dir())
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(body).await.unwrap();
    drop(stdin);
    child.wait().await.unwrap().success()
}

/// A payload forwarded to a `meta` endpoint: its body, signature header and the endpoint's secret.
async fn forwarded(pool: PgPool) -> (Vec<u8>, String, String) {
    let app = TestApp::new(pool).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let (_, secret) = endpoint(&app, &url, Format::Meta, &[]).await;
    customer_writes(&app, "wamid.sdk", "Hello from the SDK test", 1).await;
    deliver_all(&deliverer(&app)).await;
    let got = receiver.got().remove(0);
    let header = got.header("x-hub-signature-256").to_owned();
    (got.body.to_vec(), header, secret)
}

#[sqlx::test]
async fn pywa_verifies_a_forwarded_payload(pool: PgPool) {
    if !available("pywa", Command::new("python3").args(["-c", "import pywa"])).await {
        return;
    }
    let (body, header, secret) = forwarded(pool).await;
    let verifier = || {
        let mut command = Command::new("python3");
        command.arg("pywa_verify_signature.py");
        command
    };
    assert!(verifies(&mut verifier(), &secret, &header, &body).await);
    assert!(!verifies(&mut verifier(), "whsec_other", &header, &body).await);
    let mut tampered = body.clone();
    tampered.push(b' ');
    assert!(!verifies(&mut verifier(), &secret, &header, &tampered).await);
}

#[sqlx::test]
async fn kapso_verifies_a_forwarded_payload(pool: PgPool) {
    let probe = "import('@kapso/whatsapp-cloud-api/server')";
    if !available(
        "@kapso/whatsapp-cloud-api",
        Command::new("node").args(["-e", probe]),
    )
    .await
    {
        return;
    }
    let (body, header, secret) = forwarded(pool).await;
    let verifier = || {
        let mut command = Command::new("node");
        command.arg("kapso_verify_signature.mjs");
        command
    };
    assert!(verifies(&mut verifier(), &secret, &header, &body).await);
    assert!(!verifies(&mut verifier(), "whsec_other", &header, &body).await);
}
