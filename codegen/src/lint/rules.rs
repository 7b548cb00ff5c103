//! Every rule id the linter and the generator report, with what it checks and
//! how to fix a finding. `docs/lint-rules.md` holds the same table for readers
//! (a test keeps the two equal: paste in [`markdown_table()`]).

/// One rule: its id, what it checks and how to fix what it finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The stable id shown in brackets in every finding.
    pub id: &'static str,
    /// What the rule checks, in the spec's terms.
    pub checks: &'static str,
    /// How to fix a finding of this rule.
    pub fix: &'static str,
}

/// Every rule, in the order of `docs/lint-rules.md`.
pub const RULES: &[Rule] = &[
    // document
    Rule {
        id: "openapi-version",
        checks: "The document is OpenAPI 3.0.x (what progenitor reads).",
        fix: "set `openapi: 3.0.3`",
    },
    Rule {
        id: "info-version-semver",
        checks: "`info.version` is present and is a semantic version.",
        fix: "write `info.version` as MAJOR.MINOR.PATCH, e.g. `1.4.0`",
    },
    Rule {
        id: "refs-resolve",
        checks: "Every `$ref` is local, names a component directly (`#/components/<kind>/<Name>`) of the kind its place needs (a schema where a schema goes, a parameter in `parameters`, ...), and resolves.",
        fix: "point the `$ref` at an existing component of the right kind, or add the component",
    },
    Rule {
        id: "ref-cycle",
        checks: "No schema is defined through itself by `$ref`, `allOf`, `oneOf` or `anyOf` alone (a loop the generator would follow forever); loops through `properties`, `items` or `additionalProperties` are fine.",
        fix: "break the loop: make one schema of the cycle an object with properties instead of a reference",
    },
    // operations
    Rule {
        id: "operation-id",
        checks: "Every operation has a unique snake_case `operationId` (it becomes the method name).",
        fix: "add or rename the `operationId` (lower-case words joined by `_`, used once)",
    },
    Rule {
        id: "summary-and-tag",
        checks: "Every operation has a `summary`, a `description` and exactly one declared tag.",
        fix: "write the missing text, or use one tag listed in the top-level `tags`",
    },
    Rule {
        id: "parameter-description",
        checks: "Every parameter has a description.",
        fix: "add a `description` to the parameter",
    },
    Rule {
        id: "security-declared",
        checks: "Every operation declares `security` with known schemes; current-user operations require `bearerAuth`; no global `security`.",
        fix: "declare `security` on the operation (`security: []` for none) using a scheme of `components.securitySchemes`",
    },
    Rule {
        id: "retry-safety-declared",
        checks: "Every operation declares `x-idempotent: true|false`.",
        fix: "add `x-idempotent: true` if repeating the request cannot change the outcome, else `false`",
    },
    Rule {
        id: "path-parameters",
        checks: "The path template is well formed, each `{name}` has exactly one `in: path` parameter with `required: true`, every path parameter appears in the template, and no parameter (name and `in`) is declared twice.",
        fix: "make the template's `{names}` and the operation's `in: path` parameters match one to one",
    },
    Rule {
        id: "parameter-schema",
        checks: "Every parameter has a `schema` (not `content`) that is, through `$ref`s, a string, integer, number or boolean (a string enum component is a string), or for a query parameter an array of them; no `allOf`/`oneOf`/`anyOf`.",
        fix: "give the parameter a plain scalar schema, e.g. `schema: {type: string}` or a `$ref` to a string enum",
    },
    Rule {
        id: "request-body",
        checks: "A request body offers exactly one media type (`application/json` or `application/x-www-form-urlencoded`), with a schema and no `encoding`.",
        fix: "keep one media type with a `schema: {$ref: ...}` and remove `encoding`",
    },
    // responses
    Rule {
        id: "error-response-type",
        checks: "Every operation declares at least one 4xx or 5xx status (the generated crate's error is typed with the error body); every 4xx and 5xx response of the spec has the same `application/json` body `$ref` (the one most of them use; the generator's options name it, `ApiError` by default); no `default` response.",
        fix: "give the error status the spec's shared error body, and list statuses explicitly",
    },
    Rule {
        id: "success-body",
        checks: "All success responses of an operation share one body type (or are all empty), offer one content type, and redirects have no body.",
        fix: "use one body schema for every 2xx answer of the operation",
    },
    Rule {
        id: "content-schema",
        checks: "Every response content has a schema that is a `$ref` to a named component.",
        fix: "add `schema: {$ref: '#/components/schemas/Name'}`",
    },
    // schemas
    Rule {
        id: "no-inline-objects",
        checks: "Objects with properties and request bodies are named component schemas referenced by `$ref`.",
        fix: "move the inline object to `components/schemas` and reference it",
    },
    Rule {
        id: "named-enums",
        checks: "Every enum is a named component schema referenced by `$ref` (it becomes an open enum).",
        fix: "move the enum to `components/schemas` and reference it",
    },
    Rule {
        id: "unique-titles",
        checks: "No two schemas share a `title` (progenitor would merge them into one type).",
        fix: "give each schema its own `title`, or drop the `title`",
    },
    Rule {
        id: "schema-type",
        checks: "`type` is one of `string`, `number`, `integer`, `boolean`, `array`, `object`; `format` is one the generator maps to a type the client compiles (not `uuid`) and has a `type`; arrays have `items`; `default` has the schema's type.",
        fix: "correct the `type`/`format` spelling (e.g. `type: string`, `format: date-time`), add `items`, or fix the `default`",
    },
    Rule {
        id: "unsupported-keyword",
        checks: "No schema uses `pattern` (validated with the `regress` crate, which the client does not depend on) or `not` (progenitor converts few of its forms).",
        fix: "remove the keyword and describe the constraint in the `description`",
    },
    Rule {
        id: "schema-bounds",
        checks: "`exclusiveMinimum`/`exclusiveMaximum` come with `minimum`/`maximum`; lower bounds are not above upper bounds.",
        fix: "add the `minimum`/`maximum` the exclusive flag applies to, or swap the bounds",
    },
    Rule {
        id: "required-properties",
        checks: "Every name in `required` is a property of the same schema, listed once.",
        fix: "add the property, or remove the name from `required`",
    },
    Rule {
        id: "nullable-ref",
        checks: "`nullable: true` stands next to a `type` (OpenAPI 3.0.3 ignores it otherwise) and never next to `$ref` (whose siblings are ignored). A nullable reference is `type: object` + `allOf: [$ref]` + `nullable: true`.",
        fix: "write `type: object`, `nullable: true` and `allOf: [{$ref: ...}]` side by side",
    },
    Rule {
        id: "enum-values",
        checks: "A string enum lists distinct string values, each with a letter or digit, whose Rust variant names (`cross-platform` -> `CrossPlatform`) are distinct, are not `Unknown` (the variant for values the spec does not list) or `Self`; its `default` is one of the values.",
        fix: "remove the duplicate or symbol-only value, or spell the values so that their variant names differ (the wire value is the name: it cannot be renamed without the server)",
    },
    Rule {
        id: "rust-names",
        checks: "Names stay distinct and valid after Rust naming: component schemas are PascalCase identifiers and distinct in PascalCase; the properties of a schema are distinct in snake_case; the parameters of an operation are distinct in snake_case and are not `send` (nor `body` or `body_map` when it has a request body: builder methods); operation ids are distinct in PascalCase (their builder types).",
        fix: "rename one of the colliding names (for a property or parameter the wire name is the name: check it with the server first)",
    },
    // generator
    Rule {
        id: "generator",
        checks: "The generator (progenitor, or the project's post-processing) converted the spec without a panic or an error, and the generated code defines each item once. A finding of this rule names the schema or operation it could not convert: the spec uses a construct that no lint rule describes yet.",
        fix: "simplify the named schema or operation (a named component, one body type, plain types), and report the case so that a lint rule can describe it",
    },
];

/// The rule with this id.
pub fn get(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// The rule table as Markdown (the table in `docs/lint-rules.md`).
pub fn markdown_table() -> String {
    let mut out = String::from("| Rule | What it checks | How to fix a finding |\n|---|---|---|\n");
    for rule in RULES {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            rule.id,
            rule.checks.replace('|', "\\|"),
            rule.fix.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::RULES;

    #[test]
    fn ids_are_unique_and_every_rule_says_how_to_fix() {
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        for rule in RULES {
            assert!(
                !rule.checks.is_empty() && !rule.fix.is_empty(),
                "{}",
                rule.id
            );
        }
    }
}
