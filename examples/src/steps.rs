//! [`Steps`]: the numbered, step-by-step narration the examples print.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Prints an example's title, then numbered steps with indented details.
#[derive(Debug, Default)]
pub struct Steps {
    next: AtomicUsize,
    quiet: bool,
}

impl Steps {
    /// Prints `title` underlined and starts counting steps at 1.
    pub fn new(title: &str) -> Self {
        println!("\n{title}\n{}", "=".repeat(title.chars().count()));
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
            println!("\n[{n}] {}", text.as_ref());
        }
    }

    /// Prints a detail of the current step, indented.
    pub fn detail(&self, text: impl AsRef<str>) {
        if !self.quiet {
            println!("    {}", text.as_ref());
        }
    }

    /// Prints the closing line.
    pub fn done(&self, text: impl AsRef<str>) {
        if !self.quiet {
            println!("\nDone: {}\n", text.as_ref());
        }
    }
}
