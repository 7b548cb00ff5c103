//! An axum service that protects a route by verifying Passage JWTs with the cached verifier;
//! it calls itself with and without a token, then stops.
//!
//! ```text
//! cargo run -p passage-examples --example axum_service
//! ```

fn main() -> std::process::ExitCode {
    passage_examples::main_with(|target| async move {
        passage_examples::axum_service::run(&target).await
    })
}
