//! Register a passkey and sign in with it (a software authenticator plays the device).
//!
//! ```text
//! cargo run -p passage-examples --example passkey_login
//! ```

fn main() -> std::process::ExitCode {
    passage_examples::main_with(|target| async move {
        passage_examples::passkey_login::run(&target).await
    })
}
