//! [`Steps`]: the numbered, step-by-step narration the examples print.

use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Everything the examples printed in this process (see [`transcript`]).
static TRANSCRIPT: Mutex<String> = Mutex::new(String::new());

/// Prints `text` and a newline to stdout, and keeps it in the [`transcript`].
pub fn emit(text: &str) {
    println!("{text}");
    record(text, "\n");
}

/// Prints `text` without a newline (a prompt) and flushes stdout; keeps it in the [`transcript`].
pub fn emit_inline(text: &str) {
    print!("{text}");
    let _ = std::io::stdout().flush();
    record(text, "");
}

fn record(text: &str, end: &str) {
    let mut transcript = TRANSCRIPT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    transcript.push_str(text);
    transcript.push_str(end);
}

/// Everything the examples of this process have printed so far (all examples, all threads), so
/// a test can check that no secret was shown.
pub fn transcript() -> String {
    TRANSCRIPT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

/// Prints an example's title, then numbered steps with indented details.
#[derive(Debug, Default)]
pub struct Steps {
    next: AtomicUsize,
    quiet: bool,
}

impl Steps {
    /// Prints `title` underlined and starts counting steps at 1.
    pub fn new(title: &str) -> Self {
        emit(&format!("\n{title}\n{}", "=".repeat(title.chars().count())));
        Self {
            next: AtomicUsize::new(1),
            quiet: false,
        }
    }

    /// Steps that print nothing (for helpers run inside another example).
    pub fn quiet() -> Self {
        Self {
            next: AtomicUsize::new(1),
            quiet: true,
        }
    }

    /// Prints the next numbered step.
    pub fn step(&self, text: impl AsRef<str>) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        if !self.quiet {
            emit(&format!("\n[{n}] {}", text.as_ref()));
        }
    }

    /// Prints a detail of the current step, indented.
    pub fn detail(&self, text: impl AsRef<str>) {
        if !self.quiet {
            emit(&format!("    {}", text.as_ref()));
        }
    }

    /// Prints the closing line.
    pub fn done(&self, text: impl AsRef<str>) {
        if !self.quiet {
            emit(&format!("\nDone: {}\n", text.as_ref()));
        }
    }
}
