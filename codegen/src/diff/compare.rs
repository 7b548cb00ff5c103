//! Walks two [`Model`]s side by side and lists every change with its rule.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::model::{describe, security_text, Body, Model, Operation, Ty, TyChange, Usage};
use super::report::{Change, Subject};
use super::rules::Rule;

/// Every change between two specs, operations first, then schemas.
pub fn compare(old: &Model<'_>, new: &Model<'_>) -> Vec<Change> {
    let mut out = Vec::new();
    compare_operations(old, new, &mut out);
    compare_schemas(old, new, &mut out);
    out
}

/// Collects changes about one subject.
struct Sink<'o> {
    subject: Subject,
    out: &'o mut Vec<Change>,
}

impl Sink<'_> {
    fn push(&mut self, rule: Rule, usage: Usage, message: String) {
        let message = match direction(rule, usage) {
            Some(d) => format!("{message} ({d})"),
            None => message,
        };
        self.out.push(Change {
            rule,
            severity: rule.severity(usage),
            subject: self.subject.clone(),
            message,
        });
    }
}

/// "sent by clients" and the like, for rules whose verdict depends on it.
fn direction(rule: Rule, usage: Usage) -> Option<&'static str> {
    let info = rule.info();
    if info.request == info.response {
        return None;
    }
    Some(match (usage.request, usage.received()) {
        (true, true) => "sent and received by clients",
        (true, false) => "sent by clients",
        (false, true) => "received by clients",
        (false, false) => "not used by any operation",
    })
}

fn operation_subject(op: &Operation<'_>) -> Subject {
    Subject::Operation {
        id: op.id.clone(),
        route: op.route(),
    }
}

fn compare_operations(old: &Model<'_>, new: &Model<'_>, out: &mut Vec<Change>) {
    let route_of = |m: &Model<'_>| -> BTreeMap<String, String> {
        m.operations
            .values()
            .map(|op| (op.route(), op.id.clone()))
            .collect()
    };
    let new_routes = route_of(new);
    let mut renamed_to: BTreeSet<String> = BTreeSet::new();
    for (id, op) in &old.operations {
        let mut sink = Sink {
            subject: operation_subject(op),
            out,
        };
        match new.operations.get(id) {
            Some(now) => {
                sink.subject = operation_subject(now);
                if now.route() != op.route() {
                    sink.push(
                        Rule::OperationMoved,
                        Usage::REQUEST,
                        format!("moved from `{}` to `{}`", op.route(), now.route()),
                    );
                }
                compare_operation(old, new, op, now, &mut sink);
            }
            None => match new_routes.get(&op.route()) {
                Some(new_id) if !old.operations.contains_key(new_id) => {
                    let now = &new.operations[new_id];
                    renamed_to.insert(new_id.clone());
                    sink.subject = operation_subject(now);
                    sink.push(
                        Rule::OperationRenamed,
                        Usage::REQUEST,
                        format!("operationId `{id}` became `{new_id}` (the generated method is renamed)"),
                    );
                    compare_operation(old, new, op, now, &mut sink);
                }
                _ => sink.push(
                    Rule::OperationRemoved,
                    Usage::REQUEST,
                    format!("operation removed (was `{}`)", op.route()),
                ),
            },
        }
    }
    for (id, op) in &new.operations {
        if old.operations.contains_key(id) || renamed_to.contains(id) {
            continue;
        }
        let mut sink = Sink {
            subject: operation_subject(op),
            out,
        };
        sink.push(
            Rule::OperationAdded,
            Usage::REQUEST,
            format!("new operation `{}`", op.route()),
        );
    }
}

fn compare_operation(
    old_model: &Model<'_>,
    new_model: &Model<'_>,
    old: &Operation<'_>,
    new: &Operation<'_>,
    sink: &mut Sink<'_>,
) {
    // Parameters.
    for (key, p) in &old.params {
        let label = format!("parameter `{}` ({})", p.name, p.location);
        match new.params.get(key) {
            None => sink.push(
                Rule::ParameterRemoved,
                Usage::REQUEST,
                format!("{label} removed"),
            ),
            Some(now) => {
                if p.required && !now.required {
                    sink.push(
                        Rule::ParameterNowOptional,
                        Usage::REQUEST,
                        format!("{label} is now optional"),
                    );
                } else if !p.required && now.required {
                    sink.push(
                        Rule::ParameterNowRequired,
                        Usage::REQUEST,
                        format!("{label} is now required"),
                    );
                }
                if let (Some(a), Some(b)) = (p.schema, now.schema) {
                    compare_node(a, b, Usage::REQUEST, &label, sink);
                }
            }
        }
    }
    for (key, p) in &new.params {
        if old.params.contains_key(key) {
            continue;
        }
        let label = format!("parameter `{}` ({})", p.name, p.location);
        let ty = p
            .schema
            .map(|s| describe(s).0.to_string())
            .unwrap_or_default();
        if p.required {
            sink.push(
                Rule::ParameterAddedRequired,
                Usage::REQUEST,
                format!("new required {label}: {ty}"),
            );
        } else {
            sink.push(
                Rule::ParameterAddedOptional,
                Usage::REQUEST,
                format!("new optional {label}: {ty}"),
            );
        }
    }

    // Request body.
    match (&old.request_body, &new.request_body) {
        (None, Some(b)) => {
            let (rule, word) = if b.required {
                (Rule::RequestBodyAddedRequired, "required")
            } else {
                (Rule::RequestBodyAddedOptional, "optional")
            };
            sink.push(
                rule,
                Usage::REQUEST,
                format!("new {word} request body {}", body_text(b)),
            );
        }
        (Some(b), None) => sink.push(
            Rule::RequestBodyRemoved,
            Usage::REQUEST,
            format!("request body {} removed", body_text(b)),
        ),
        (Some(a), Some(b)) => {
            if a.required && !b.required {
                sink.push(
                    Rule::RequestBodyNowOptional,
                    Usage::REQUEST,
                    "request body is now optional".into(),
                );
            } else if !a.required && b.required {
                sink.push(
                    Rule::RequestBodyNowRequired,
                    Usage::REQUEST,
                    "request body is now required".into(),
                );
            }
            compare_body(a, b, Usage::REQUEST, "request body", sink);
        }
        (None, None) => {}
    }

    // Success responses.
    for (status, body) in &old.success {
        match new.success.get(status) {
            None => sink.push(
                Rule::SuccessStatusRemoved,
                Usage::RESPONSE,
                format!("success status {status} removed"),
            ),
            Some(now) => match (body, now) {
                (None, Some(b)) => sink.push(
                    Rule::ResponseBodyAdded,
                    Usage::RESPONSE,
                    format!("response {status} now has a body {}", body_text(b)),
                ),
                (Some(b), None) => sink.push(
                    Rule::ResponseBodyRemoved,
                    Usage::RESPONSE,
                    format!(
                        "response {status} no longer has a body (was {})",
                        body_text(b)
                    ),
                ),
                (Some(a), Some(b)) => {
                    compare_body(a, b, Usage::RESPONSE, &format!("response {status}"), sink)
                }
                (None, None) => {}
            },
        }
    }
    for (status, body) in &new.success {
        if !old.success.contains_key(status) {
            let was: Vec<&str> = old.success.keys().map(String::as_str).collect();
            let body = body
                .as_ref()
                .map(body_text)
                .unwrap_or_else(|| "without a body".into());
            sink.push(
                Rule::SuccessStatusAdded,
                Usage::RESPONSE,
                format!(
                    "new success status {status} {body} (old clients know only {})",
                    if was.is_empty() {
                        "none".into()
                    } else {
                        was.join(", ")
                    }
                ),
            );
        }
    }

    // Error responses.
    for (status, body) in &old.errors {
        match new.errors.get(status) {
            None => sink.push(
                Rule::ErrorStatusRemoved,
                Usage::ERROR,
                format!("error status {status} removed"),
            ),
            Some(now) => {
                if let (Some(a), Some(b)) = (body, now) {
                    compare_body(a, b, Usage::ERROR, &format!("error {status}"), sink);
                }
            }
        }
    }
    for status in new.errors.keys() {
        if !old.errors.contains_key(status) {
            sink.push(
                Rule::ErrorStatusAdded,
                Usage::ERROR,
                format!("new error status {status}"),
            );
        }
    }

    // Security: every way an old client authenticated must still be accepted.
    if old.security != new.security {
        let still_accepted = old
            .security
            .iter()
            .all(|alt| new.security.iter().any(|n| n.is_subset(alt)));
        let rule = if still_accepted {
            Rule::SecurityRelaxed
        } else {
            Rule::SecurityAdded
        };
        sink.push(
            rule,
            Usage::REQUEST,
            format!(
                "security changed from {} to {}",
                security_text(&old.security),
                security_text(&new.security)
            ),
        );
    }

    // Schemes used before and after whose definition changed.
    let names = |op: &Operation<'_>| -> BTreeSet<String> {
        op.security.iter().flatten().cloned().collect()
    };
    for name in names(old).intersection(&names(new)) {
        let (a, b) = (
            old_model.security_schemes.get(name),
            new_model.security_schemes.get(name),
        );
        if let (Some(a), Some(b)) = (a, b) {
            if a != b {
                sink.push(
                    Rule::SecuritySchemeChanged,
                    Usage::REQUEST,
                    format!("security scheme `{name}` changed from {a} to {b}"),
                );
            }
        }
    }

    // Retry safety.
    let (was, now) = (old.idempotent == Some(true), new.idempotent == Some(true));
    if was && !now {
        sink.push(
            Rule::NoLongerIdempotent,
            Usage::REQUEST,
            "x-idempotent changed from true to false: the request must no longer be retried".into(),
        );
    } else if !was && now {
        sink.push(
            Rule::NowIdempotent,
            Usage::REQUEST,
            "x-idempotent is now true: the request may be retried".into(),
        );
    }
}

fn body_text(body: &Body<'_>) -> String {
    let ty = body
        .schema
        .map(|s| describe(s).0.to_string())
        .unwrap_or_else(|| "no schema".into());
    format!("`{}` ({ty})", body.media)
}

fn compare_body(old: &Body<'_>, new: &Body<'_>, usage: Usage, label: &str, sink: &mut Sink<'_>) {
    let (a, b) = match (old.schema, new.schema) {
        (Some(a), Some(b)) => (a, b),
        _ => return,
    };
    let (ta, tb) = (describe(a).0, describe(b).0);
    let named_swap = matches!((&ta, &tb), (Ty::Named(x), Ty::Named(y)) if x != y);
    if old.media != new.media || named_swap {
        sink.push(
            Rule::BodyTypeChanged,
            usage,
            format!(
                "{label} changed from {} to {}",
                body_text(old),
                body_text(new)
            ),
        );
        return;
    }
    compare_node(a, b, usage, label, sink);
}

fn compare_schemas(old: &Model<'_>, new: &Model<'_>, out: &mut Vec<Change>) {
    for (name, schema) in &old.schemas {
        let usage = old
            .usage
            .get(name)
            .copied()
            .unwrap_or_default()
            .union(new.usage.get(name).copied().unwrap_or_default());
        let mut sink = Sink {
            subject: Subject::Schema { name: name.clone() },
            out,
        };
        match new.schemas.get(name) {
            None => sink.push(Rule::SchemaRemoved, usage, "schema removed".into()),
            Some(now) => compare_node(schema, now, usage, "", &mut sink),
        }
    }
    for name in new.schemas.keys() {
        if !old.schemas.contains_key(name) {
            let usage = new.usage.get(name).copied().unwrap_or_default();
            let mut sink = Sink {
                subject: Subject::Schema { name: name.clone() },
                out,
            };
            sink.push(Rule::SchemaAdded, usage, "new schema".into());
        }
    }
}

/// `label` names the node in messages ("" for a component schema itself).
fn compare_node(old: &Value, new: &Value, usage: Usage, label: &str, sink: &mut Sink<'_>) {
    let (old_ty, old_null) = describe(old);
    let (new_ty, new_null) = describe(new);
    let what = if label.is_empty() {
        "the schema".to_string()
    } else {
        label.to_string()
    };
    let cap = capitalize(&what);
    if !old_null && new_null {
        sink.push(Rule::NowNullable, usage, format!("{cap} is now nullable"));
    } else if old_null && !new_null {
        sink.push(
            Rule::NoLongerNullable,
            usage,
            format!("{cap} is no longer nullable"),
        );
    }
    let rule = match Ty::compare(&old_ty, &new_ty) {
        TyChange::Same => None,
        TyChange::Widened => Some(Rule::TypeWidened),
        TyChange::Narrowed => Some(Rule::TypeNarrowed),
        TyChange::Changed => Some(Rule::TypeChanged),
    };
    if let Some(rule) = rule {
        sink.push(
            rule,
            usage,
            format!("{cap} changed type from {old_ty} to {new_ty}"),
        );
        return;
    }
    compare_enum(old, new, usage, &what, sink);
    match new_ty {
        Ty::Object => compare_properties(old, new, usage, label, sink),
        Ty::Array(_) => {
            if let (Some(a), Some(b)) = (old.get("items"), new.get("items")) {
                compare_node(a, b, usage, &nested(label, "[]"), sink);
            }
        }
        Ty::Map(_) => {
            if let (Some(a), Some(b)) = (
                old.get("additionalProperties"),
                new.get("additionalProperties"),
            ) {
                compare_node(a, b, usage, &nested(label, "{}"), sink);
            }
        }
        _ => {}
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The label of a child: "field `a.b`", "field `a[]`", ...
fn nested(label: &str, child: &str) -> String {
    let base = label
        .strip_prefix("field `")
        .and_then(|l| l.strip_suffix('`'))
        .map(str::to_string);
    match (base, child) {
        (Some(base), "[]" | "{}") => format!("field `{base}{child}`"),
        (Some(base), _) => format!("field `{base}.{child}`"),
        (None, "[]" | "{}") if label.is_empty() => format!("items `{child}`"),
        (None, "[]" | "{}") => format!("{label} items"),
        (None, _) if label.is_empty() => format!("field `{child}`"),
        (None, _) => format!("{label} field `{child}`"),
    }
}

fn enum_values(node: &Value) -> Option<Vec<String>> {
    let values = node.get("enum")?.as_array()?;
    Some(
        values
            .iter()
            .map(|v| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
    )
}

fn compare_enum(old: &Value, new: &Value, usage: Usage, what: &str, sink: &mut Sink<'_>) {
    let (Some(a), Some(b)) = (enum_values(old), enum_values(new)) else {
        return;
    };
    let error_code = usage.error_only();
    let place = if what == "the schema" {
        String::new()
    } else {
        format!(" in {what}")
    };
    let from = if what == "the schema" {
        String::new()
    } else {
        format!(" from {what}")
    };
    for value in &b {
        if !a.contains(value) {
            let rule = if error_code {
                Rule::ErrorCodeAdded
            } else {
                Rule::EnumValueAdded
            };
            let noun = if error_code { "error code" } else { "value" };
            sink.push(rule, usage, format!("new {noun} `{value}`{place}"));
        }
    }
    for value in &a {
        if !b.contains(value) {
            let rule = if error_code {
                Rule::ErrorCodeRemoved
            } else {
                Rule::EnumValueRemoved
            };
            let noun = if error_code { "error code" } else { "value" };
            sink.push(rule, usage, format!("{noun} `{value}` removed{from}"));
        }
    }
}

fn required_set(node: &Value) -> BTreeSet<String> {
    node.get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn compare_properties(old: &Value, new: &Value, usage: Usage, label: &str, sink: &mut Sink<'_>) {
    let empty = serde_json::Map::new();
    let props = |n: &Value| n.get("properties").and_then(Value::as_object).cloned();
    let (a, b) = (
        props(old).unwrap_or_else(|| empty.clone()),
        props(new).unwrap_or(empty),
    );
    let (ra, rb) = (required_set(old), required_set(new));
    for (name, schema) in &a {
        let field = nested(label, name);
        match b.get(name) {
            None => sink.push(Rule::FieldRemoved, usage, format!("{field} removed")),
            Some(now) => {
                match (ra.contains(name), rb.contains(name)) {
                    (false, true) => sink.push(
                        Rule::FieldNowRequired,
                        usage,
                        format!("{field} is now required"),
                    ),
                    (true, false) => sink.push(
                        Rule::FieldNowOptional,
                        usage,
                        format!("{field} is now optional"),
                    ),
                    _ => {}
                }
                compare_node(schema, now, usage, &field, sink);
            }
        }
    }
    for (name, schema) in &b {
        if a.contains_key(name) {
            continue;
        }
        let field = nested(label, name);
        let (ty, nullable) = describe(schema);
        let ty = if nullable {
            format!("{ty}, nullable")
        } else {
            ty.to_string()
        };
        if old.get("additionalProperties") == Some(&Value::Bool(false)) {
            sink.push(
                Rule::ClosedObjectFieldAdded,
                usage,
                format!("{field} added to an object that forbids unknown fields"),
            );
        }
        if rb.contains(name) {
            sink.push(
                Rule::FieldAddedRequired,
                usage,
                format!("new required {field}: {ty}"),
            );
        } else {
            sink.push(
                Rule::FieldAddedOptional,
                usage,
                format!("new optional {field}: {ty}"),
            );
        }
    }
}
