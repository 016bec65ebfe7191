//! `dangan user add NAME --role ROLE`.

use std::io::Read;

use anyhow::Context;
use clap::Subcommand;

use crate::app::Stores;
use crate::config::Settings;
use crate::domain::user::Role;
use crate::services::auth::{NewUserInput, random_password};

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
}

pub async fn run(settings: Settings, command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Add {
        name,
        role,
        department,
        email,
        password_stdin,
    } = command;
    let role = Role::parse(&role)?;
    let (password, generated) = if password_stdin {
        let mut password = String::new();
        std::io::stdin()
            .read_to_string(&mut password)
            .context("cannot read the password from standard input")?;
        (password.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (random_password(), true)
    };
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
