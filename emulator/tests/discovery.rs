//! The emulator's OpenID Connect discovery document, read by the `openidconnect` crate (a widely used
//! OIDC client): every member Discovery 1.0 requires is there and agrees with what the emulator
//! serves (the issuer is the tokens' `iss`, the JWKS verifies them, the authorization endpoint starts
//! a login).

use openidconnect::core::{
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType, CoreSubjectIdentifierType,
};
mod support;

use openidconnect::{HttpRequest, HttpResponse, IssuerUrl, JsonWebKey, ResponseTypes};
use passage_conformance::CheckedEmulator;
use passage_emulator::EmulatorConfig;

/// The HTTP client the OIDC library runs its requests through (reqwest, no redirects).
async fn send(request: HttpRequest) -> Result<HttpResponse, reqwest::Error> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let (parts, body) = request.into_parts();
    let answer = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let (status, headers) = (answer.status(), answer.headers().clone());
    let mut response = HttpResponse::new(answer.bytes().await?.to_vec());
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

#[tokio::test]
async fn an_oidc_client_discovers_the_emulator_and_verifies_its_tokens() {
    let emulator = CheckedEmulator::start(EmulatorConfig::default())
        .await
        .expect("emulator starts");
    let app_id = emulator.default_app_id().to_owned();
    let issuer = format!("{}/apps/{app_id}", emulator.base_url());
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(issuer.clone()).expect("issuer URL"),
        &send,
    )
    .await
    .expect("discovery succeeds (the issuer matches, the JWKS loads)");

    assert_eq!(metadata.issuer().as_str(), issuer);
    assert!(metadata
        .response_types_supported()
        .contains(&ResponseTypes::new(vec![CoreResponseType::Code])));
    assert!(metadata
        .subject_types_supported()
        .contains(&CoreSubjectIdentifierType::Public));
    assert_eq!(
        metadata.id_token_signing_alg_values_supported(),
        &vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256]
    );

    // The issuer is the tokens' `iss`, and the discovered JWKS holds their key.
    let admin = emulator.admin();
    let user_id = support::Management::new(&emulator)
        .create_email_user("oidc@example.com")
        .await;
    let token = admin
        .create_session(&app_id, &user_id)
        .await
        .expect("session")
        .auth_token;
    let payload = token.split('.').nth(1).expect("a JWT");
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("JSON claims");
    assert_eq!(claims["iss"], issuer);
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("header"))
            .expect("base64url"),
    )
    .expect("JSON header");
    let kid = header["kid"].as_str().expect("kid");
    assert!(
        metadata
            .jwks()
            .keys()
            .iter()
            .any(|k| k.key_id().map(|id| id.as_str()) == Some(kid)),
        "the discovered JWKS holds the token's key"
    );

    // The authorization endpoint starts a login (a redirect to the identity provider).
    let authorize = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
        .get(metadata.authorization_endpoint().url().clone())
        .query(&[
            ("redirect_uri", "https://app.passage.test/callback"),
            (
                "code_challenge",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            ),
            ("code_challenge_method", "S256"),
            ("connection_type", "github"),
        ])
        .send()
        .await
        .expect("authorize answered");
    assert_eq!(authorize.status(), 302);
}
