//! The project's architecture rules, one row per crate. A crate in this table
//! must have no import circle among its files; the other fields add layers,
//! independent directories and forbidden dependencies.
//!
//! To add a crate: a row with its directory; list its top-level modules in
//! `layers` (lowest first) if it is layered. Every directory and module a row
//! names must exist, so a rule cannot pass silently after a move.

/// The rules of one crate.
#[derive(Clone, Copy, Debug)]
pub struct CrateRules {
    /// The crate's directory, relative to the workspace root (`codegen`).
    pub dir: &'static str,
    /// Its top-level modules in layers, lowest first. A module may import
    /// modules of earlier layers only: never one of its own layer, never a
    /// later one. Every top-level module must be listed; the roots (`lib.rs`,
    /// `main.rs`) are exempt. Empty: the crate is not layered.
    pub layers: &'static [&'static [&'static str]],
    /// Module directories (relative to `src/`, e.g. `http/routes`) whose
    /// modules never import each other (they may import the directory's own
    /// `mod.rs`).
    pub independent: &'static [&'static str],
    /// Workspace crate directories the crate must not depend on (in any
    /// manifest table, directly or through another workspace crate, or by
    /// naming the crate in its source). A directory also covers the crates
    /// under it (`generated` covers `generated/auth`).
    pub forbidden: &'static [&'static str],
}

/// The rules of the workspace.
pub const RULES: &[CrateRules] = &[
    CrateRules {
        dir: "codegen",
        layers: &[
            &["spec"],
            &["naming"],
            &["lint", "secrets"],
            &["isolate"],
            &["generate"],
            &["scratch"],
            &["diff", "mutate"],
        ],
        independent: &[],
        // The generator is built before any client crate exists and must not need one.
        forbidden: &["generated", "clients", "runtime", "emulator"],
    },
    CrateRules {
        dir: "runtime",
        layers: &[
            &["secret", "backoff"],
            &["clock", "redact", "retry", "operation", "response"],
            &["call_error"],
            &["decode", "encoding", "hooks", "redirect"],
            &["error"],
            &["client_state"],
            &["pipeline", "builder"],
        ],
        independent: &[],
        // The runtime knows no spec: generated crates hand it their table and error body.
        forbidden: &["generated", "clients", "codegen", "emulator"],
    },
    CrateRules {
        dir: "generated/auth",
        layers: &[],
        independent: &[],
        forbidden: &["clients", "codegen", "emulator"],
    },
    CrateRules {
        dir: "generated/management",
        layers: &[],
        independent: &[],
        forbidden: &["clients", "codegen", "emulator"],
    },
    CrateRules {
        dir: "clients/auth",
        layers: &[],
        independent: &[],
        // The emulator is a dev-dependency of its README tests; the library never uses it.
        forbidden: &["codegen", "clients/management"],
    },
    CrateRules {
        dir: "clients/management",
        layers: &[],
        independent: &[],
        forbidden: &["codegen", "emulator"],
    },
    CrateRules {
        dir: "emulator",
        layers: &[
            &["base"],
            &["jwt"],
            &["relying_party"],
            &["settings"],
            &["model"],
            &["domain"],
            &["store"],
            &["context"],
            &["http"],
            &["proxy", "admin_client"],
            &["server"],
        ],
        independent: &["http/routes"],
        // The emulator serves the APIs; it never calls them through our clients.
        forbidden: &["clients", "generated", "runtime", "codegen"],
    },
    CrateRules {
        dir: "xtask",
        layers: &[],
        independent: &[],
        forbidden: &["generated", "emulator"],
    },
];
