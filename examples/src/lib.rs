//! Runnable examples of `passage-auth-client` and `passage-management-client`.
//!
//! Each example is a thin `main` in `examples/examples/` around a `run` function of one module
//! here, so the examples are also run as tests (`examples/tests/run_examples.rs`).
//!
//! With no environment, an example starts the emulator in-process and runs against it; with
//! `PASSAGE_APP_ID` (and optionally `PASSAGE_BASE_URL`) it runs against that deployment and asks
//! on stdin for what only the user can provide (the passcode from their e-mail, for instance).
//! See [`Target::from_env`].
//!
//! ```text
//! cargo run -p passage-examples --example otp_login
//! cargo run -p passage-examples --example magic_link_login
//! cargo run -p passage-examples --example passkey_login
//! cargo run -p passage-examples --example long_lived_session
//! cargo run -p passage-examples --example axum_service
//! cargo run -p passage-examples --example manage_users
//! ```

#![warn(missing_docs)]

pub mod axum_service;
pub mod long_lived_session;
pub mod magic_link_login;
pub mod manage_users;
pub mod otp;
pub mod otp_login;
pub mod passkey_login;
pub mod steps;
pub mod target;

pub use steps::Steps;
pub use target::{Target, DEFAULT_REMOTE_BASE_URL, DEFAULT_REMOTE_MANAGEMENT_BASE_URL};

/// Runs an example's `run` on a fresh multi-threaded runtime, printing its error (if any) and
/// turning it into the exit code. Used by the thin `main`s in `examples/examples/`.
pub fn main_with<F, Fut, T>(run: F) -> std::process::ExitCode
where
    F: FnOnce(Target) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let target = Target::from_env().await?;
        run(target).await
    });
    match result {
        Ok(_) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
