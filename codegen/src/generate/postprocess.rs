//! Rewrites of progenitor's output that make the generated crate keep its
//! promises by construction:
//!
//! - every operation builder's `send()` returns the crate's own error type
//!   (progenitor's body runs as an async block whose result the crate's call
//!   wrapper converts and redacts);
//! - path parameters are percent-encoded as they are formatted into the URL
//!   (`encode_path(&x)`, not `encode_path(&x.to_string())`, which copied each);
//! - requests carry the headers the spec declares, not progenitor's own
//!   `api-version` header (an Oxide convention Passage never read), and an
//!   operation without header parameters builds no header map for them;
//! - the code calls the runtime crate instead of the `progenitor-client`
//!   crate (every `progenitor_client::` path starts with the runtime's path
//!   instead), so the runtime chooses its dependencies' features; progenitor's
//!   `Error` is the runtime's `CallError` (the crate's own `Error` is the
//!   runtime's redacting error, which every `send()` returns), kept private;
//! - `Client::new` and `Client::new_with_client` are dropped: a client is
//!   made from the parts the runtime's builder makes
//!   (`GeneratedClient::from_parts`), so a client crate's builder and its
//!   invariants are the only way to one;
//! - the spec's structs and enums are `#[non_exhaustive]`, so a change that
//!   `spec-diff` calls compatible (a new optional field, a new variant) is
//!   compatible for users' code too (they build values with the builders).

use syn::visit_mut::{self, VisitMut};
use syn::{parse_quote, ImplItem, Item, Visibility};

/// Paths the rewritten code calls.
pub(crate) struct Wiring {
    /// The error type every `send()` returns (e.g. `crate::api::Error`).
    pub error_type: syn::Path,
    /// `fn(impl Future<Output = Result<T, CallError<E>>>) -> impl Future<Output = Result<T, ErrorType>>`.
    pub call_wrapper: syn::Path,
    /// The same for a call of a known operation: `fn(&OperationSpec, impl Future<..>) -> impl Future<..>`.
    pub call_wrapper_for: syn::Path,
    /// The crate that stands in for `progenitor_client` (e.g. `::passage_runtime`).
    pub runtime: syn::Path,
    /// The API's error body type (e.g. `crate::api::types::ApiError`).
    pub error_body: syn::Path,
    /// The module of the operation table (e.g. `crate::api::operations`).
    pub operations: syn::Path,
    /// The operation ids in the table's order.
    pub operation_ids: Vec<String>,
}

/// progenitor's name for the error of a call, and the runtime's.
const PROGENITOR_ERROR: &str = "Error";
const CALL_ERROR: &str = "CallError";

/// Applies every rewrite to the parsed file.
pub(crate) fn apply(file: &mut syn::File, wiring: &Wiring) {
    UseRuntime(&wiring.runtime).visit_file_mut(file);
    for item in &mut file.items {
        // The spec's types keep their own names (a schema may be called `Error`).
        if !matches!(item, Item::Mod(module) if module.ident == "types") {
            CallErrorName.visit_item_mut(item);
        }
    }
    keep_call_error_private(file, &wiring.runtime);
    for item in &mut file.items {
        match item {
            Item::Mod(module) if module.ident == "types" => mark_types(module),
            Item::Mod(module) if module.ident == "builder" => {
                if let Some((_, items)) = &mut module.content {
                    for item in items {
                        if let Item::Impl(block) = item {
                            defer_unset_messages(block);
                            rewrite_send(block, wiring);
                        }
                    }
                }
            }
            Item::Impl(block) if is_client_impl(block) => hide_constructors(block),
            _ => {}
        }
    }
}

/// Whether `block` is the inherent `impl Client { .. }`.
pub(super) fn is_client_impl(block: &syn::ItemImpl) -> bool {
    block.trait_.is_none()
        && matches!(&*block.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"))
}

/// `Client::new` (which builds its own `reqwest::Client`, redirects
/// followed) and `Client::new_with_client` are dropped: the generated
/// `GeneratedClient::from_parts` takes what only the runtime's builder makes.
fn hide_constructors(block: &mut syn::ItemImpl) {
    block.items.retain(
        |item| !matches!(item, ImplItem::Fn(f) if f.sig.ident == "new" || f.sig.ident == "new_with_client"),
    );
}

/// Renames progenitor's `Error` (the error of a call) to the runtime's
/// `CallError` wherever a path starts with it or a `use` names it.
struct CallErrorName;

impl VisitMut for CallErrorName {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path.leading_colon.is_none() {
            if let Some(first) = path.segments.first_mut() {
                if first.ident == PROGENITOR_ERROR {
                    first.ident = syn::Ident::new(CALL_ERROR, first.ident.span());
                }
            }
        }
        visit_mut::visit_path_mut(self, path);
    }

    fn visit_use_name_mut(&mut self, name: &mut syn::UseName) {
        if name.ident == PROGENITOR_ERROR {
            name.ident = syn::Ident::new(CALL_ERROR, name.ident.span());
        }
    }
}

/// Takes `CallError` out of the top-level `pub use` of runtime items and
/// imports it privately: a generated crate's public error is its own `Error`.
fn keep_call_error_private(file: &mut syn::File, runtime: &syn::Path) {
    let mut removed = false;
    for item in &mut file.items {
        let Item::Use(item_use) = item else { continue };
        if !matches!(item_use.vis, Visibility::Public(_)) {
            continue;
        }
        removed |= remove_use_name(&mut item_use.tree, CALL_ERROR);
    }
    if removed {
        file.items.insert(0, parse_quote!(use #runtime::CallError;));
    }
}

/// Removes `name` from the groups of `tree`; true when it was there.
fn remove_use_name(tree: &mut syn::UseTree, name: &str) -> bool {
    match tree {
        syn::UseTree::Path(path) => remove_use_name(&mut path.tree, name),
        syn::UseTree::Group(group) => {
            let before = group.items.len();
            group.items = std::mem::take(&mut group.items)
                .into_iter()
                .filter(|t| !matches!(t, syn::UseTree::Name(n) if n.ident == name))
                .collect();
            let mut removed = group.items.len() != before;
            for item in group.items.iter_mut() {
                removed |= remove_use_name(item, name);
            }
            removed
        }
        _ => false,
    }
}

/// Makes `send` return the crate's error: its body runs as an async block
/// whose result (progenitor's) the call wrapper converts. `send` is a plain
/// `fn` returning the wrapper's future (not an `async fn` awaiting it): one
/// layer of future less, so a call's state is not copied once more into an
/// enclosing future when it starts.
fn rewrite_send(block: &mut syn::ItemImpl, wiring: &Wiring) {
    // The builder's lifetimes (its `&'a Client`), which the returned future captures.
    let lifetimes: Vec<syn::Lifetime> = block
        .generics
        .lifetimes()
        .map(|l| l.lifetime.clone())
        .collect();
    for item in &mut block.items {
        let ImplItem::Fn(f) = item else { continue };
        if f.sig.ident != "send" {
            continue;
        }
        let Some(ok_type) = ok_type_of_result(&f.sig.output) else {
            continue;
        };
        let error_type = &wiring.error_type;
        drop_api_version_header(&mut f.block);
        EncodeInPlace.visit_block_mut(&mut f.block);
        let row = call_pipeline_directly(&mut f.block, wiring);
        // A call with a row whose success answers are all JSON hands its answer on unread
        // (its arms rewritten here), for the wrapper to decode in place as `value_type`.
        let mut json = None;
        if let (Some(_), Some(value_type)) = (row, json_value_type(&ok_type)) {
            if hand_on_json_answers(&mut f.block, wiring) {
                json = Some(value_type);
            }
        }
        let body = &f.block;
        f.sig.asyncness = None;
        f.sig.output = parse_quote!(
            -> impl ::std::future::Future<
                Output = ::std::result::Result<#ok_type, #error_type>,
            > + use<#(#lifetimes),*>
        );
        f.block = match (row, json) {
            (Some(index), Some(value_type)) => {
                let runtime = &wiring.runtime;
                let error_body = &wiring.error_body;
                let operations = &wiring.operations;
                parse_quote!({
                    #runtime::finish_json_call_for::<#error_body, #value_type, _>(
                        &#operations::OPERATIONS[#index],
                        async move #body,
                    )
                })
            }
            // The wrapper is told the operation: one without secrets skips lending its slot.
            (Some(index), None) => {
                let wrapper = &wiring.call_wrapper_for;
                let operations = &wiring.operations;
                parse_quote!({ #wrapper(&#operations::OPERATIONS[#index], async move #body) })
            }
            (None, _) => {
                let wrapper = &wiring.call_wrapper;
                parse_quote!({ #wrapper(async move #body) })
            }
        };
    }
}

/// `T` of `ResponseValue<T>`.
fn json_value_type(ok_type: &syn::Type) -> Option<syn::Type> {
    first_type_argument(ok_type, "ResponseValue")
}

/// progenitor decodes each success answer of a call where it matches the
/// answer's status (`200u16 => ResponseValue::from_response(response).await`),
/// and the decoded value is then moved out through the body's future and the
/// call wrapper's. When every success arm of the status match decodes JSON
/// (none answers `Ok(ResponseValue::empty(..))` or `stream`), this makes
/// each of them hand on the answer read but undecoded
/// (`JsonAnswer::read(response).await`) and returns true: the runtime's
/// wrapper (`finish_json_call_for`) then decodes it where the caller
/// receives it. The error arms (`Err(CallError::ErrorResponse(..))`) are left
/// as they are.
fn hand_on_json_answers(block: &mut syn::Block, wiring: &Wiring) -> bool {
    let Some(arms) = status_match_arms(block) else {
        return false;
    };
    let decodes_json = |expr: &syn::Expr| {
        same_tokens(
            unbraced(expr),
            "ResponseValue::from_response(response).await",
        )
    };
    let other_success = |expr: &syn::Expr| {
        matches!(unbraced(expr), syn::Expr::Call(call)
            if matches!(&*call.func, syn::Expr::Path(p) if p.path.is_ident("Ok")))
    };
    let json_arms = arms.iter().filter(|arm| decodes_json(&arm.body)).count();
    if json_arms == 0 || arms.iter().any(|arm| other_success(&arm.body)) {
        return false;
    }
    let runtime = &wiring.runtime;
    for arm in arms.iter_mut() {
        if decodes_json(&arm.body) {
            *arm.body = parse_quote!(#runtime::JsonAnswer::read(response).await);
        }
    }
    true
}

/// The arms of the body's last expression, `match response.status().as_u16() { .. }`.
fn status_match_arms(block: &mut syn::Block) -> Option<&mut Vec<syn::Arm>> {
    let syn::Stmt::Expr(syn::Expr::Match(m), None) = block.stmts.last_mut()? else {
        return None;
    };
    same_tokens(&m.expr, "response.status().as_u16()").then_some(&mut m.arms)
}

/// The expression inside `{ expr }` (an arm's body, as progenitor writes it), or `expr`.
fn unbraced(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Block(b) if b.attrs.is_empty() && b.label.is_none() => {
            match b.block.stmts.as_slice() {
                [syn::Stmt::Expr(inner, None)] => inner,
                _ => expr,
            }
        }
        _ => expr,
    }
}

/// Whether `expr` is the expression `text`, token for token.
fn same_tokens(expr: &syn::Expr, text: &str) -> bool {
    use quote::ToTokens;
    let expected: proc_macro2::TokenStream = text.parse().expect("a valid expression");
    expr.to_token_stream().to_string() == expected.to_string()
}

/// The suffix of progenitor's message for a builder field never set.
const NOT_INITIALIZED: &str = " was not initialized";

/// progenitor's builders start every required field as
/// `Err("x was not initialized".to_string())`: an allocation for each field
/// of every call, set or not. This starts them as `Err(String::new())` (no
/// allocation) and makes `send()` write the message only when the field is
/// still unset (its error empty; a setter's errors never are).
fn defer_unset_messages(block: &mut syn::ItemImpl) {
    let mut messages = Vec::new();
    for item in &mut block.items {
        if let ImplItem::Fn(f) = item {
            if f.sig.ident == "new" {
                StartEmpty(&mut messages).visit_block_mut(&mut f.block);
            }
        }
    }
    if messages.is_empty() {
        return;
    }
    for item in &mut block.items {
        if let ImplItem::Fn(f) = item {
            if f.sig.ident == "send" {
                WriteUnsetMessage(&messages).visit_block_mut(&mut f.block);
            }
        }
    }
}

/// Rewrites `field: Err("field was not initialized".to_string())` to
/// `field: Err(String::new())`, collecting (field, message).
struct StartEmpty<'a>(&'a mut Vec<(String, String)>);

impl VisitMut for StartEmpty<'_> {
    fn visit_field_value_mut(&mut self, field: &mut syn::FieldValue) {
        let syn::Member::Named(name) = &field.member else {
            return;
        };
        let syn::Expr::Call(call) = &field.expr else {
            return;
        };
        let is_err = matches!(&*call.func, syn::Expr::Path(p) if p.path.is_ident("Err"));
        let Some(syn::Expr::MethodCall(to_string)) = call.args.first() else {
            return;
        };
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(message),
            ..
        }) = &*to_string.receiver
        else {
            return;
        };
        if !is_err || to_string.method != "to_string" || !message.value().ends_with(NOT_INITIALIZED)
        {
            return;
        }
        self.0.push((name.to_string(), message.value()));
        field.expr = parse_quote!(Err(::std::string::String::new()));
    }
}

/// Rewrites `field(...).map_err(CallError::InvalidRequest)` (a chain starting
/// at a field `StartEmpty` changed) so that an empty error becomes the
/// field's message.
struct WriteUnsetMessage<'a>(&'a [(String, String)]);

impl VisitMut for WriteUnsetMessage<'_> {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        visit_mut::visit_expr_method_call_mut(self, call);
        let to_invalid_request = call.method == "map_err"
            && call.args.len() == 1
            && matches!(&call.args[0], syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "InvalidRequest"));
        if !to_invalid_request {
            return;
        }
        let mut root = &*call.receiver;
        while let syn::Expr::MethodCall(inner) = root {
            root = &inner.receiver;
        }
        let syn::Expr::Path(root) = root else { return };
        let Some((_, message)) = self.0.iter().find(|(name, _)| root.path.is_ident(name)) else {
            return;
        };
        let variant = &call.args[0];
        call.args[0] = parse_quote!(|e: ::std::string::String| #variant(if e.is_empty() {
            #message.to_string()
        } else {
            e
        }));
    }
}

/// Replaces progenitor's hook calls in a `send()` body
///
/// ```text
/// let info = OperationInfo { operation_id: "get_app" };
/// client.pre(&mut request, &info).await?;
/// let result = client.exec(request, &info).await;
/// client.post(&result, &info).await?;
/// ```
///
/// with the pipeline called directly with the operation's row of the table:
///
/// ```text
/// let operation_row = &operations::OPERATIONS[14usize];
/// pipeline::check_credentials(&client.inner, Some(operation_row))?;
/// let result = pipeline::send::<ErrorBody>(&client.client, &client.inner, Some(operation_row), request).await;
/// ```
///
/// The same pipeline the `ClientHooks` impl runs, without the two no-op
/// awaits around it (the request and the answer would each be moved into the
/// call's state once more) and without looking the operation up by name.
/// A body of another shape is left as it is (it still reaches the pipeline
/// through the hooks).
fn call_pipeline_directly(block: &mut syn::Block, wiring: &Wiring) -> Option<usize> {
    let id = block.stmts.iter().find_map(operation_info_id)?;
    let index = wiring.operation_ids.iter().position(|o| *o == id)?;
    let has = |name: &str| block.stmts.iter().any(|s| hook_call(s) == Some(name));
    if !(has("pre") && has("exec") && has("post")) {
        return None;
    }
    let runtime = &wiring.runtime;
    let operations = &wiring.operations;
    let body = &wiring.error_body;
    let mut stmts = Vec::with_capacity(block.stmts.len());
    for stmt in block.stmts.drain(..) {
        if operation_info_id(&stmt).is_some() {
            stmts.push(parse_quote!(let operation_row = &#operations::OPERATIONS[#index];));
            continue;
        }
        match hook_call(&stmt) {
            Some("pre") => stmts.push(parse_quote!(
                #runtime::pipeline::check_credentials(&client.inner, Some(operation_row))?;
            )),
            Some("exec") => stmts.push(parse_quote!(
                let result = #runtime::pipeline::send::<#body>(
                    &client.client,
                    &client.inner,
                    Some(operation_row),
                    request,
                )
                .await;
            )),
            Some(_) => {}
            None => stmts.push(stmt),
        }
    }
    block.stmts = stmts;
    Some(index)
}

/// The operation id of `let info = OperationInfo { operation_id: "..." };`.
fn operation_info_id(stmt: &syn::Stmt) -> Option<String> {
    let syn::Stmt::Local(local) = stmt else {
        return None;
    };
    let syn::Expr::Struct(info) = &*local.init.as_ref()?.expr else {
        return None;
    };
    if !info.path.is_ident("OperationInfo") {
        return None;
    }
    info.fields
        .iter()
        .find_map(|field| match (&field.member, &field.expr) {
            (
                syn::Member::Named(name),
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(id),
                    ..
                }),
            ) if name == "operation_id" => Some(id.value()),
            _ => None,
        })
}

/// `pre`, `exec` or `post` for a statement calling that hook on `client`
/// (`client.pre(..).await?;`, `let result = client.exec(..).await;`).
fn hook_call(stmt: &syn::Stmt) -> Option<&'static str> {
    let expr = match stmt {
        syn::Stmt::Expr(expr, Some(_)) => expr,
        syn::Stmt::Local(local) => &*local.init.as_ref()?.expr,
        _ => return None,
    };
    let expr = match expr {
        syn::Expr::Try(t) => &*t.expr,
        other => other,
    };
    let syn::Expr::Await(awaited) = expr else {
        return None;
    };
    let syn::Expr::MethodCall(call) = &*awaited.base else {
        return None;
    };
    let on_client = matches!(&*call.receiver, syn::Expr::Path(p) if p.path.is_ident("client"));
    if !on_client {
        return None;
    }
    ["pre", "exec", "post"]
        .into_iter()
        .find(|hook| call.method == hook)
}

/// Rewrites `encode_path(&x.to_string())` to `encode_path(&x)`: the runtime's
/// `encode_path` encodes any `Display` value as it is written. progenitor
/// builds the URL in a `format!`, whose arguments are read as expressions.
struct EncodeInPlace;

impl VisitMut for EncodeInPlace {
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !mac.path.is_ident("format") {
            return;
        }
        let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
        if let Ok(mut args) = mac.parse_body_with(parser) {
            for arg in args.iter_mut() {
                self.visit_expr_mut(arg);
            }
            mac.tokens = quote::ToTokens::to_token_stream(&args);
        }
    }

    fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
        visit_mut::visit_expr_call_mut(self, call);
        let syn::Expr::Path(func) = &*call.func else {
            return;
        };
        let is_encode_path = func
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "encode_path");
        if !is_encode_path || call.args.len() != 1 {
            return;
        }
        let syn::Expr::Reference(arg) = &mut call.args[0] else {
            return;
        };
        if let syn::Expr::MethodCall(to_string) = &*arg.expr {
            if to_string.method == "to_string" && to_string.args.is_empty() {
                arg.expr = to_string.receiver.clone();
            }
        }
    }
}

/// The header progenitor adds to every request; no Passage server reads it.
const PROGENITOR_VERSION_HEADER: &str = "api-version";

/// The variable progenitor collects a request's header parameters in.
const HEADER_MAP: &str = "header_map";

/// Removes progenitor's `header_map.append(.. "api-version" ..)` from a
/// `send()` body; when the header map then receives nothing, removes the map
/// too (its `let` and the `.headers(header_map)` that merges it).
fn drop_api_version_header(block: &mut syn::Block) {
    block.stmts.retain(|stmt| !appends_version_header(stmt));
    let mut uses = CountUses(0);
    uses.visit_block_mut(block);
    if uses.0 != 1 {
        // Spec header parameters go into the map: keep it.
        return;
    }
    block.stmts.retain(|stmt| !declares_header_map(stmt));
    MergeNoHeaders.visit_block_mut(block);
}

fn is_header_map(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.path.is_ident(HEADER_MAP))
}

/// `header_map.append(HeaderName::from_static("api-version"), ..);`
fn appends_version_header(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), _) = stmt else {
        return false;
    };
    if call.method != "append" || !is_header_map(&call.receiver) {
        return false;
    }
    let Some(syn::Expr::Call(name)) = call.args.first() else {
        return false;
    };
    matches!(
        name.args.first(),
        Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }))
            if s.value() == PROGENITOR_VERSION_HEADER
    )
}

/// `let mut header_map = ..;`
fn declares_header_map(stmt: &syn::Stmt) -> bool {
    matches!(stmt, syn::Stmt::Local(local)
        if matches!(&local.pat, syn::Pat::Ident(p) if p.ident == HEADER_MAP))
}

/// Counts the expressions that read `header_map` (changes nothing).
struct CountUses(usize);

impl VisitMut for CountUses {
    fn visit_expr_path_mut(&mut self, path: &mut syn::ExprPath) {
        if path.path.is_ident(HEADER_MAP) {
            self.0 += 1;
        }
    }
}

/// Replaces `x.headers(header_map)` with `x`.
struct MergeNoHeaders;

impl VisitMut for MergeNoHeaders {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr {
            if call.method == "headers" && call.args.len() == 1 && is_header_map(&call.args[0]) {
                *expr = (*call.receiver).clone();
            }
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// Rewrites every path that starts with `progenitor_client` (in `use` items,
/// expressions and types) to start with the runtime module's path instead.
struct UseRuntime<'a>(&'a syn::Path);

const CLIENT_CRATE: &str = "progenitor_client";

impl VisitMut for UseRuntime<'_> {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        if path
            .segments
            .first()
            .is_some_and(|s| s.ident == CLIENT_CRATE)
        {
            let mut rest: Vec<syn::PathSegment> = path.segments.iter().skip(1).cloned().collect();
            // progenitor's `Error` is the runtime's `CallError`.
            if let Some(first) = rest.first_mut() {
                if first.ident == PROGENITOR_ERROR {
                    first.ident = syn::Ident::new(CALL_ERROR, first.ident.span());
                }
            }
            let mut segments = self.0.segments.clone();
            segments.extend(rest);
            *path = syn::Path {
                leading_colon: self.0.leading_colon,
                segments,
            };
        }
        visit_mut::visit_path_mut(self, path);
    }

    fn visit_use_tree_mut(&mut self, tree: &mut syn::UseTree) {
        if let syn::UseTree::Path(head) = tree {
            if head.ident == CLIENT_CRATE {
                let mut rewritten = (*head.tree).clone();
                for segment in self.0.segments.iter().rev() {
                    rewritten = syn::UseTree::Path(syn::UsePath {
                        ident: segment.ident.clone(),
                        colon2_token: Default::default(),
                        tree: Box::new(rewritten),
                    });
                }
                *tree = rewritten;
                return;
            }
        }
        visit_mut::visit_use_tree_mut(self, tree);
    }
}

/// `T` of a `-> Result<T, E>` return type.
fn ok_type_of_result(output: &syn::ReturnType) -> Option<syn::Type> {
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    first_type_argument(ty, "Result")
}

/// `A` of `ty` when `ty` is the path `..::name<A, ..>`.
fn first_type_argument(ty: &syn::Type, name: &str) -> Option<syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    first_path_argument(&path.path, name)
}

/// `A` of `path` when it is `..::name<A, ..>` (a type or a trait bound).
pub(super) fn first_path_argument(path: &syn::Path, name: &str) -> Option<syn::Type> {
    let last = path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        syn::GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}

/// Adds `#[non_exhaustive]` to the public structs with named fields and the
/// public enums of `types` (not to its `builder`, `defaults` or `error`
/// submodules, whose types are the crate's own machinery).
fn mark_types(module: &mut syn::ItemMod) {
    struct Marker;
    impl VisitMut for Marker {
        fn visit_item_mod_mut(&mut self, _: &mut syn::ItemMod) {
            // Nested modules (builder, defaults, error) keep their types as they are.
        }
        fn visit_item_struct_mut(&mut self, s: &mut syn::ItemStruct) {
            if matches!(s.vis, Visibility::Public(_))
                && matches!(s.fields, syn::Fields::Named(_))
                && !has_non_exhaustive(&s.attrs)
            {
                s.attrs.push(parse_quote!(#[non_exhaustive]));
            }
            visit_mut::visit_item_struct_mut(self, s);
        }
        fn visit_item_enum_mut(&mut self, e: &mut syn::ItemEnum) {
            if matches!(e.vis, Visibility::Public(_)) && !has_non_exhaustive(&e.attrs) {
                e.attrs.push(parse_quote!(#[non_exhaustive]));
            }
            visit_mut::visit_item_enum_mut(self, e);
        }
    }
    if let Some((_, items)) = &mut module.content {
        for item in items {
            Marker.visit_item_mut(item);
        }
    }
}

fn has_non_exhaustive(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("non_exhaustive"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn wiring() -> Wiring {
        Wiring {
            error_type: parse_quote!(crate::api::Error),
            call_wrapper: parse_quote!(::rt::finish_call::<crate::api::types::ApiError, _, _>),
            call_wrapper_for: parse_quote!(
                ::rt::finish_call_for::<crate::api::types::ApiError, _, _>
            ),
            runtime: parse_quote!(::rt),
            error_body: parse_quote!(crate::api::types::ApiError),
            operations: parse_quote!(crate::api::operations),
            operation_ids: vec!["get_app".into(), "get_jwks".into()],
        }
    }

    #[test]
    fn send_returns_the_crate_error_through_the_wrapper() {
        let mut file: syn::File = parse_quote! {
            pub mod builder {
                impl<'a> GetApp<'a> {
                    ///Sends a `GET` request.
                    pub async fn send(self) -> Result<ResponseValue<types::GetAppResponse>, Error<types::ApiError>> {
                        todo!()
                    }
                }
            }
        };
        apply(&mut file, &wiring());
        let text = file.to_token_stream().to_string();
        assert!(
            text.contains("pub fn send (self) -> impl :: std :: future :: Future < Output = :: std :: result :: Result < ResponseValue < types :: GetAppResponse > , crate :: api :: Error > , > + use < 'a >"),
            "{text}"
        );
        assert!(
            text.contains("{ :: rt :: finish_call :: < crate :: api :: types :: ApiError , _ , _ > (async move { todo ! () }) }"),
            "{text}"
        );
        assert!(!text.contains("Error < types :: ApiError >"), "{text}");
    }

    #[test]
    fn the_hooks_become_direct_pipeline_calls_with_the_operation_row() {
        let text = send_with_row(parse_quote!(ResponseValue<()>), parse_quote!(todo!()));
        assert!(
            text.contains(
                "let operation_row = & crate :: api :: operations :: OPERATIONS [1usize] ;"
            ),
            "{text}"
        );
        assert!(text.contains(":: rt :: pipeline :: check_credentials (& client . inner , Some (operation_row)) ? ;"), "{text}");
        assert!(text.contains("let result = :: rt :: pipeline :: send :: < crate :: api :: types :: ApiError > (& client . client , & client . inner , Some (operation_row) , request ,) . await ;"), "{text}");
        assert!(
            !text.contains("client . pre") && !text.contains("client . post"),
            "{text}"
        );
        assert!(!text.contains("OperationInfo"), "{text}");
        assert!(text.contains("let response = result ? ;"), "{text}");
        // The wrapper is told the operation (one without secrets lends no slot).
        assert!(
            text.contains(":: rt :: finish_call_for :: < crate :: api :: types :: ApiError , _ , _ > (& crate :: api :: operations :: OPERATIONS [1usize] , async move {"),
            "{text}"
        );
    }

    #[test]
    fn an_unset_field_starts_empty_and_send_writes_its_message() {
        let mut file: syn::File = parse_quote! {
            pub mod builder {
                impl<'a> GetApp<'a> {
                    pub fn new(client: &'a super::Client) -> Self {
                        Self {
                            client: client,
                            app_id: Err("app_id was not initialized".to_string()),
                        }
                    }
                    pub async fn send(self) -> Result<ResponseValue<()>, Error<()>> {
                        let Self { client, app_id } = self;
                        let app_id = app_id.map_err(CallError::InvalidRequest)?;
                        todo!()
                    }
                }
            }
        };
        apply(&mut file, &wiring());
        let text = file.to_token_stream().to_string();
        assert!(
            text.contains("app_id : Err (:: std :: string :: String :: new ())"),
            "{text}"
        );
        assert!(
            !text.contains("\"app_id was not initialized\" . to_string ()) ,"),
            "{text}"
        );
        assert!(
            text.contains("app_id . map_err (| e : :: std :: string :: String | CallError :: InvalidRequest (if e . is_empty () { \"app_id was not initialized\" . to_string () } else { e }))"),
            "{text}"
        );
    }

    #[test]
    fn a_body_of_another_shape_keeps_its_hooks() {
        let text = send_body(parse_quote!({
            let info = OperationInfo {
                operation_id: "not_in_the_table",
            };
            client.pre(&mut request, &info).await?;
            let result = client.exec(request, &info).await;
            todo!()
        }));
        assert!(text.contains("client . pre"), "{text}");
        assert!(text.contains("client . exec"), "{text}");
    }

    fn send_body(body: syn::Block) -> String {
        let mut file: syn::File = parse_quote! {
            pub mod builder {
                impl<'a> GetApp<'a> {
                    pub async fn send(self) -> Result<ResponseValue<()>, Error<()>> #body
                }
            }
        };
        apply(&mut file, &wiring());
        file.to_token_stream().to_string()
    }

    /// A `send()` returning `ok` whose body calls the hooks of `get_jwks` (row 1) and ends with `tail`.
    fn send_with_row(ok: syn::Type, tail: syn::Expr) -> String {
        let mut file: syn::File = parse_quote! {
            pub mod builder {
                impl<'a> GetJwks<'a> {
                    pub async fn send(self) -> Result<#ok, Error<types::ApiError>> {
                        let mut request = client.client.get(url).build()?;
                        let info = OperationInfo {
                            operation_id: "get_jwks",
                        };
                        client.pre(&mut request, &info).await?;
                        let result = client.exec(request, &info).await;
                        client.post(&result, &info).await?;
                        let response = result?;
                        #tail
                    }
                }
            }
        };
        apply(&mut file, &wiring());
        file.to_token_stream().to_string()
    }

    #[test]
    fn json_success_answers_are_decoded_by_the_wrapper() {
        let text = send_with_row(
            parse_quote!(ResponseValue<types::JwkResponse>),
            parse_quote!(match response.status().as_u16() {
                200u16 => ResponseValue::from_response(response).await,
                201u16 => {
                    ResponseValue::from_response(response).await
                }
                404u16 => Err(CallError::ErrorResponse(
                    ResponseValue::from_response(response).await?,
                )),
                _ => Err(CallError::UnexpectedResponse(response)),
            }),
        );
        assert!(
            text.contains(":: rt :: finish_json_call_for :: < crate :: api :: types :: ApiError , types :: JwkResponse , _ > (& crate :: api :: operations :: OPERATIONS [1usize] , async move {"),
            "{text}"
        );
        assert!(text.contains("200u16 => :: rt :: JsonAnswer :: read (response) . await , 201u16 => :: rt :: JsonAnswer :: read (response) . await ,"), "{text}");
        // The error body is still decoded where its arm matches.
        assert!(text.contains("404u16 => Err (CallError :: ErrorResponse (ResponseValue :: from_response (response) . await ? ,)) ,"), "{text}");
        assert!(!text.contains("finish_call_for"), "{text}");
    }

    #[test]
    fn a_call_with_a_success_answer_of_another_kind_decodes_in_its_body() {
        for (ok, arm) in [
            (
                parse_quote!(ResponseValue<()>),
                parse_quote!(Ok(ResponseValue::empty(response))),
            ),
            (
                parse_quote!(ResponseValue<ByteStream>),
                parse_quote!(Ok(ResponseValue::stream(response))),
            ),
        ] {
            let arm: syn::Expr = arm;
            let text = send_with_row(
                ok,
                parse_quote!(match response.status().as_u16() {
                    200u16 => { ResponseValue::from_response(response).await }
                    204u16 => { #arm }
                    _ => Err(CallError::UnexpectedResponse(response)),
                }),
            );
            assert!(
                text.contains(":: rt :: finish_call_for :: < crate :: api :: types :: ApiError , _ , _ > (& crate :: api :: operations :: OPERATIONS [1usize] , async move {"),
                "{text}"
            );
            assert!(!text.contains("JsonAnswer"), "{text}");
        }
    }

    #[test]
    fn the_version_header_and_an_empty_header_map_are_dropped() {
        let text = send_body(parse_quote!({
            let url = format!("{}/apps", client.baseurl);
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
            header_map.append(
                ::reqwest::header::HeaderName::from_static("api-version"),
                ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
            );
            let mut request = client
                .client
                .get(url)
                .header(ACCEPT, "a")
                .headers(header_map)
                .build()?;
            todo!()
        }));
        assert!(!text.contains("api-version"), "{text}");
        assert!(!text.contains("header_map"), "{text}");
        assert!(
            text.contains("client . client . get (url) . header (ACCEPT , \"a\") . build () ?"),
            "{text}"
        );
    }

    #[test]
    fn path_parameters_are_encoded_without_a_copy() {
        let text = send_body(parse_quote!({
            let url = format!(
                "{}/apps/{}/users/{}",
                client.baseurl,
                encode_path(&app_id.to_string()),
                encode_path(&user_id.to_string()),
            );
            todo!()
        }));
        assert!(!text.contains("to_string"), "{text}");
        assert!(text.contains("encode_path (& app_id)"), "{text}");
        assert!(text.contains("encode_path (& user_id)"), "{text}");
    }

    #[test]
    fn a_header_map_with_spec_headers_stays() {
        let text = send_body(parse_quote!({
            let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
            header_map.append(
                ::reqwest::header::HeaderName::from_static("api-version"),
                ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
            );
            if let Some(value) = self.origin {
                header_map.append("origin", value.to_string().try_into()?);
            }
            let mut request = client.client.get(url).headers(header_map).build()?;
            todo!()
        }));
        assert!(!text.contains("api-version"), "{text}");
        assert!(text.contains("let mut header_map"), "{text}");
        assert!(text.contains("header_map . append (\"origin\""), "{text}");
        assert!(text.contains(". headers (header_map) . build ()"), "{text}");
    }

    #[test]
    fn progenitor_client_paths_lead_to_the_runtime() {
        let mut file: syn::File = parse_quote! {
            pub use progenitor_client::{ByteStream, ClientInfo, Error, ResponseValue};
            use progenitor_client::encode_path;
            fn f() -> ::progenitor_client::Error<()> {
                let q = progenitor_client::QueryParam::new("state", &state);
                todo!()
            }
            pub mod builder {
                use super::{ByteStream, Error};
                fn g() -> Result<(), Error<()>> {
                    Err(Error::InvalidRequest(String::new()))
                }
            }
            pub mod types {
                pub struct Error { pub code: String }
                fn h(_: Error) -> std::error::Error {}
            }
        };
        apply(&mut file, &wiring());
        let text = file.to_token_stream().to_string();
        assert!(!text.contains("progenitor_client"), "{text}");
        assert!(
            text.contains("pub use rt :: { ByteStream , ClientInfo , ResponseValue } ;"),
            "{text}"
        );
        // progenitor's `Error` is the runtime's `CallError`, imported privately.
        assert!(text.starts_with("use :: rt :: CallError ;"), "{text}");
        assert!(text.contains("use rt :: encode_path ;"), "{text}");
        assert!(text.contains("-> :: rt :: CallError < () >"), "{text}");
        assert!(text.contains(":: rt :: QueryParam :: new"), "{text}");
        assert!(
            text.contains("use super :: { ByteStream , CallError } ;"),
            "{text}"
        );
        assert!(
            text.contains("Result < () , CallError < () > > { Err (CallError :: InvalidRequest"),
            "{text}"
        );
        // The spec's own types keep their names; `std::error::Error` is left alone.
        assert!(text.contains("pub struct Error {"), "{text}");
        assert!(
            text.contains("fn h (_ : Error) -> std :: error :: Error"),
            "{text}"
        );
    }

    #[test]
    fn constructors_are_dropped_and_types_non_exhaustive() {
        let mut file: syn::File = parse_quote! {
            pub mod types {
                pub struct A { pub x: u8 }
                pub struct B(pub u8);
                pub enum C { X }
                pub mod builder { pub struct A { x: u8 } }
            }
            impl Client {
                pub fn new(baseurl: &str) -> Self { todo!() }
                pub fn new_with_client(baseurl: &str) -> Self { todo!() }
                pub fn baseurl(&self) -> &str { todo!() }
            }
        };
        apply(&mut file, &wiring());
        let text = file.to_token_stream().to_string();
        assert!(text.contains("# [non_exhaustive] pub struct A"), "{text}");
        assert!(!text.contains("# [non_exhaustive] pub struct B"), "{text}");
        assert!(text.contains("# [non_exhaustive] pub enum C"), "{text}");
        assert!(text.contains("pub mod builder { pub struct A"), "{text}");
        assert!(!text.contains("fn new ("), "{text}");
        assert!(!text.contains("fn new_with_client ("), "{text}");
        assert!(text.contains("pub fn baseurl"), "{text}");
    }
}
