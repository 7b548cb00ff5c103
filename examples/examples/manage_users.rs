//! A back end on the Management API beside its front end on the Auth API.
//!
//! ```text
//! cargo run -p passage-examples --example manage_users
//! PASSAGE_APP_ID=... PASSAGE_API_KEY=... cargo run -p passage-examples --example manage_users
//! ```

fn main() -> std::process::ExitCode {
    passage_examples::main_with(|target| async move {
        passage_examples::manage_users::run(&target).await
    })
}
