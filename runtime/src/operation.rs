//! [`OperationSpec`]: what a spec declares about one operation, as a
//! generated crate's operation table lists it. The pipeline reads it to add
//! the right credential, to decide whether a failed attempt may be repeated,
//! and to know which values of a request are secret.

/// The credential an operation needs (its `security` in the spec): the
/// credential kinds the pipeline can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No credential.
    None,
    /// An HTTP bearer token (`Authorization: Bearer ...`): a user's auth
    /// token for the Auth API, the app's API key for the Management API.
    Bearer,
    /// An API key in a request header.
    ApiKey {
        /// The header's name, lower-case.
        header: &'static str,
    },
}

/// One operation of a spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OperationSpec {
    /// The spec's `operationId`, also the generated method name.
    pub operation_id: &'static str,
    /// The HTTP method.
    pub method: &'static str,
    /// The path template, relative to the base URL.
    pub path: &'static str,
    /// The API area (the spec's first tag).
    pub tag: &'static str,
    /// The credential the operation needs.
    pub auth: Auth,
    /// `x-idempotent`: whether repeating the request is safe.
    pub idempotent: bool,
    /// The success (2xx and 3xx) statuses the spec declares.
    pub success_statuses: &'static [u16],
    /// Query parameters that carry a secret (`format: password`, `$ref`s
    /// resolved): never log their values.
    pub secret_query: &'static [&'static str],
    /// Header parameters (lower-case) that carry a secret.
    pub secret_headers: &'static [&'static str],
    /// Paths into the request body (JSON or form; `/`-separated property
    /// names, `*` for array items and map values) whose values are secret.
    pub secret_body: &'static [&'static str],
}

impl OperationSpec {
    /// A row of a generated operation table.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        operation_id: &'static str,
        method: &'static str,
        path: &'static str,
        tag: &'static str,
        auth: Auth,
        idempotent: bool,
        success_statuses: &'static [u16],
        secret_query: &'static [&'static str],
        secret_headers: &'static [&'static str],
        secret_body: &'static [&'static str],
    ) -> Self {
        Self {
            operation_id,
            method,
            path,
            tag,
            auth,
            idempotent,
            success_statuses,
            secret_query,
            secret_headers,
            secret_body,
        }
    }

    /// True when the request carries a secret in a declared place.
    pub const fn has_secret_places(&self) -> bool {
        !(self.secret_query.is_empty()
            && self.secret_headers.is_empty()
            && self.secret_body.is_empty())
    }

    /// Whether a request of this operation can carry a secret: a credential
    /// or a value in a secret place.
    pub const fn carries_secrets(&self) -> bool {
        !matches!(self.auth, Auth::None) || self.has_secret_places()
    }
}
