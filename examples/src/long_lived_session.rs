//! Example `long_lived_session`: a [`Session`] keeps a signed-in user's tokens and refreshes the
//! auth token by itself when it expires — once, however many tasks ask at the same moment.
//!
//! With the emulator, time is moved with its injectable clock (the session reads the same
//! clock), so the server really considers the old token expired. With a real deployment only the
//! session's own clock is moved.

use std::time::Duration;

use futures::future::try_join_all;
use passage_auth_client::open_enums::ApiErrorCode;
use passage_auth_client::CredentialsExt;
use passage_auth_client::Session;

use crate::target::{unverified_expiry, SharedClock};
use crate::{otp, Steps, Target};

/// How many tasks ask for a token at once in the last step.
pub const CONCURRENT_CALLERS: usize = 100;

/// What the example did.
#[derive(Debug)]
pub struct LongLivedSession {
    /// `exp` of the token from the sign-in.
    pub first_expiry: i64,
    /// `exp` of the token after the first automatic refresh.
    pub refreshed_expiry: i64,
    /// The status the emulator gave the expired token (`None` with a real deployment).
    pub expired_token_status: Option<u16>,
    /// `POST /tokens` requests seen by the emulator after the first refresh.
    pub refreshes_after_first: Option<usize>,
    /// `POST /tokens` requests caused by [`CONCURRENT_CALLERS`] tasks finding the token expired.
    pub refreshes_for_concurrent_callers: Option<usize>,
    /// Distinct tokens the concurrent callers received (1: they shared one refresh); `None` with
    /// a real deployment, where this step is skipped.
    pub distinct_tokens_for_concurrent_callers: Option<usize>,
}

/// Runs the example against `target`.
pub async fn run(target: &Target) -> anyhow::Result<LongLivedSession> {
    let steps = Steps::new("Passage: a long-lived session with automatic refresh");
    let client = target.client()?;
    let app_id = target.app_id().to_owned();
    let identifier = target.identifier("hopper@example.com").await?;
    let clock = target.clock();

    let auth = otp::sign_in(target, &client, &identifier, &steps)
        .await?
        .auth;
    anyhow::ensure!(
        auth.refresh_token.is_some(),
        "the app issues no refresh tokens; turn them on to use sessions"
    );

    steps
        .step("Start a session with the tokens (Session::sign_in; the default store is in memory)");
    let session = Session::builder(client.clone(), app_id.as_str())
        .clock(std::sync::Arc::new(clock.clone()))
        .refresh_skew(Duration::from_secs(30))
        .build();
    session.sign_in(&auth).await?;
    let first = session.auth_token().await?;
    let first_refresh_token = stored_refresh_token(&session).await?;
    let first_expiry = unverified_expiry(first.expose_secret()).unwrap_or(0);
    steps.detail(format!(
        "the auth token expires in {} s; the session refreshes it 30 s before that",
        first_expiry - clock.unix_now()
    ));
    let me = current_user_id(&session, &app_id).await?;
    steps.detail(format!("GET /currentuser through the session: {me}"));

    let jump = u64::try_from(first_expiry - clock.unix_now() + 1).unwrap_or(1);
    steps.step(format!("Let {jump} s pass: the auth token has expired"));
    clock.advance(jump);
    let expired_token_status = if target.is_emulated() {
        let answer = client
            .with_auth_token(passage_auth_client::SecretValue::new(first.expose_secret()))
            .get_currentuser()
            .app_id(app_id.as_str())
            .send()
            .await;
        let status = match answer {
            Ok(_) => anyhow::bail!("the emulator accepted an expired token"),
            Err(e) => {
                anyhow::ensure!(
                    e.code() == Some(&ApiErrorCode::InvalidAccessToken),
                    "unexpected answer to the expired token: {e}"
                );
                e.status().map(|s| s.as_u16())
            }
        };
        steps.detail(format!(
            "emulator clock moved; the old token alone now gets {} invalid_access_token",
            status.unwrap_or(0)
        ));
        status
    } else {
        steps.detail("(only the session's clock moved: the real server's clock cannot be changed)");
        None
    };

    steps.step("Call the API through the session: it refreshes first (POST /tokens), then calls");
    let before = target.request_count("POST", "/tokens");
    let me_again = current_user_id(&session, &app_id).await?;
    clock.resync();
    let refreshed = session.auth_token().await?;
    let refreshed_expiry = unverified_expiry(refreshed.expose_secret()).unwrap_or(0);
    // The refresh token rotates on every refresh (two auth tokens issued in the same second
    // for the same user can be identical, so they cannot tell).
    anyhow::ensure!(
        stored_refresh_token(&session).await? != first_refresh_token,
        "the session did not refresh the expired token"
    );
    let refreshes_after_first = target
        .request_count("POST", "/tokens")
        .zip(before)
        .map(|(after, before)| after - before);
    steps.detail(format!("GET /currentuser through the session: {me_again}"));
    if let Some(n) = refreshes_after_first {
        steps.detail(format!("POST /tokens requests: {n}"));
    }
    steps.detail(format!(
        "new auth token expires in {} s; the refresh token was rotated",
        refreshed_expiry - clock.unix_now()
    ));

    let (refreshes_for_concurrent_callers, distinct_tokens_for_concurrent_callers) = if target
        .is_emulated()
    {
        concurrent_callers(target, &session, &clock, refreshed_expiry, &steps).await?
    } else {
        // Only the session's clock can move here, and a token the real server issues now is
        // already "expired" on that clock: every caller would refresh again. Against the
        // emulator both clocks move together.
        steps.step(format!(
                "({CONCURRENT_CALLERS} concurrent callers sharing one refresh: shown against the emulator, \
                 whose clock moves with the session's)"
            ));
        (None, None)
    };

    steps.step("Sign out (Session::revoke: DELETE /tokens and clear the store)");
    session.revoke().await?;
    steps.detail(format!("signed in: {}", session.is_signed_in().await?));

    steps.done("the session refreshed its token by itself whenever it expired");
    Ok(LongLivedSession {
        first_expiry,
        refreshed_expiry,
        expired_token_status,
        refreshes_after_first,
        refreshes_for_concurrent_callers,
        distinct_tokens_for_concurrent_callers,
    })
}

/// Moves the clock past the token's expiry, then [`CONCURRENT_CALLERS`] tasks ask for a token at
/// once. Returns the `POST /tokens` requests this caused and the distinct tokens handed out.
async fn concurrent_callers(
    target: &Target,
    session: &Session,
    clock: &SharedClock,
    expiry: i64,
    steps: &Steps,
) -> anyhow::Result<(Option<usize>, Option<usize>)> {
    let jump = u64::try_from(expiry - clock.unix_now() + 1).unwrap_or(1);
    steps.step(format!(
        "Let {jump} s pass again, then {CONCURRENT_CALLERS} tasks ask for a token at the same moment"
    ));
    clock.advance(jump);
    let before = target.request_count("POST", "/tokens");
    let tokens = try_join_all((0..CONCURRENT_CALLERS).map(|_| {
        let session = session.clone();
        async move {
            tokio::spawn(async move { session.auth_token().await })
                .await
                .map_err(anyhow::Error::from)?
                .map_err(anyhow::Error::from)
        }
    }))
    .await?;
    let mut distinct: Vec<&str> = tokens.iter().map(|t| t.expose_secret()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let refreshes = target
        .request_count("POST", "/tokens")
        .zip(before)
        .map(|(after, before)| after - before);
    steps.detail(format!(
        "{CONCURRENT_CALLERS} callers received {} distinct token(s)",
        distinct.len()
    ));
    if let Some(n) = refreshes {
        steps.detail(format!(
            "POST /tokens requests: {n} (single-flight refresh)"
        ));
    }
    Ok((refreshes, Some(distinct.len())))
}

/// The refresh token the session's store holds (to see it rotate; never printed).
async fn stored_refresh_token(session: &Session) -> anyhow::Result<Option<String>> {
    use passage_auth_client::TokenStore as _;
    let tokens = session.store().load().await?;
    Ok(tokens
        .and_then(|t| t.refresh_token)
        .map(|t| t.expose_secret().to_owned()))
}

async fn current_user_id(session: &Session, app_id: &str) -> anyhow::Result<String> {
    let me = session
        .call(|client| async move { client.get_currentuser().app_id(app_id).send().await })
        .await?
        .into_inner();
    Ok(me.user.id)
}
