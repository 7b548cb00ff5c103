//! Sign in with a magic link: the waiter polls while the user opens the link.
//!
//! ```text
//! cargo run -p passage-examples --example magic_link_login
//! ```

fn main() -> std::process::ExitCode {
    passage_examples::main_with(|target| async move {
        passage_examples::magic_link_login::run(&target).await
    })
}
