//! Reading the operation table back out of generated code (parsed with syn),
//! so that tests compare it with what they derive from the spec's YAML.

#![allow(dead_code)] // each test file uses part of it

use quote::ToTokens;

/// One row of the generated `OPERATIONS` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub operation_id: String,
    /// The `auth` argument as written (`Auth :: Bearer`, `Auth :: ApiKey { header : "x-api-key" }`).
    pub auth: String,
    pub secret_query: Vec<String>,
    pub secret_body: Vec<String>,
}

/// The rows of `pub const OPERATIONS` in `code`, and the table's declared length.
pub fn operation_rows(code: &str) -> (Vec<Row>, String) {
    let file: syn::File = syn::parse_str(code).expect("generated code parses");
    let table = find_table(&file.items).expect("a const OPERATIONS");
    let len = match &*table.ty {
        syn::Type::Array(array) => array.len.to_token_stream().to_string(),
        other => panic!("OPERATIONS is not an array: {}", other.to_token_stream()),
    };
    let syn::Expr::Array(rows) = &*table.expr else {
        panic!("OPERATIONS is not an array literal");
    };
    let rows = rows
        .elems
        .iter()
        .map(|row| {
            let syn::Expr::Call(call) = row else {
                panic!("a row is not OperationSpec::new(..)");
            };
            let args: Vec<&syn::Expr> = call.args.iter().collect();
            assert_eq!(args.len(), 10, "OperationSpec::new takes ten arguments");
            Row {
                operation_id: string(args[0]),
                auth: args[4].to_token_stream().to_string(),
                secret_query: strings(args[7]),
                secret_body: strings(args[9]),
            }
        })
        .collect();
    (rows, len)
}

fn find_table(items: &[syn::Item]) -> Option<&syn::ItemConst> {
    items.iter().find_map(|item| match item {
        syn::Item::Const(c) if c.ident == "OPERATIONS" => Some(c),
        syn::Item::Mod(m) => m.content.as_ref().and_then(|(_, items)| find_table(items)),
        _ => None,
    })
}

fn string(expr: &syn::Expr) -> String {
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => s.value(),
        other => panic!("not a string literal: {}", other.to_token_stream()),
    }
}

/// `&["a", "b"]` as its strings.
fn strings(expr: &syn::Expr) -> Vec<String> {
    let syn::Expr::Reference(reference) = expr else {
        panic!("not a reference: {}", expr.to_token_stream());
    };
    let syn::Expr::Array(array) = &*reference.expr else {
        panic!("not an array: {}", expr.to_token_stream());
    };
    array.elems.iter().map(string).collect()
}
