//! progenitor's settings: the builder interface, hooks with the runtime's
//! `ClientState` as the client's `inner` value, and the replacement types.

use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, HooksMode, InterfaceStyle, TagStyle};

use super::options::{Options, RUNTIME_CRATE};
use super::replacement_types::ReplacementTypes;

/// The settings progenitor runs with for `options` and the spec's replacement types.
pub(super) fn progenitor_settings(
    options: &Options,
    types: &ReplacementTypes,
) -> GenerationSettings {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_hooks(HooksMode::Expected)
        .with_inner_type(parse_tokens(&format!("::{RUNTIME_CRATE}::ClientState")))
        .with_derive("PartialEq");
    for (name, path, impls) in types.replacements(&options.module_path()) {
        settings.with_replacement(&name, path, impls.into_iter());
    }
    settings
}

fn parse_tokens(s: &str) -> TokenStream {
    s.parse().expect("inner type is a Rust path")
}
