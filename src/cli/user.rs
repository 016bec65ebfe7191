//! `dangan user add NAME --role ROLE`, `dangan user set NAME …`, `dangan user passwd NAME`.

use std::io::Read;

use anyhow::Context;
use clap::Subcommand;

use crate::app::Stores;
use crate::config::Settings;
use crate::domain::patch::Patch;
use crate::domain::user::Role;
use crate::services::auth::{NewUserInput, random_password};
use crate::services::users::{PasswordReset, UserPatch};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input, or generated and printed.
    Add {
        /// Login name.
        name: String,
        /// admin, archivist, director, general_manager, dept_manager, staff or auditor.
        #[arg(long)]
        role: String,
        /// Department code, e.g. BGS.
        #[arg(long)]
        department: Option<String>,
        /// Where reminders for the user are e-mailed (when SMTP is configured).
        #[arg(long)]
        email: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Change a user: role, department, e-mail, active, employee folder. Disabling a user or
    /// changing their role ends their sessions.
    Set {
        /// Login name.
        name: String,
        #[arg(long)]
        role: Option<String>,
        /// Department code; an empty value clears it.
        #[arg(long)]
        department: Option<String>,
        /// E-mail address; an empty value clears it.
        #[arg(long)]
        email: Option<String>,
        /// true or false: whether the user may log in.
        #[arg(long)]
        active: Option<bool>,
        /// The id of the user's own employee party; an empty value clears it.
        #[arg(long)]
        party: Option<String>,
    },
    /// Set a user's password: read from standard input, or generated and printed. Their
    /// sessions end.
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

pub async fn run(settings: Settings, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            name,
            role,
            department,
            email,
            password_stdin,
        } => add(settings, name, role, department, email, password_stdin).await,
        UserCommand::Set {
            name,
            role,
            department,
            email,
            active,
            party,
        } => {
            let party = match party.as_deref().map(str::trim) {
                None => Patch::Unchanged,
                Some("") => Patch::Clear,
                Some(id) => Patch::Set(
                    id.parse()
                        .with_context(|| format!("--party: {id:?} is not a party id"))?,
                ),
            };
            let patch = UserPatch {
                role: role.as_deref().map(Role::parse).transpose()?,
                department: text_patch(department),
                email: text_patch(email),
                active,
                party_id: party,
            };
            with_app(&settings, |app| async move {
                let id = app.auth.user_id(&name).await?;
                let user = app.auth.update_user(None, id, patch).await?;
                println!(
                    "user {} is {} ({}), {}",
                    user.username,
                    user.role.as_str(),
                    if user.active { "active" } else { "disabled" },
                    user.party_id.map_or_else(
                        || "no employee folder".to_owned(),
                        |id| format!("employee folder {id}")
                    )
                );
                Ok(())
            })
            .await
        }
        UserCommand::Passwd {
            name,
            password_stdin,
        } => {
            let (password, generated) = read_or_generate(password_stdin)?;
            let shown = password.clone();
            with_app(&settings, |app| async move {
                let id = app.auth.user_id(&name).await?;
                app.auth
                    .reset_password(None, id, PasswordReset { password })
                    .await?;
                println!("password of {name} set; their sessions ended");
                if generated {
                    println!("password: {shown}");
                }
                Ok(())
            })
            .await
        }
    }
}

/// An option as a patch: absent leaves the value, empty clears it.
fn text_patch(value: Option<String>) -> Patch<String> {
    match value {
        None => Patch::Unchanged,
        Some(value) if value.trim().is_empty() => Patch::Clear,
        Some(value) => Patch::Set(value),
    }
}

/// The password from standard input, or a generated one (and whether it was generated).
fn read_or_generate(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((random_password(), true));
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context("cannot read the password from standard input")?;
    Ok((password.trim_end_matches(['\r', '\n']).to_owned(), false))
}

/// Opens the stores, runs `work` with the services, and closes the database.
async fn with_app<F, Fut>(settings: &Settings, work: F) -> anyhow::Result<()>
where
    F: FnOnce(crate::app::App) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let (stores, app) = Stores::open_app(settings).await?;
    let result = work(app).await;
    stores
        .database
        .close(settings.database.connect_timeout)
        .await;
    result
}

async fn add(
    settings: Settings,
    name: String,
    role: String,
    department: Option<String>,
    email: Option<String>,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let role = Role::parse(&role)?;
    let (password, generated) = read_or_generate(password_stdin)?;
    let (stores, app) = Stores::open_app(&settings).await?;
    let result = app
        .auth
        .create_user(
            None,
            NewUserInput {
                username: name,
                password: password.clone(),
                role,
                department,
                email,
            },
        )
        .await;
    stores
        .database
        .close(settings.database.connect_timeout)
        .await;
    let user = result?;
    println!(
        "created user {} ({}) with id {}",
        user.username,
        user.role.as_str(),
        user.id
    );
    if generated {
        println!("password: {password}");
    }
    Ok(())
}
