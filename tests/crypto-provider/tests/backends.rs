//! jsonwebtoken with only its RustCrypto backend, next to `passage-emulator` and
//! `passage-auth-client`: the user's own `jsonwebtoken` calls work on their backend (our crates do not
//! switch a second one on), the emulator signs and checks its tokens without jsonwebtoken's
//! process-wide provider, and the client's `TokenVerifier` verifies the emulator's tokens.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use passage_auth_client::{ClientBuilder, TokenVerifier, VerifierConfig};
use passage_emulator::{Emulator, EmulatorConfig};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Claims {
    sub: String,
    aud: Vec<String>,
    iss: String,
    exp: u64,
}

#[test]
fn the_users_own_jsonwebtoken_signs_and_verifies() {
    let claims = Claims {
        sub: "user".into(),
        aud: vec!["app".into()],
        iss: "me".into(),
        exp: 4_000_000_000,
    };
    let key = b"a shared secret of the user's own";
    let token = encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key),
    )
    .expect("signs on the RustCrypto backend");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["app"]);
    let back = decode::<Claims>(&token, &DecodingKey::from_secret(key), &validation)
        .expect("verifies on the RustCrypto backend");
    assert_eq!(back.claims, claims);
    assert!(decode::<Claims>(
        &token,
        &DecodingKey::from_secret(b"another key"),
        &validation
    )
    .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_tokens_verify_with_the_client_and_with_jsonwebtoken() {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let app_id = emulator.default_app_id().to_owned();
    let admin = emulator.admin();
    // The user is made through the Management API, as an app's back end makes one.
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/apps/{app_id}/users",
            emulator.management_base_url()
        ))
        .bearer_auth(passage_emulator::DEFAULT_API_KEY)
        .json(&serde_json::json!({ "email": "crypto@example.com" }))
        .send()
        .await
        .expect("user created")
        .error_for_status()
        .expect("user created")
        .json()
        .await
        .expect("user answer");
    let user_id = created["user"]["id"]
        .as_str()
        .expect("the answer names the user")
        .to_owned();
    let session = admin
        .create_session(&app_id, &user_id)
        .await
        .expect("session");
    let token = session.auth_token.clone();

    // The client's verifier (aws-lc-rs, named by the client itself).
    let client = ClientBuilder::new()
        .base_url(emulator.base_url())
        .build()
        .expect("client");
    let verifier = TokenVerifier::new(client, app_id.clone(), VerifierConfig::default());
    let claims = verifier
        .verify(&token)
        .await
        .expect("the client verifies it");
    assert_eq!(claims.user_id(), user_id);

    // The user's jsonwebtoken (RustCrypto) with the emulator's JWKS.
    let http = reqwest::Client::new();
    let jwks: serde_json::Value = http
        .get(format!(
            "{}/apps/{app_id}/.well-known/jwks.json",
            emulator.base_url()
        ))
        .send()
        .await
        .expect("JWKS answered")
        .json()
        .await
        .expect("JWKS is JSON");
    let jwk = &jwks["keys"][0];
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().expect("n"),
        jwk["e"].as_str().expect("e"),
    )
    .expect("RSA key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[app_id.as_str()]);
    validation.set_issuer(&[verifier.issuer()]);
    let decoded = decode::<Claims>(&token, &key, &validation).expect("jsonwebtoken verifies it");
    assert_eq!(decoded.claims.sub, user_id);

    // The emulator checks the bearer token itself (its own aws-lc-rs verification).
    let me = http
        .get(format!("{}/apps/{app_id}/currentuser", emulator.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .expect("currentuser answered");
    assert_eq!(me.status(), 200);
    let mut tampered = token.clone();
    tampered.pop();
    tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
    let refused = http
        .get(format!("{}/apps/{app_id}/currentuser", emulator.base_url()))
        .bearer_auth(&tampered)
        .send()
        .await
        .expect("currentuser answered");
    assert_eq!(refused.status(), 401);

    // The fake identity provider's HS256 tokens: minted and checked by the emulator.
    let minted: serde_json::Value = http
        .post(format!("{}/fake-provider/id-token", emulator.admin_url()))
        .header("content-type", "application/json")
        .body(serde_json::json!({"email": "social@example.com", "app_id": app_id}).to_string())
        .send()
        .await
        .expect("id token minted")
        .json()
        .await
        .expect("JSON");
    let exchanged = http
        .post(format!(
            "{}/apps/{app_id}/social/id_token",
            emulator.base_url()
        ))
        .header("content-type", "application/json")
        .body(
            serde_json::json!({
                "id_token": minted["id_token"],
                "connection_type": "apple",
                "code": "unused"
            })
            .to_string(),
        )
        .send()
        .await
        .expect("id token exchanged");
    assert_eq!(exchanged.status(), 201, "{:?}", exchanged.text().await);
}
