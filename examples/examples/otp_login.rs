//! Sign in with a one-time passcode.
//!
//! ```text
//! cargo run -p passage-examples --example otp_login
//! PASSAGE_APP_ID=... cargo run -p passage-examples --example otp_login   # a real deployment
//! ```

fn main() -> std::process::ExitCode {
    passage_examples::main_with(
        |target| async move { passage_examples::otp_login::run(&target).await },
    )
}
