//! A typed Rust client of the admin API (feature `admin-client`, which brings reqwest); the request
//! and answer shapes are [`crate::model::admin_api`]'s, re-exported here.
//!
//! Architecture invariant: imports only the admin API's shapes ([`crate::model::admin_api`]) and the
//! base layer; the server's code never depends on it (only `EmulatorHandle::admin` makes one).
//!
//! [`AdminClient`] talks to an emulator in the same process (through its router, without a socket) or
//! to one at a URL (over HTTP); both go through the same handlers, so they answer the same.
//!
//! Users themselves are created, read, changed and deleted through the Management API
//! (`EmulatorHandle::management_base_url`), with one of the app's API keys.
//!
//! ```no_run
//! # async fn demo(user_id: &str) -> anyhow::Result<()> {
//! use passage_emulator::admin_client::AdminClient;
//! use passage_emulator::{Emulator, EmulatorConfig};
//!
//! let emulator = Emulator::start(EmulatorConfig::default()).await?;
//! let admin = emulator.admin(); // or AdminClient::connect("http://127.0.0.1:8787")?
//! let app_id = emulator.default_app_id();
//! let key = admin.create_api_key(app_id, "ci").await?; // shown once
//! let session = admin.create_session(app_id, user_id).await?;
//! # let _ = (key, session);
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ::http::{header, Method, Request, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::base::api_error::json_error_text;
pub use crate::model::admin_api::{
    ApiKeyInfo, ApiKeySource, AppConfig, AppSummary, AuthResult, ClockReading, FaultKind,
    FaultRule, LoggedRequest, NewApiKey, OutboxMessage, RotatedKey, ADMIN_TOKEN_HEADER,
};

/// An admin call that failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The emulator answered with an error body `{"code", "error"}`.
    #[error("{status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// Error code (`invalid_request`, `user_not_found`, ...).
        code: String,
        /// Message (never contains secrets).
        message: String,
    },
    /// The emulator could not be reached or the answer could not be read.
    #[error("transport error: {0}")]
    Transport(String),
    /// The answer was not the expected JSON.
    #[error("unexpected answer: {0}")]
    Decode(String),
}

impl AdminError {
    /// The HTTP status of an [`AdminError::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The error code of an [`AdminError::Api`].
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// How an in-process client reaches its emulator: a request in, the whole answer out (the error
/// describes what failed). The server makes one from its router (see `EmulatorHandle::admin`).
pub(crate) type InProcessDispatch = Arc<
    dyn Fn(
            Request<Vec<u8>>,
        ) -> Pin<Box<dyn Future<Output = Result<Response<Vec<u8>>, String>> + Send>>
        + Send
        + Sync,
>;

#[derive(Clone)]
enum Transport {
    Http {
        client: reqwest::Client,
        root: String,
    },
    InProcess {
        dispatch: InProcessDispatch,
    },
}

/// A typed client of the `/_emulator` admin API.
#[derive(Clone)]
pub struct AdminClient {
    transport: Transport,
    token: Option<String>,
}

impl std::fmt::Debug for AdminClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = match &self.transport {
            Transport::Http { root, .. } => root.as_str(),
            Transport::InProcess { .. } => "in-process",
        };
        f.debug_struct("AdminClient")
            .field("target", &target)
            .finish_non_exhaustive()
    }
}

/// The body of an answer: status and bytes.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl AdminClient {
    /// A client of the emulator at `url` (`http://127.0.0.1:8787`, with or without `/_emulator` or `/v1`).
    pub fn connect(url: &str) -> Result<Self, AdminError> {
        let parsed =
            url::Url::parse(url).map_err(|e| AdminError::Transport(format!("bad URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AdminError::Transport("the URL must be http(s)".into()));
        }
        let root = parsed.origin().ascii_serialization();
        Ok(Self {
            transport: Transport::Http {
                client: reqwest::Client::new(),
                root,
            },
            token: None,
        })
    }

    /// A client that sends its requests through `dispatch` (an emulator's full router) directly.
    pub(crate) fn in_process(dispatch: InProcessDispatch, token: Option<String>) -> Self {
        Self {
            transport: Transport::InProcess { dispatch },
            token,
        }
    }

    /// Sends `token` in the [`ADMIN_TOKEN_HEADER`] header (for an emulator configured with `admin_token`).
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, AdminError> {
        let path = format!("/_emulator{path_and_query}");
        match &self.transport {
            Transport::Http { client, root } => {
                let mut req = client.request(method, format!("{root}{path}"));
                if let Some(token) = &self.token {
                    req = req.header(ADMIN_TOKEN_HEADER, token);
                }
                if let Some(body) = body {
                    req = req
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body);
                }
                let resp = req
                    .send()
                    .await
                    .map_err(|e| AdminError::Transport(e.without_url().to_string()))?;
                let status = resp.status().as_u16();
                let body = resp
                    .bytes()
                    .await
                    .map_err(|e| AdminError::Transport(e.without_url().to_string()))?;
                Ok(Answer {
                    status,
                    body: body.to_vec(),
                })
            }
            Transport::InProcess { dispatch } => {
                let mut req = Request::builder().method(method).uri(path);
                if let Some(token) = &self.token {
                    req = req.header(ADMIN_TOKEN_HEADER, token);
                }
                let req = match body {
                    Some(body) => req
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(body),
                    None => req.body(Vec::new()),
                }
                .map_err(|e| AdminError::Transport(e.to_string()))?;
                let resp = dispatch(req).await.map_err(AdminError::Transport)?;
                Ok(Answer {
                    status: resp.status().as_u16(),
                    body: resp.into_body(),
                })
            }
        }
    }

    /// Sends a request and checks for a success status; returns the answer body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<Vec<u8>, AdminError> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| AdminError::Decode(e.to_string()))?;
        let answer = self.send(method, path, body).await?;
        if (200..300).contains(&answer.status) {
            return Ok(answer.body);
        }
        #[derive(Deserialize)]
        struct ErrorBody {
            code: String,
            error: String,
        }
        Err(match serde_json::from_slice::<ErrorBody>(&answer.body) {
            Ok(e) => AdminError::Api {
                status: answer.status,
                code: e.code,
                message: e.error,
            },
            Err(_) => AdminError::Api {
                status: answer.status,
                code: String::new(),
                message: "the answer has no error body".into(),
            },
        })
    }

    async fn call_json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, AdminError> {
        let bytes = self.call(method, path, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| AdminError::Decode(json_error_text(&e)))
    }

    /// `GET /_emulator/health`.
    pub async fn health(&self) -> Result<(), AdminError> {
        self.call(Method::GET, "/health", NO_BODY).await.map(drop)
    }

    /// `POST /_emulator/reset[?app_id=]`: empties users, sessions, outbox, faults and the request log
    /// (of one app, or of all).
    pub async fn reset(&self, app_id: Option<&str>) -> Result<(), AdminError> {
        let path = match app_id {
            Some(id) => format!("/reset?app_id={}", encode(id)),
            None => "/reset".to_owned(),
        };
        self.call(Method::POST, &path, NO_BODY).await.map(drop)
    }

    /// `GET /_emulator/apps`.
    pub async fn apps(&self) -> Result<Vec<AppSummary>, AdminError> {
        #[derive(Deserialize)]
        struct Apps {
            apps: Vec<AppSummary>,
        }
        let apps: Apps = self.call_json(Method::GET, "/apps", NO_BODY).await?;
        Ok(apps.apps)
    }

    /// `POST /_emulator/apps`: adds an app (with its own signing key).
    pub async fn create_app(&self, config: &AppConfig) -> Result<AppSummary, AdminError> {
        self.call_json(Method::POST, "/apps", Some(config)).await
    }

    /// `PATCH /_emulator/apps/{app_id}`: changes the app's settings at runtime. `change` edits the
    /// current configuration (its `id` cannot change); the whole result is sent.
    pub async fn update_app(
        &self,
        app_id: &str,
        change: impl FnOnce(&mut AppConfig),
    ) -> Result<AppSummary, AdminError> {
        let mut config = self
            .apps()
            .await?
            .into_iter()
            .find(|a| a.id == app_id)
            .map(|a| a.config)
            .ok_or_else(|| AdminError::Api {
                status: 404,
                code: "app_not_found".into(),
                message: "app not found".into(),
            })?;
        change(&mut config);
        let patch = serde_json::to_value(&config).map_err(|e| AdminError::Decode(e.to_string()))?;
        self.update_app_raw(app_id, &patch).await
    }

    /// `PATCH /_emulator/apps/{app_id}` with a JSON object of configuration keys to change.
    pub async fn update_app_raw(
        &self,
        app_id: &str,
        patch: &Value,
    ) -> Result<AppSummary, AdminError> {
        let path = format!("/apps/{}", encode(app_id));
        self.call_json(Method::PATCH, &path, Some(patch)).await
    }

    /// `POST /_emulator/apps/{app_id}/rotate-key`.
    pub async fn rotate_key(&self, app_id: &str) -> Result<RotatedKey, AdminError> {
        let path = format!("/apps/{}/rotate-key", encode(app_id));
        self.call_json(Method::POST, &path, NO_BODY).await
    }

    /// `GET /_emulator/apps/{app_id}/api-keys`: configured keys in full, made ones by their hint.
    pub async fn api_keys(&self, app_id: &str) -> Result<Vec<ApiKeyInfo>, AdminError> {
        #[derive(Deserialize)]
        struct Keys {
            api_keys: Vec<ApiKeyInfo>,
        }
        let path = format!("/apps/{}/api-keys", encode(app_id));
        let keys: Keys = self.call_json(Method::GET, &path, NO_BODY).await?;
        Ok(keys.api_keys)
    }

    /// `POST /_emulator/apps/{app_id}/api-keys`: a new API key named `name`; its `key` is shown in
    /// this answer only.
    pub async fn create_api_key(&self, app_id: &str, name: &str) -> Result<ApiKeyInfo, AdminError> {
        let path = format!("/apps/{}/api-keys", encode(app_id));
        let body = NewApiKey {
            name: name.to_owned(),
        };
        self.call_json(Method::POST, &path, Some(&body)).await
    }

    /// `DELETE /_emulator/apps/{app_id}/api-keys/{key_id}`.
    pub async fn revoke_api_key(&self, app_id: &str, key_id: &str) -> Result<(), AdminError> {
        let path = format!("/apps/{}/api-keys/{}", encode(app_id), encode(key_id));
        self.call(Method::DELETE, &path, NO_BODY).await.map(drop)
    }

    /// `POST /_emulator/apps/{app_id}/users/{user_id}/sessions`: a fresh session without a ceremony.
    pub async fn create_session(
        &self,
        app_id: &str,
        user_id: &str,
    ) -> Result<AuthResult, AdminError> {
        #[derive(Deserialize)]
        struct Response {
            auth_result: AuthResult,
        }
        let path = format!(
            "/apps/{}/users/{}/sessions",
            encode(app_id),
            encode(user_id)
        );
        let resp: Response = self.call_json(Method::POST, &path, NO_BODY).await?;
        Ok(resp.auth_result)
    }

    /// `GET /_emulator/outbox[?identifier=]`, oldest first.
    pub async fn outbox(&self, identifier: Option<&str>) -> Result<Vec<OutboxMessage>, AdminError> {
        let path = match identifier {
            Some(id) => format!("/outbox?identifier={}", encode(id)),
            None => "/outbox".to_owned(),
        };
        self.call_json(Method::GET, &path, NO_BODY).await
    }

    /// `DELETE /_emulator/outbox`.
    pub async fn clear_outbox(&self) -> Result<(), AdminError> {
        self.call(Method::DELETE, "/outbox", NO_BODY)
            .await
            .map(drop)
    }

    /// `GET /_emulator/clock`.
    pub async fn clock(&self) -> Result<ClockReading, AdminError> {
        self.call_json(Method::GET, "/clock", NO_BODY).await
    }

    /// `POST /_emulator/clock/advance`.
    pub async fn advance_clock(&self, seconds: i64) -> Result<ClockReading, AdminError> {
        let body = serde_json::json!({ "seconds": seconds });
        self.call_json(Method::POST, "/clock/advance", Some(&body))
            .await
    }

    /// `POST /_emulator/faults`.
    pub async fn add_fault(&self, rule: &FaultRule) -> Result<(), AdminError> {
        self.call(Method::POST, "/faults", Some(rule))
            .await
            .map(drop)
    }

    /// `GET /_emulator/faults`.
    pub async fn faults(&self) -> Result<Vec<FaultRule>, AdminError> {
        #[derive(Deserialize)]
        struct Faults {
            faults: Vec<FaultRule>,
        }
        let faults: Faults = self.call_json(Method::GET, "/faults", NO_BODY).await?;
        Ok(faults.faults)
    }

    /// `DELETE /_emulator/faults`.
    pub async fn clear_faults(&self) -> Result<(), AdminError> {
        self.call(Method::DELETE, "/faults", NO_BODY)
            .await
            .map(drop)
    }

    /// `GET /_emulator/requests`.
    pub async fn requests(&self) -> Result<Vec<LoggedRequest>, AdminError> {
        #[derive(Deserialize)]
        struct Requests {
            requests: Vec<LoggedRequest>,
        }
        let log: Requests = self.call_json(Method::GET, "/requests", NO_BODY).await?;
        Ok(log.requests)
    }

    /// `DELETE /_emulator/requests`.
    pub async fn clear_requests(&self) -> Result<(), AdminError> {
        self.call(Method::DELETE, "/requests", NO_BODY)
            .await
            .map(drop)
    }
}

/// No request body.
const NO_BODY: Option<&()> = None;

/// Percent-encodes a path segment or query value.
fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
