//! Users: agents and admins of one tenant, with argon2id password hashes.

use anyhow::Context;
use argon2::{Argon2, PasswordHasher, password_hash::SaltString};
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

/// Creates a user; e-mail addresses are unique across tenants (case-insensitively).
pub async fn create(
    conn: &mut PgConnection,
    tenant_id: TenantId,
    email: &str,
    role: Role,
    password: &SecretString,
) -> anyhow::Result<UserId> {
    let email = email.trim();
    anyhow::ensure!(email.contains('@'), "{email:?} is not an e-mail address");
    anyhow::ensure!(
        password.expose_secret().chars().count() >= MIN_PASSWORD_LEN,
        "the password must have at least {MIN_PASSWORD_LEN} characters"
    );
    let hash = hash_password(password)?;
    let id = sqlx::query_scalar!(
        r#"insert into users (tenant_id, email, password_hash, role) values ($1, $2, $3, $4)
           on conflict (lower(email)) do nothing returning id as "id: UserId""#,
        tenant_id as TenantId,
        email,
        hash,
        role as Role
    )
    .fetch_optional(conn)
    .await
    .context("create user")?;
    id.with_context(|| format!("a user with the e-mail {email} already exists"))
}

/// An argon2id PHC string for `password`.
pub fn hash_password(password: &SecretString) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| anyhow::anyhow!("hash password: {e}"))
}
