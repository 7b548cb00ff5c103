//! A flat, comparable view of one spec: its operations (with parameters,
//! bodies, statuses, security) and which component schemas flow in which
//! direction (sent by the client, received by it, or only in error bodies).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

/// The HTTP methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The shape of a schema node, enough to tell whether a type changed and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ty {
    /// A reference to a named component schema.
    Named(String),
    /// A primitive: `type` plus optional `format`.
    Scalar {
        /// `string`, `integer`, `number` or `boolean`.
        ty: String,
        /// The `format`, when given.
        format: Option<String>,
    },
    /// An array of the inner type.
    Array(Box<Ty>),
    /// An object used as a map (`additionalProperties` only).
    Map(Box<Ty>),
    /// An inline object with properties.
    Object,
    /// Anything (`{}` or an object without properties that allows any keys).
    Any,
    /// A composition (`oneOf`, `anyOf`, several `allOf`) described by its members.
    Composite(String),
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Named(name) => write!(f, "{name}"),
            Ty::Scalar { ty, format: None } => write!(f, "{ty}"),
            Ty::Scalar {
                ty,
                format: Some(format),
            } => write!(f, "{ty} ({format})"),
            Ty::Array(inner) => write!(f, "array of {inner}"),
            Ty::Map(inner) => write!(f, "map of {inner}"),
            Ty::Object => write!(f, "inline object"),
            Ty::Any => write!(f, "any value"),
            Ty::Composite(text) => write!(f, "{text}"),
        }
    }
}

/// How a type moved between two versions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TyChange {
    /// Nothing changed.
    Same,
    /// The new type accepts every old value and more.
    Widened,
    /// The new type accepts only some old values.
    Narrowed,
    /// Unrelated types.
    Changed,
}

/// Rank of a numeric scalar in the widening order `int32 < int64 < number`.
fn numeric_rank(ty: &str, format: Option<&str>) -> Option<u8> {
    match (ty, format) {
        ("integer", Some("int32")) => Some(1),
        ("integer", _) => Some(2),
        ("number", Some("float")) => Some(3),
        ("number", _) => Some(4),
        _ => None,
    }
}

impl Ty {
    /// Compares an old type with a new one.
    pub fn compare(old: &Ty, new: &Ty) -> TyChange {
        if old == new {
            return TyChange::Same;
        }
        match (old, new) {
            (_, Ty::Any) => TyChange::Widened,
            (Ty::Any, _) => TyChange::Narrowed,
            (Ty::Array(a), Ty::Array(b)) | (Ty::Map(a), Ty::Map(b)) => Ty::compare(a, b),
            (Ty::Scalar { ty: t1, format: f1 }, Ty::Scalar { ty: t2, format: f2 }) => {
                if let (Some(a), Some(b)) = (
                    numeric_rank(t1, f1.as_deref()),
                    numeric_rank(t2, f2.as_deref()),
                ) {
                    return match a.cmp(&b) {
                        std::cmp::Ordering::Less => TyChange::Widened,
                        std::cmp::Ordering::Greater => TyChange::Narrowed,
                        std::cmp::Ordering::Equal => TyChange::Same,
                    };
                }
                if t1 == "string" && t2 == "string" {
                    return match (f1, f2) {
                        (Some(_), None) => TyChange::Widened,
                        (None, Some(_)) => TyChange::Narrowed,
                        _ => TyChange::Changed,
                    };
                }
                TyChange::Changed
            }
            _ => TyChange::Changed,
        }
    }
}

/// Describes a schema node: its type and whether it is nullable.
pub fn describe(node: &Value) -> (Ty, bool) {
    let nullable = node.get("nullable").and_then(Value::as_bool) == Some(true);
    (ty_of(node), nullable)
}

fn ref_name(reference: &str) -> String {
    reference
        .rsplit('/')
        .next()
        .unwrap_or(reference)
        .to_string()
}

fn ty_of(node: &Value) -> Ty {
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        return Ty::Named(ref_name(reference));
    }
    if let Some(all) = node.get("allOf").and_then(Value::as_array) {
        if all.len() == 1 {
            return ty_of(&all[0]);
        }
        return Ty::Composite(composite("all of", all));
    }
    for (key, label) in [("oneOf", "one of"), ("anyOf", "any of")] {
        if let Some(members) = node.get(key).and_then(Value::as_array) {
            return Ty::Composite(composite(label, members));
        }
    }
    let ty = node.get("type").and_then(Value::as_str);
    match ty {
        Some("array") => Ty::Array(Box::new(node.get("items").map(ty_of).unwrap_or(Ty::Any))),
        Some("object") | None => {
            let has_properties = node
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| !p.is_empty());
            if has_properties {
                return Ty::Object;
            }
            match node.get("additionalProperties") {
                Some(Value::Object(inner)) if !inner.is_empty() => {
                    Ty::Map(Box::new(ty_of(&Value::Object(inner.clone()))))
                }
                _ if ty.is_none() && node.get("enum").is_some() => Ty::Scalar {
                    ty: "string".into(),
                    format: None,
                },
                _ => Ty::Any,
            }
        }
        Some(other) => Ty::Scalar {
            ty: other.to_string(),
            format: node
                .get("format")
                .and_then(Value::as_str)
                .map(str::to_string),
        },
    }
}

fn composite(label: &str, members: &[Value]) -> String {
    let names: Vec<String> = members.iter().map(|m| ty_of(m).to_string()).collect();
    format!("{label} [{}]", names.join(", "))
}

/// Which way a schema's values travel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// The client sends it (parameters, request bodies).
    pub request: bool,
    /// The client receives it in a success response.
    pub response: bool,
    /// The client receives it in an error response.
    pub error: bool,
}

impl Usage {
    /// Sent by the client.
    pub const REQUEST: Usage = Usage {
        request: true,
        response: false,
        error: false,
    };
    /// Received in a success response.
    pub const RESPONSE: Usage = Usage {
        request: false,
        response: true,
        error: false,
    };
    /// Received in an error response.
    pub const ERROR: Usage = Usage {
        request: false,
        response: false,
        error: true,
    };

    /// Both usages together.
    pub fn union(self, other: Usage) -> Usage {
        Usage {
            request: self.request || other.request,
            response: self.response || other.response,
            error: self.error || other.error,
        }
    }

    /// The client receives values of it (success or error).
    pub fn received(self) -> bool {
        self.response || self.error
    }

    /// Used only in error bodies.
    pub fn error_only(self) -> bool {
        self.error && !self.request && !self.response
    }
}

/// One parameter of an operation.
#[derive(Clone, Debug)]
pub struct Param<'a> {
    /// `path`, `query`, `header` or `cookie`.
    pub location: String,
    /// The parameter's name.
    pub name: String,
    /// Whether the client must send it.
    pub required: bool,
    /// Its schema node.
    pub schema: Option<&'a Value>,
}

/// A request or response body.
#[derive(Clone, Debug)]
pub struct Body<'a> {
    /// Whether a request body is required (always true for responses).
    pub required: bool,
    /// The media type (the first one listed).
    pub media: String,
    /// Its schema node.
    pub schema: Option<&'a Value>,
}

/// One operation.
#[derive(Clone, Debug)]
pub struct Operation<'a> {
    /// The operationId, or `METHOD path` when it has none.
    pub id: String,
    /// Lower-case HTTP method.
    pub method: String,
    /// The path template.
    pub path: String,
    /// Parameters keyed by `(location, name)`.
    pub params: BTreeMap<(String, String), Param<'a>>,
    /// The request body, if any.
    pub request_body: Option<Body<'a>>,
    /// 1xx/2xx/3xx statuses and their bodies.
    pub success: BTreeMap<String, Option<Body<'a>>>,
    /// 4xx/5xx/default statuses and their bodies.
    pub errors: BTreeMap<String, Option<Body<'a>>>,
    /// Alternatives of required security schemes; an empty set means anonymous.
    pub security: BTreeSet<BTreeSet<String>>,
    /// The `x-idempotent` flag, when given.
    pub idempotent: Option<bool>,
}

impl Operation<'_> {
    /// `GET /path`.
    pub fn route(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }
}

/// The comparable view of one spec document.
pub struct Model<'a> {
    /// `info.version`.
    pub version: String,
    /// Operations keyed by id.
    pub operations: BTreeMap<String, Operation<'a>>,
    /// Component schemas keyed by name.
    pub schemas: BTreeMap<String, &'a Value>,
    /// Where each component schema is used.
    pub usage: BTreeMap<String, Usage>,
    /// The operations whose parameters, request or success bodies reach each schema.
    pub used_by: BTreeMap<String, BTreeSet<String>>,
    /// Security schemes by name, described by what a client must send
    /// (`http bearer`, ``apiKey in header `X-API-KEY` ``).
    pub security_schemes: BTreeMap<String, String>,
}

impl<'a> Model<'a> {
    /// Builds the view from a spec's JSON form.
    pub fn new(doc: &'a Value) -> Self {
        let version = doc
            .pointer("/info/version")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let schemas: BTreeMap<String, &Value> = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v)).collect())
            .unwrap_or_default();
        let global_security = doc.get("security");
        let mut operations = BTreeMap::new();
        if let Some(paths) = doc.get("paths").and_then(Value::as_object) {
            for (path, item) in paths {
                let item = deref(doc, item);
                let shared = item.get("parameters");
                for method in METHODS {
                    let Some(op) = item.get(method) else { continue };
                    let operation = Operation::read(doc, path, method, op, shared, global_security);
                    operations.insert(operation.id.clone(), operation);
                }
            }
        }
        let mut model = Model {
            version,
            operations,
            schemas,
            usage: BTreeMap::new(),
            used_by: BTreeMap::new(),
            security_schemes: doc
                .pointer("/components/securitySchemes")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), scheme_text(deref(doc, v))))
                        .collect()
                })
                .unwrap_or_default(),
        };
        model.compute_usage(doc);
        model
    }

    fn compute_usage(&mut self, doc: &'a Value) {
        let mut usage: BTreeMap<String, Usage> = BTreeMap::new();
        let mut used_by: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for op in self.operations.values() {
            let requests = op
                .params
                .values()
                .filter_map(|p| p.schema)
                .chain(op.request_body.as_ref().and_then(|b| b.schema));
            let responses = op.success.values().flatten().filter_map(|b| b.schema);
            let errors = op.errors.values().flatten().filter_map(|b| b.schema);
            let roots: [(Usage, Vec<&Value>); 3] = [
                (Usage::REQUEST, requests.collect()),
                (Usage::RESPONSE, responses.collect()),
                (Usage::ERROR, errors.collect()),
            ];
            for (how, nodes) in roots {
                let mut walker = UsageWalker {
                    doc,
                    seen: BTreeSet::new(),
                };
                for node in nodes {
                    walker.walk(node);
                }
                for name in walker.seen {
                    let entry = usage.entry(name.clone()).or_default();
                    *entry = entry.union(how);
                    // Every operation has error bodies; listing them all says nothing.
                    if how != Usage::ERROR {
                        used_by.entry(name).or_default().insert(op.id.clone());
                    }
                }
            }
        }
        self.usage = usage;
        self.used_by = used_by;
    }
}

/// Collects the names of the component schemas reachable from some nodes.
struct UsageWalker<'a> {
    doc: &'a Value,
    seen: BTreeSet<String>,
}

impl UsageWalker<'_> {
    fn walk(&mut self, node: &Value) {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            if let Some(name) = reference.strip_prefix("#/components/schemas/") {
                if !self.seen.insert(name.to_string()) {
                    return;
                }
                if let Some(target) = resolve(self.doc, reference) {
                    self.walk(target);
                }
            }
            return;
        }
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for p in props.values() {
                self.walk(p);
            }
        }
        for key in ["items", "additionalProperties", "not"] {
            if let Some(inner) = node.get(key).filter(|v| v.is_object()) {
                self.walk(inner);
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(members) = node.get(key).and_then(Value::as_array) {
                for m in members {
                    self.walk(m);
                }
            }
        }
    }
}

/// Resolves a local `$ref` (`#/a/b`) against the document.
pub fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

/// Follows `$ref` chains of parameters, responses, request bodies and path items.
fn deref<'a>(doc: &'a Value, node: &'a Value) -> &'a Value {
    let mut node = node;
    for _ in 0..16 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(r) if !r.starts_with("#/components/schemas/") => match resolve(doc, r) {
                Some(target) => node = target,
                None => return node,
            },
            _ => return node,
        }
    }
    node
}

impl<'a> Operation<'a> {
    fn read(
        doc: &'a Value,
        path: &str,
        method: &str,
        op: &'a Value,
        shared: Option<&'a Value>,
        global_security: Option<&'a Value>,
    ) -> Self {
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{} {path}", method.to_uppercase()));
        let mut params = BTreeMap::new();
        let lists = [shared, op.get("parameters")];
        for list in lists.into_iter().flatten() {
            for p in list.as_array().into_iter().flatten() {
                let p = deref(doc, p);
                let location = p.get("in").and_then(Value::as_str).unwrap_or("query");
                let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
                let required =
                    p.get("required").and_then(Value::as_bool) == Some(true) || location == "path";
                params.insert(
                    (location.to_string(), name.to_string()),
                    Param {
                        location: location.to_string(),
                        name: name.to_string(),
                        required,
                        schema: p.get("schema"),
                    },
                );
            }
        }
        let request_body = op.get("requestBody").map(|b| {
            let b = deref(doc, b);
            let mut body = body_of(b);
            body.required = b.get("required").and_then(Value::as_bool) == Some(true);
            body
        });
        let mut success = BTreeMap::new();
        let mut errors = BTreeMap::new();
        if let Some(responses) = op.get("responses").and_then(Value::as_object) {
            for (status, response) in responses {
                let response = deref(doc, response);
                let body = response
                    .get("content")
                    .and_then(Value::as_object)
                    .filter(|c| !c.is_empty())
                    .map(|_| body_of(response));
                if status.starts_with(['1', '2', '3']) {
                    success.insert(status.clone(), body);
                } else {
                    errors.insert(status.clone(), body);
                }
            }
        }
        let security = op
            .get("security")
            .or(global_security)
            .and_then(Value::as_array)
            .map(|alternatives| {
                alternatives
                    .iter()
                    .map(|alt| {
                        alt.as_object()
                            .map(|m| m.keys().cloned().collect::<BTreeSet<_>>())
                            .unwrap_or_default()
                    })
                    .collect::<BTreeSet<_>>()
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| BTreeSet::from([BTreeSet::new()]));
        Operation {
            id,
            method: method.to_string(),
            path: path.to_string(),
            params,
            request_body,
            success,
            errors,
            security,
            idempotent: op.get("x-idempotent").and_then(Value::as_bool),
        }
    }
}

fn body_of(node: &Value) -> Body<'_> {
    let (media, schema) = node
        .get("content")
        .and_then(Value::as_object)
        .and_then(|c| c.iter().next())
        .map(|(media, m)| (media.clone(), m.get("schema")))
        .unwrap_or_default();
    Body {
        required: true,
        media,
        schema,
    }
}

/// What a client must send for a security scheme; descriptions are ignored.
fn scheme_text(scheme: &Value) -> String {
    let field = |k: &str| scheme.get(k).and_then(Value::as_str).unwrap_or_default();
    match field("type") {
        "http" => format!("http {}", field("scheme").to_ascii_lowercase()),
        "apiKey" => format!("apiKey in {} `{}`", field("in"), field("name")),
        other => {
            let mut rest = scheme.clone();
            if let Some(map) = rest.as_object_mut() {
                map.remove("description");
            }
            format!("{other} {rest}")
        }
    }
}

/// A human list of security alternatives: `none`, `bearerAuth`, `a + b or c`.
pub fn security_text(security: &BTreeSet<BTreeSet<String>>) -> String {
    let alternatives: Vec<String> = security
        .iter()
        .map(|alt| {
            if alt.is_empty() {
                "none".to_string()
            } else {
                alt.iter().cloned().collect::<Vec<_>>().join(" + ")
            }
        })
        .collect();
    alternatives.join(" or ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(ty: &str, format: Option<&str>) -> Ty {
        Ty::Scalar {
            ty: ty.into(),
            format: format.map(str::to_string),
        }
    }

    #[test]
    fn numeric_and_string_types_widen_and_narrow() {
        let i32_ = scalar("integer", Some("int32"));
        let i64_ = scalar("integer", Some("int64"));
        let num = scalar("number", None);
        assert_eq!(Ty::compare(&i32_, &i64_), TyChange::Widened);
        assert_eq!(Ty::compare(&num, &i32_), TyChange::Narrowed);
        assert_eq!(
            Ty::compare(
                &scalar("string", Some("date-time")),
                &scalar("string", None)
            ),
            TyChange::Widened
        );
        assert_eq!(
            Ty::compare(&scalar("string", None), &scalar("boolean", None)),
            TyChange::Changed
        );
        assert_eq!(
            Ty::compare(
                &Ty::Array(Box::new(i64_.clone())),
                &Ty::Array(Box::new(i32_))
            ),
            TyChange::Narrowed
        );
        assert_eq!(Ty::compare(&i64_, &Ty::Any), TyChange::Widened);
    }

    #[test]
    fn single_entry_all_of_is_the_reference_it_wraps() {
        let node: Value = serde_json::json!({
            "allOf": [{"$ref": "#/components/schemas/User"}],
            "nullable": true
        });
        assert_eq!(describe(&node), (Ty::Named("User".into()), true));
    }
}
