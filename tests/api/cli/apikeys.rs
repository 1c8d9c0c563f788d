//! `switchboard apikey`: a key printed once that the Graph endpoint then takes, listed by its
//! prefix only, limited to a number, revoked.

use sqlx::PgPool;

use super::*;

#[sqlx::test]
async fn a_key_is_printed_once_listed_by_its_prefix_and_revoked(pool: PgPool) {
    let cli = Cli::new(&pool);
    cli.run(&["tenant", "create", "--name", "Acme Support"], &[])
        .await;
    let created = cli
        .run(
            &[
                "apikey",
                "create",
                "--tenant",
                "acme-support",
                "--name",
                "Order system",
            ],
            &[],
        )
        .await;
    assert!(created.status.success(), "{}", stderr(&created));
    let out = stdout(&created);
    let key = out
        .split_whitespace()
        .find(|word| word.starts_with("sbk_"))
        .unwrap_or_else(|| panic!("no key printed: {out}"));
    assert_eq!(key.len(), 4 + 43, "{key}");

    let listed = stdout(
        &cli.run(&["apikey", "list", "--tenant", "acme-support"], &[])
            .await,
    );
    assert!(listed.contains(&key[..12]), "{listed}");
    assert!(
        !listed.contains(&key[12..]),
        "the key itself is never shown again: {listed}"
    );
    assert!(
        listed.contains("Order system")
            && listed.contains("all numbers")
            && listed.contains("never used"),
        "{listed}"
    );

    let unknown = cli
        .run(
            &[
                "apikey",
                "create",
                "--tenant",
                "acme-support",
                "--name",
                "X",
                "--number",
                "123",
            ],
            &[],
        )
        .await;
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("There is no number 123"),
        "{}",
        stderr(&unknown)
    );

    let id = listed.split('\t').next().unwrap().trim().to_owned();
    let revoked = cli
        .run(&["apikey", "revoke", "--tenant", "acme-support", &id], &[])
        .await;
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    let again = cli
        .run(&["apikey", "revoke", "--tenant", "acme-support", &id], &[])
        .await;
    assert!(!again.status.success());
    let listed = stdout(
        &cli.run(&["apikey", "list", "--tenant", "acme-support"], &[])
            .await,
    );
    assert!(listed.contains("revoked"), "{listed}");
}
