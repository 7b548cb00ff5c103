//! The options of a generation: how the generated module is wired into the
//! crate it is written into.

/// How the generated code is wired into the client crate.
#[derive(Clone, Debug)]
pub struct Options {
    /// Path (from the crate root) of the module that `generated.rs` becomes.
    pub module_path: String,
    /// The `inner` type of the generated `Client`, which implements
    /// the runtime's `ClientHooks` in handwritten code.
    pub inner_type: String,
    /// The spec's name as written in the header (keep it relative, so the
    /// output is the same on every machine).
    pub spec_display_name: String,
    /// The error type every generated `send()` returns.
    pub error_type: String,
    /// The function every generated `send()` passes its call through:
    /// `fn(impl Future<Output = Result<T, runtime::Error<E>>>) -> impl
    /// Future<Output = Result<T, error_type>>` (an `async fn` of that shape too).
    pub call_wrapper: String,
    /// The module the generated code calls instead of `progenitor_client`
    /// (every `progenitor_client::` path is rewritten to start with it): it
    /// provides the same items (`ResponseValue`, `Error`, `ClientHooks`, ...).
    pub runtime: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            module_path: "crate::generated".into(),
            inner_type: "crate::hooks::ClientState".into(),
            spec_display_name: "spec/passage-auth.yaml".into(),
            error_type: "crate::Error".into(),
            call_wrapper: "crate::error::finish_call".into(),
            runtime: "crate::runtime".into(),
        }
    }
}
