//! A session that refreshes its auth token by itself (single-flight) as time passes.
//!
//! ```text
//! cargo run -p passage-examples --example long_lived_session
//! ```

fn main() -> std::process::ExitCode {
    passage_examples::main_with(|target| async move {
        passage_examples::long_lived_session::run(&target).await
    })
}
