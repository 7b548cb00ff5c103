//! A Management API client over plain HTTP for the emulator's own tests (reqwest + serde_json), and
//! small helpers around it. Each test file uses part of it.
#![allow(dead_code)]

use passage_emulator::{EmulatorHandle, DEFAULT_API_KEY};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Calls one app's Management API on an emulator's listener with an API key.
#[derive(Clone)]
pub struct Management {
    http: reqwest::Client,
    base: String,
    app_id: String,
    key: Option<String>,
}

impl Management {
    /// The default app's Management API with its configured key.
    pub fn new(emulator: &EmulatorHandle) -> Self {
        Self::for_app(emulator, emulator.default_app_id(), Some(DEFAULT_API_KEY))
    }

    /// `app_id`'s Management API with `key` (none: no `Authorization` header).
    pub fn for_app(emulator: &EmulatorHandle, app_id: &str, key: Option<&str>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: emulator.management_base_url(),
            app_id: app_id.to_owned(),
            key: key.map(str::to_owned),
        }
    }

    /// The same API with another key.
    pub fn with_key(&self, key: Option<&str>) -> Self {
        Self {
            key: key.map(str::to_owned),
            ..self.clone()
        }
    }

    /// `METHOD /apps/{app_id}{path}` with an optional JSON body: the status and the JSON body
    /// (`Value::Null` when the body is empty), checking that a body is JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}/apps/{}{path}", self.base, self.app_id);
        self.send(method, &url, body).await
    }

    /// Like [`Self::call`], to `url` as it is.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, url);
        if let Some(key) = &self.key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req.send().await.expect("the Management API answers");
        let status = resp.status();
        let json_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let bytes = resp.bytes().await.expect("body");
        if bytes.is_empty() {
            return (status, Value::Null);
        }
        assert!(json_type, "{status}: a body that is not JSON");
        (status, serde_json::from_slice(&bytes).expect("JSON body"))
    }

    /// Creates a user with `body` (`{"email": ..}` / `{"phone": ..}`); panics unless 201. Returns
    /// the user.
    pub async fn create_user(&self, body: Value) -> Value {
        let (status, answer) = self.call(Method::POST, "/users", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer["user"].clone()
    }

    /// Creates a user with an e-mail address; returns their id.
    pub async fn create_email_user(&self, email: &str) -> String {
        let user = self.create_user(json!({ "email": email })).await;
        user["id"].as_str().expect("id").to_owned()
    }

    /// The user with `id` (panics unless 200).
    pub async fn user(&self, id: &str) -> Value {
        let (status, answer) = self.call(Method::GET, &format!("/users/{id}"), None).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["user"].clone()
    }

    /// Every user of the app (one page of up to 500).
    pub async fn users(&self) -> Vec<Value> {
        let (status, answer) = self.call(Method::GET, "/users?limit=500", None).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["users"].as_array().expect("users").clone()
    }

    /// Activates or deactivates a user (panics unless 200).
    pub async fn set_active(&self, id: &str, active: bool) -> Value {
        let action = if active { "activate" } else { "deactivate" };
        let (status, answer) = self
            .call(Method::PATCH, &format!("/users/{id}/{action}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["user"].clone()
    }
}

/// An Auth API call (`/v1/apps/{default app}{path}`) with an optional bearer token: status and JSON
/// body (`Value::Null` when empty).
pub async fn auth_api(
    emulator: &EmulatorHandle,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!(
        "{}/apps/{}{path}",
        emulator.base_url(),
        emulator.default_app_id()
    );
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.expect("answer");
    let status = resp.status();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
