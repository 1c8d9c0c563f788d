//! Every real Meta webhook in `../shared/corpus/webhooks` is accepted and applied, none is lost.

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::*;

#[sqlx::test]
async fn every_corpus_webhook_is_applied_with_all_its_messages_and_statuses(pool: PgPool) {
    let app = TestApp::new(pool).await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus/webhooks");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {dir} (is ../shared beside the repo?): {e}"))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() > 200);

    let (mut messages, mut statuses) = (0, 0);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let body = std::fs::read(&path).unwrap();
        let payload: Value = serde_json::from_slice(&body).unwrap();
        register_what_it_names(&app, &payload).await;

        app.deliver(body).await;
        let (state, error, unroutable) = app.last_event().await;
        if has_placeholder_timestamp(&payload) {
            // Meta's doc pages write `"timestamp": "TIMESTAMP"`: kept, failed with the reason, replayable.
            assert_eq!(state, "failed", "{name}");
            assert!(
                error.as_deref().is_some_and(|e| e.contains("timestamp")),
                "{name}: {error:?}"
            );
            continue;
        }
        assert_eq!(state, "applied", "{name}: {error:?} {unroutable:?}");

        for (field, key) in [
            ("messages", "messages"),
            ("smb_message_echoes", "message_echoes"),
        ] {
            for value in changes(&payload, field) {
                let pnid = value["metadata"]["phone_number_id"].as_str();
                for message in value[key].as_array().into_iter().flatten() {
                    let (table, wamid) = match message["type"].as_str() {
                        Some("reaction") => (
                            "message_reactions where target_wamid",
                            &message["reaction"]["message_id"],
                        ),
                        // Edits and deletions change their original; each is kept as its history.
                        Some("edit" | "revoke") => ("message_changes where wamid", &message["id"]),
                        _ => ("messages where wamid", &message["id"]),
                    };
                    assert_eq!(
                        stored(&app, table, wamid.as_str(), pnid).await,
                        1,
                        "{name}: {key} {wamid} was not stored"
                    );
                    messages += 1;
                }
            }
        }
        for value in changes(&payload, "messages") {
            let pnid = &value["metadata"]["phone_number_id"];
            for status in value["statuses"].as_array().into_iter().flatten() {
                let found: i64 = sqlx::query_scalar(
                    "select count(*) from message_statuses where wamid = $1 and status = $2
                     and phone_number_id = (select id from phone_numbers where phone_number_id = $3)",
                )
                .bind(status["id"].as_str())
                .bind(status["status"].as_str())
                .bind(pnid.as_str())
                .fetch_one(&app.pool)
                .await
                .unwrap();
                assert_eq!(found, 1, "{name}: status {} was not stored", status["id"]);
                statuses += 1;
            }
        }
    }
    assert!(
        messages > 100 && statuses > 30,
        "{messages} messages, {statuses} statuses"
    );
}

/// How many rows of `table` (up to `where <column>`) have this wamid on this number.
async fn stored(app: &TestApp, table: &str, wamid: Option<&str>, pnid: Option<&str>) -> i64 {
    let sql = format!(
        "select count(*) from {table} = $1 and phone_number_id =
         (select id from phone_numbers where phone_number_id = $2)"
    );
    sqlx::query_scalar(&sql)
        .bind(wamid)
        .bind(pnid)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

fn has_placeholder_timestamp(payload: &Value) -> bool {
    changes(payload, "messages")
        .chain(changes(payload, "smb_message_echoes"))
        .any(|value| {
            ["messages", "statuses", "message_echoes"]
                .iter()
                .flat_map(|key| value[key].as_array().into_iter().flatten())
                .any(|item| {
                    item["timestamp"]
                        .as_str()
                        .is_some_and(|t| t.parse::<i64>().is_err())
                })
        })
}

fn changes<'a>(payload: &'a Value, field: &'a str) -> impl Iterator<Item = &'a Value> {
    payload["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| entry["changes"].as_array().into_iter().flatten())
        .filter(move |change| change["field"] == field)
        .map(|change| &change["value"])
}

/// Registers every phone number id and WABA the payload names under the test app.
async fn register_what_it_names(app: &TestApp, payload: &Value) {
    for entry in payload["entry"].as_array().into_iter().flatten() {
        let waba = entry["id"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| entry["id"].to_string());
        let pnids: Vec<String> = entry["changes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| {
                c["value"]["metadata"]["phone_number_id"]
                    .as_str()
                    .map(str::to_owned)
            })
            .collect();
        let pnids = if pnids.is_empty() {
            vec![format!("waba-{waba}")]
        } else {
            pnids
        };
        for pnid in pnids {
            let exists: bool = sqlx::query_scalar(
                "select exists(select 1 from phone_numbers where phone_number_id = $1)",
            )
            .bind(&pnid)
            .fetch_one(&app.pool)
            .await
            .unwrap();
            if !exists {
                app.add_number(app.tenant_id, app.app_id, &pnid, &waba, None)
                    .await;
            }
        }
    }
}
