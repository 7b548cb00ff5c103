//! The classification rules: every kind of change the diff reports, and
//! whether it breaks a client generated from the old spec.
//!
//! A change's verdict depends on the direction the changed thing travels: a
//! value the client *sends* (parameters, request bodies) may grow but not
//! shrink; a value the client *receives* (responses, error bodies) may shrink
//! but not grow. A schema used both ways gets the stricter verdict. String
//! enums are open in the generated client (unknown values decode into
//! `Unknown(String)`), so new enum values in responses are compatible.
//! `docs/spec-diff-rules.md` holds the same table for readers.

use std::fmt;

use serde::Serialize;

use super::model::Usage;

/// Whether a change breaks clients generated from the old spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Old clients keep working.
    Compatible,
    /// Old clients can fail: requests rejected, responses that do not decode,
    /// or generated code that no longer matches the server.
    Breaking,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Compatible => "compatible",
            Severity::Breaking => "breaking",
        })
    }
}

/// One row of the rule table.
#[derive(Clone, Copy, Debug)]
pub struct RuleInfo {
    /// The rule's stable id, shown in reports.
    pub id: &'static str,
    /// What changed, in a few words.
    pub what: &'static str,
    /// Verdict when the changed thing is sent by the client (or when direction does not apply).
    pub request: Severity,
    /// Verdict when the changed thing is received by the client.
    pub response: Severity,
    /// Why.
    pub why: &'static str,
}

macro_rules! rules {
    ($($variant:ident => $id:literal, $what:literal, $req:ident, $resp:ident, $why:literal;)*) => {
        /// Every kind of change the diff reports.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Rule {
            $(
                #[doc = $what]
                $variant,
            )*
        }

        impl Rule {
            /// All rules, in table order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant),*];

            /// The rule's row of the table.
            pub fn info(self) -> RuleInfo {
                match self {
                    $(Rule::$variant => RuleInfo {
                        id: $id,
                        what: $what,
                        request: Severity::$req,
                        response: Severity::$resp,
                        why: $why,
                    },)*
                }
            }
        }
    };
}

rules! {
    OperationAdded => "operation-added", "A new operation", Compatible, Compatible,
        "Old clients do not call it.";
    OperationRemoved => "operation-removed", "An operation was removed", Breaking, Breaking,
        "Old clients still call it and get 404 or 405.";
    OperationMoved => "operation-moved", "An operation's method or path changed (same operationId)", Breaking, Breaking,
        "Old clients send the request to the old method and path.";
    OperationRenamed => "operation-renamed", "An operation's operationId changed (same method and path)", Breaking, Breaking,
        "The generated method is renamed, so code calling it stops compiling.";
    ParameterAddedRequired => "parameter-added-required", "A new required parameter", Breaking, Breaking,
        "Old clients do not send it.";
    ParameterAddedOptional => "parameter-added-optional", "A new optional parameter", Compatible, Compatible,
        "Old clients leave it out, which is allowed.";
    ParameterRemoved => "parameter-removed", "A parameter was removed", Breaking, Breaking,
        "Old clients still send it and rely on its effect, which is gone.";
    ParameterNowRequired => "parameter-now-required", "An optional parameter became required", Breaking, Breaking,
        "Old clients may leave it out.";
    ParameterNowOptional => "parameter-now-optional", "A required parameter became optional", Compatible, Compatible,
        "Old clients always send it, which is still allowed.";
    RequestBodyAddedRequired => "request-body-added-required", "A required request body was added", Breaking, Breaking,
        "Old clients send no body.";
    RequestBodyAddedOptional => "request-body-added-optional", "An optional request body was added", Compatible, Compatible,
        "Old clients send no body, which is allowed.";
    RequestBodyRemoved => "request-body-removed", "The request body was removed", Breaking, Breaking,
        "Old clients still send one.";
    RequestBodyNowRequired => "request-body-now-required", "An optional request body became required", Breaking, Breaking,
        "Old clients may send none.";
    RequestBodyNowOptional => "request-body-now-optional", "A required request body became optional", Compatible, Compatible,
        "Old clients always send one.";
    BodyTypeChanged => "body-type-changed", "A request or response body now uses another schema or media type", Breaking, Breaking,
        "Old clients encode or decode the old schema.";
    ResponseBodyAdded => "response-body-added", "A success response that had no body now has one", Compatible, Compatible,
        "Old clients ignore the body.";
    ResponseBodyRemoved => "response-body-removed", "A success response lost its body", Breaking, Breaking,
        "Old clients expect a body to decode.";
    SuccessStatusAdded => "success-status-added", "A new success status (for example 200 became 201)", Breaking, Breaking,
        "The generated client accepts only the statuses it knows and treats others as unexpected.";
    SuccessStatusRemoved => "success-status-removed", "A declared success status was removed", Breaking, Breaking,
        "The status is part of the contract: callers may act on it (a 202 accepted versus a 200 done), and a client generated from the new spec fails on it when a server not yet updated still sends it. openapi-diff and oasdiff report it as breaking too.";
    SecurityAdded => "security-added", "An operation needs a credential it did not need before", Breaking, Breaking,
        "Old clients call it without that credential.";
    SecurityRelaxed => "security-relaxed", "An operation accepts more ways to authenticate (or none)", Compatible, Compatible,
        "What old clients send is still accepted.";
    SecuritySchemeChanged => "security-scheme-changed", "A security scheme an operation uses now takes another kind of credential, header, query parameter or cookie", Breaking, Breaking,
        "Old clients send the credential the old way.";
    ErrorStatusAdded => "error-status-added", "A new error status", Compatible, Compatible,
        "Every non-success status is already an error to the client; the error body type is shared.";
    ErrorStatusRemoved => "error-status-removed", "An error status was removed", Compatible, Compatible,
        "Old clients simply never see it.";
    NoLongerIdempotent => "no-longer-idempotent", "x-idempotent went from true to false", Breaking, Breaking,
        "Old clients may retry the request automatically and repeat a side effect.";
    NowIdempotent => "now-idempotent", "x-idempotent went from false (or absent) to true", Compatible, Compatible,
        "Old clients only retry less than they could.";
    SchemaAdded => "schema-added", "A new component schema", Compatible, Compatible,
        "Old clients do not use it.";
    SchemaRemoved => "schema-removed", "A component schema was removed", Compatible, Compatible,
        "The places that used it are reported as their own changes; the Rust type disappears (see the Rust API section).";
    TypeWidened => "type-widened", "A type accepts more values (int32 to int64, integer to number, a string format dropped, any value)", Compatible, Breaking,
        "The server accepts everything old clients send; old clients may receive values their types cannot hold.";
    TypeNarrowed => "type-narrowed", "A type accepts fewer values (the reverse of widened)", Breaking, Compatible,
        "Old clients may send values the server now rejects; what they receive still fits.";
    TypeChanged => "type-changed", "A type changed to an unrelated one (string to integer, one schema to another)", Breaking, Breaking,
        "Neither side can read the other's values.";
    FieldAddedRequired => "field-added-required", "A new required object field", Breaking, Compatible,
        "Old clients do not send it; in responses they ignore it.";
    FieldAddedOptional => "field-added-optional", "A new optional object field", Compatible, Compatible,
        "Old clients leave it out or ignore it.";
    ClosedObjectFieldAdded => "closed-object-field-added", "A field was added to an object with `additionalProperties: false` (reported besides the field-added rule)", Compatible, Breaking,
        "The generated type rejects unknown fields, so old clients fail to decode a response that carries the new one.";
    FieldRemoved => "field-removed", "An object field was removed", Breaking, Breaking,
        "Old clients still send it (and rely on its effect) or expect to receive it.";
    FieldNowRequired => "field-now-required", "An optional field became required", Breaking, Compatible,
        "Old clients may leave it out; in responses it is now always there.";
    FieldNowOptional => "field-now-optional", "A required field became optional", Compatible, Breaking,
        "Old clients always send it; in responses they fail to decode when it is missing.";
    NowNullable => "now-nullable", "A field, parameter or schema became nullable", Compatible, Breaking,
        "The server accepts null; old clients fail to decode a null they did not expect.";
    NoLongerNullable => "no-longer-nullable", "A field, parameter or schema is no longer nullable", Breaking, Compatible,
        "Old clients may send null; they never receive it now.";
    EnumValueAdded => "enum-value-added", "A new string enum value", Compatible, Compatible,
        "Generated string enums are open: an unknown value decodes as `Unknown(..)`.";
    EnumValueRemoved => "enum-value-removed", "A string enum value was removed", Breaking, Compatible,
        "Old clients may send it; in responses they simply never receive it.";
    ErrorCodeAdded => "error-code-added", "A new value of an enum used only in error bodies (an error code)", Compatible, Compatible,
        "Error codes are open; clients must handle codes they do not know.";
    ErrorCodeRemoved => "error-code-removed", "An error code was removed", Compatible, Compatible,
        "Old clients simply never receive it.";
}

impl Rule {
    /// The rule's stable id.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// The verdict for a change to something used as `usage` says.
    pub fn severity(self, usage: Usage) -> Severity {
        let info = self.info();
        let mut verdict = Severity::Compatible;
        // Something not used anywhere is judged as a request value (the stricter
        // default for inputs) and as a response value.
        let unused = !usage.request && !usage.received();
        if usage.request || unused {
            verdict = verdict.max(info.request);
        }
        if usage.received() || unused {
            verdict = verdict.max(info.response);
        }
        verdict
    }

    /// Finds a rule by id.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.iter().copied().find(|r| r.id() == id)
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id())
    }
}

/// The rule table as Markdown (the table in `docs/spec-diff-rules.md`).
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Rule | What changed | Client sends it | Client receives it | Why |\n|---|---|---|---|---|\n",
    );
    for rule in Rule::ALL {
        let info = rule.info();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            info.id, info.what, info.request, info.response, info.why
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_round_trip() {
        for rule in Rule::ALL {
            assert_eq!(Rule::from_id(rule.id()), Some(*rule));
        }
        let mut ids: Vec<_> = Rule::ALL.iter().map(|r| r.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Rule::ALL.len());
    }

    #[test]
    fn direction_picks_the_stricter_verdict() {
        let both = Usage::REQUEST.union(Usage::RESPONSE);
        assert_eq!(
            Rule::FieldNowOptional.severity(Usage::REQUEST),
            Severity::Compatible
        );
        assert_eq!(
            Rule::FieldNowOptional.severity(Usage::RESPONSE),
            Severity::Breaking
        );
        assert_eq!(Rule::FieldNowRequired.severity(both), Severity::Breaking);
        assert_eq!(
            Rule::EnumValueRemoved.severity(Usage::ERROR),
            Severity::Compatible
        );
    }
}
