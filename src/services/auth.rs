//! Users, passwords and login tokens. Tokens are random, shown once and stored only as
//! their SHA-256; passwords are stored as argon2id hashes.

use std::net::IpAddr;
use std::sync::LazyLock;
use std::time::Duration;

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, Pool};
use crate::domain::audit::AuditAction;
use crate::domain::user::{
    FREE_FAILURES_PER_ADDRESS, FREE_FAILURES_PER_USER, Role, Username, check_new_password,
    login_delay,
};

/// Prefix of every token, so a leaked one is recognisable.
const TOKEN_PREFIX: &str = "dgn_";
/// Verified against when the username is unknown, so timing does not reveal which names exist.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(random_password().as_bytes())
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

/// A successful login.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

/// A user as clients see it (never the password hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    pub role: Role,
    pub department_id: Option<Uuid>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    /// Where the user's e-mailed reminders go.
    pub email: Option<String>,
    /// The user's own employee folder, which they never see or borrow from.
    pub party_id: Option<Uuid>,
}

/// A user to create: `POST /api/v1/users` and `dangan user add`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserInput {
    pub username: String,
    pub password: String,
    pub role: Role,
    /// Department code, e.g. `BGS`.
    #[serde(default)]
    pub department: Option<String>,
    /// Where reminders for the user (or their role) are e-mailed, when SMTP is configured.
    #[serde(default)]
    pub email: Option<String>,
}

/// Logins, tokens and user accounts.
#[derive(Clone)]
pub struct AuthService {
    pool: Pool,
    token_ttl: Duration,
}

impl AuthService {
    pub fn new(pool: Pool, token_ttl: Duration) -> Self {
        Self { pool, token_ttl }
    }

    pub(super) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Checks a username and password and issues a token. An unknown name costs the same
    /// Argon2 work as a wrong password. Past a few failures of one name or one client
    /// address, further attempts wait a growing delay (429 with `Retry-After`); every
    /// failure is audited.
    #[tracing::instrument(skip_all, fields(user.name = %username))]
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> ServiceResult<Session> {
        let keys = login_keys(username, address);
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        throttle(&mut conn, &keys).await?;
        let user = db::users::find_by_username(&mut conn, username).await?;
        let hash = user.as_ref().map(|user| user.password_hash.clone());
        let verified = verify_password(password.to_owned(), hash).await?;
        let user = match user {
            Some(user) if verified && user.active => user,
            _ => {
                db::users::record_login_failure(&mut conn, &keys, FAILURES_FADE).await?;
                db::audit::append(
                    &mut conn,
                    None,
                    AuditAction::LoginFailed,
                    None,
                    &serde_json::json!({ "username": username, "address": address }),
                )
                .await?;
                return Err(ServiceError::Unauthorized(
                    "wrong username or password".into(),
                ));
            }
        };
        db::users::clear_login_failures(&mut conn, &keys[0]).await?;
        let token = new_token();
        let expires_at = Utc::now() + self.token_ttl;
        db::tokens::insert(&mut conn, &token_hash(&token), user.id, expires_at).await?;
        tracing::info!(user.id = %user.id, "login");
        Ok(Session {
            token,
            expires_at,
            user: user_view(user)?,
        })
    }

    /// The user holding `token`, if it is valid and unexpired.
    pub async fn authenticate(&self, token: &str) -> ServiceResult<Actor> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        let owner = db::tokens::find_owner(&mut conn, &token_hash(token))
            .await?
            .ok_or_else(invalid_token)?;
        actor_of(owner)
    }

    /// Ends the session of `token`.
    pub async fn logout(&self, token: &str) -> ServiceResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        db::tokens::delete(&mut conn, &token_hash(token)).await?;
        Ok(())
    }

    /// On an empty database, creates `admin` with `password`, or with a random password that
    /// is returned so the caller can show it once.
    pub async fn ensure_admin(&self, password: Option<&str>) -> ServiceResult<Option<String>> {
        let (password, generated) = match password {
            Some(password) => {
                // the same policy as every other password
                check_new_password(password).map_err(|error| {
                    ServiceError::Validation(format!("DANGAN_ADMIN_PASSWORD: {error}"))
                })?;
                (password.to_owned(), false)
            }
            None => (random_password(), true),
        };
        let hash = hash_password(password.clone()).await?;
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        let inserted = db::users::insert_if_none(
            &mut conn,
            &db::users::NewUser {
                id: Uuid::now_v7(),
                username: "admin",
                password_hash: &hash,
                role: Role::Admin.as_str(),
                department_id: None,
            },
        )
        .await?;
        Ok((inserted && generated).then_some(password))
    }

    /// Creates a user. `actor` is `None` for the command line, which is trusted.
    pub async fn create_user(
        &self,
        actor: Option<&Actor>,
        input: NewUserInput,
    ) -> ServiceResult<UserView> {
        if let Some(actor) = actor
            && actor.role != Role::Admin
        {
            return Err(ServiceError::Forbidden(
                "only an admin may create users".into(),
            ));
        }
        let username = Username::parse(&input.username)?;
        check_new_password(&input.password)?;
        let email = input
            .email
            .as_deref()
            .map(str::trim)
            .filter(|email| !email.is_empty());
        if let Some(email) = email
            && !is_plausible_email(email)
        {
            return Err(ServiceError::Validation(format!(
                "email: {email:?} is not an e-mail address"
            )));
        }
        let hash = hash_password(input.password).await?;
        let mut tx = db::begin(&self.pool).await?;
        let department_id = match input.department.as_deref() {
            None => None,
            Some(code) => Some(db::users::department_id(&mut tx, code).await?.ok_or_else(
                || {
                    ServiceError::Validation(format!(
                        "department: no department with code {code:?}"
                    ))
                },
            )?),
        };
        let id = Uuid::now_v7();
        db::users::insert(
            &mut tx,
            &db::users::NewUser {
                id,
                username: username.as_str(),
                password_hash: &hash,
                role: input.role.as_str(),
                department_id,
            },
        )
        .await
        .map_err(|error| match error.conflict() {
            Some(db::Conflict::Username) => {
                ServiceError::Conflict(format!("username {:?} is taken", username.as_str()))
            }
            _ => error.into(),
        })?;
        db::users::set_email(&mut tx, id, email).await?;
        db::audit::append(
            &mut tx,
            actor.map(|actor| actor.user_id),
            AuditAction::UserCreated,
            None,
            &serde_json::json!({ "user_id": id, "username": username.as_str(), "role": input.role }),
        )
        .await?;
        let user = db::users::find_by_username(&mut tx, username.as_str())
            .await?
            .ok_or_else(|| ServiceError::Internal("user vanished after insert".into()))?;
        tx.commit().await.map_err(db::DbError::from)?;
        user_view(user)
    }

    /// Removes expired tokens; returns how many.
    pub async fn purge_expired_tokens(&self) -> ServiceResult<u64> {
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        Ok(db::tokens::delete_expired(&mut conn).await?)
    }

    /// Every user (admins only).
    pub async fn list_users(&self, actor: &Actor) -> ServiceResult<Vec<UserView>> {
        if actor.role != Role::Admin {
            return Err(ServiceError::Forbidden(
                "only an admin may list users".into(),
            ));
        }
        let mut conn = self.pool.acquire().await.map_err(db::DbError::from)?;
        db::users::list(&mut conn)
            .await?
            .into_iter()
            .map(user_view)
            .collect()
    }
}

pub(super) fn user_view(user: db::users::UserRow) -> ServiceResult<UserView> {
    Ok(UserView {
        id: user.id,
        username: user.username,
        role: Role::parse(&user.role)?,
        department_id: user.department_id,
        active: user.active,
        created_at: user.created_at,
        email: user.email,
        party_id: user.party_id,
    })
}

/// One `@` with something on both sides and no spaces: enough to catch slips; the mail
/// server is the judge of the rest.
pub(super) fn is_plausible_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// How long a run of failed logins is remembered after its last failure.
const FAILURES_FADE: Duration = Duration::from_secs(15 * 60);

/// The throttle keys of a login: its user name, then its client address if known.
fn login_keys(username: &str, address: Option<IpAddr>) -> Vec<String> {
    let mut keys = vec![format!("user:{}", username.trim().to_lowercase())];
    keys.extend(address.map(|address| format!("addr:{address}")));
    keys
}

/// `TooManyRequests` while any key of the login must still wait after its failures.
async fn throttle(conn: &mut db::PgConnection, keys: &[String]) -> ServiceResult<()> {
    let now = Utc::now();
    let mut wait = chrono::Duration::zero();
    for (key, failures, last) in db::users::login_failures(conn, keys).await? {
        let free = if key.starts_with("user:") {
            FREE_FAILURES_PER_USER
        } else {
            FREE_FAILURES_PER_ADDRESS
        };
        let delay = chrono::Duration::from_std(login_delay(failures, free)).unwrap_or_default();
        if last + chrono::Duration::from_std(FAILURES_FADE).unwrap_or_default() < now {
            continue;
        }
        wait = wait.max(last + delay - now);
    }
    if wait > chrono::Duration::zero() {
        let seconds = u64::try_from(wait.num_seconds() + 1).unwrap_or(1);
        return Err(ServiceError::TooManyRequests {
            detail: format!("too many failed logins; try again in {seconds} s"),
            retry_after: seconds,
        });
    }
    Ok(())
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The caller behind a token that was found valid.
pub(super) fn actor_of(owner: db::tokens::TokenOwner) -> ServiceResult<Actor> {
    Ok(Actor {
        user_id: owner.user_id,
        username: owner.username,
        role: Role::parse(&owner.role)?,
        department_id: owner.department_id,
        party_id: owner.party_id,
    })
}

/// What a token that is no longer (or never was) valid answers: 401.
pub(super) fn invalid_token() -> ServiceError {
    ServiceError::Unauthorized("the token is invalid or has expired; log in again".into())
}

pub(super) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A random 20-character alphanumeric password.
pub fn random_password() -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// Hashes a password with argon2id on a blocking thread (it takes tens of milliseconds).
pub async fn hash_password(password: String) -> ServiceResult<String> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| ServiceError::Internal(format!("hashing a password: {error}")))
    })
    .await
    .map_err(|error| ServiceError::Internal(error.to_string()))?
}

/// Verifies on a blocking thread; with no hash (unknown user) it spends the same time
/// verifying against a dummy hash, and fails.
pub(super) async fn verify_password(password: String, hash: Option<String>) -> ServiceResult<bool> {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        // always verify: skipping it for unknown names made them answer 16x faster
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        known && matches
    })
    .await
    .map_err(|error| ServiceError::Internal(error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_random_and_hashed() {
        let first = new_token();
        let second = new_token();
        assert!(first.starts_with(TOKEN_PREFIX));
        assert_ne!(first, second);
        assert_eq!(token_hash(&first).len(), 32);
        assert_ne!(token_hash(&first), token_hash(&second));
    }

    #[tokio::test]
    async fn passwords_verify_only_against_their_own_hash() {
        let hash = hash_password("correct horse".into()).await.expect("hashes");
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse".into(), Some(hash.clone()))
                .await
                .expect("verifies")
        );
        assert!(
            !verify_password("wrong horse".into(), Some(hash))
                .await
                .expect("verifies")
        );
        assert!(
            !verify_password("correct horse".into(), None)
                .await
                .expect("verifies")
        );
    }
}
