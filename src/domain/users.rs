//! Users: agents and admins of one tenant, with argon2id password hashes.

use anyhow::Context;
use std::sync::LazyLock;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier, password_hash::SaltString};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgConnection;

use super::ids::{TenantId, UserId};

/// What a user may do: admins configure the tenant, agents work the inbox (`users.role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Agent => "agent",
        }
    }
}

/// Minimum password length accepted for new users.
pub const MIN_PASSWORD_LEN: usize = 10;

/// A user to create.
pub struct NewUser<'a> {
    pub email: &'a str,
    /// Shown to the team; the e-mail address's local part when empty.
    pub name: &'a str,
    pub role: Role,
    pub password: &'a SecretString,
}

/// Creates a user; e-mail addresses are unique across tenants (case-insensitively).
pub async fn create(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    user: &NewUser<'_>,
) -> anyhow::Result<UserId> {
    let email = user.email.trim();
    anyhow::ensure!(
        email.contains('@') && email.len() <= 254,
        "{email:?} is not an e-mail address"
    );
    anyhow::ensure!(
        user.password.expose_secret().chars().count() >= MIN_PASSWORD_LEN,
        "the password must have at least {MIN_PASSWORD_LEN} characters"
    );
    let name = match user.name.trim() {
        "" => email.split('@').next().unwrap_or(email),
        name => name,
    };
    let hash = hash_password(user.password.clone()).await?;
    let id = sqlx::query_scalar!(
        r#"insert into users (tenant_id, email, name, password_hash, role) values ($1, $2, $3, $4, $5)
           on conflict (lower(email)) do nothing returning id as "id: UserId""#,
        tenant_id as TenantId,
        email,
        name,
        hash,
        user.role as Role
    )
    .fetch_optional(conn)
    .await
    .context("create user")?;
    id.with_context(|| format!("a user with the e-mail {email} already exists"))
}

/// What signing in needs to know of a user.
pub struct Credentials {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub password_hash: String,
}

/// The active user with this e-mail address (any case), across tenants: addresses are unique. A
/// deactivated user has none, so signing in as one fails like an unknown address.
pub async fn credentials(
    conn: &mut PgConnection,
    email: &str,
) -> anyhow::Result<Option<Credentials>> {
    sqlx::query_as!(
        Credentials,
        r#"select id as "id: UserId", tenant_id as "tenant_id: TenantId", password_hash
           from users where lower(email) = lower($1) and deactivated_at is null"#,
        email.trim()
    )
    .fetch_optional(conn)
    .await
    .context("find user by e-mail")
}

/// Whether any user exists (the first run has none).
pub async fn any_exist(conn: &mut PgConnection) -> anyhow::Result<bool> {
    sqlx::query_scalar!(r#"select exists (select 1 from users) as "exists!""#)
        .fetch_one(conn)
        .await
        .context("count users")
}

/// An argon2id PHC string for `password`, computed on a blocking thread (it takes tens of
/// milliseconds of CPU on purpose).
pub async fn hash_password(password: SecretString) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::default()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|e| anyhow::anyhow!("hash password: {e}"))
    })
    .await
    .context("hash password")?
}

/// Whether `password` matches `hash` (an argon2 PHC string), on a blocking thread. Without a user
/// (`hash` is `None`), a made-up hash is checked instead, so that an unknown address takes as
/// long to refuse as a wrong password and does not tell that it is unknown.
pub async fn verify_password(password: SecretString, hash: Option<String>) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| UNKNOWN_USER_HASH.clone());
        let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("read hash: {e}"))?;
        let matches = Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .context("verify password")?
}

/// The hash checked for an address no user has: a random password's, made once.
static UNKNOWN_USER_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let password = random_password();
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

fn random_password() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::thread_rng().r#gen();
    hex::encode(bytes)
}
