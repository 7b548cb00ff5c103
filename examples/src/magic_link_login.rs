//! Example `magic_link_login`: send a magic link and wait for it with
//! [`MagicLinkExt::wait_for_magic_link`] while, concurrently, the user opens the link.
//!
//! With the emulator the example plays the user: once the waiter has polled at least once, it
//! reads the link from the emulator's outbox and activates it, as the app's login page would.
//! With a real deployment the user opens the link from their e-mail (or pastes it here).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use passage_auth_client::open_enums::ApiErrorCode;
use passage_auth_client::CredentialsExt;
use passage_auth_client::{types, Client, MagicLinkExt, PollPolicy, SecretValue};
use tokio::sync::Notify;

use crate::steps::emit;
use crate::target::read_line_in_background;
use crate::{Steps, Target};

/// What the example did.
#[derive(Debug)]
pub struct MagicLinkLogin {
    /// The identifier the link was sent to.
    pub identifier: String,
    /// Status requests the waiter made that found the link not yet activated.
    pub pending_polls: u32,
    /// True when this process activated the link (always with the emulator).
    pub activated_here: bool,
    /// The user id of the waiter's session (`GET /currentuser`).
    pub user_id: String,
}

/// Runs the example against `target`.
pub async fn run(target: &Target) -> anyhow::Result<MagicLinkLogin> {
    let steps = Steps::new("Passage: sign in with a magic link and the waiter");
    let client = target.client()?;
    let app_id = target.app_id();
    let identifier = target.identifier("grace@example.com").await?;

    steps.step(format!(
        "Send a magic link to {identifier} (POST /login/magic-link)"
    ));
    let magic_link_id = send_link(&client, app_id, &identifier, &steps).await?;
    steps.detail(format!("link sent, magic_link.id = {magic_link_id}"));

    steps.step("Wait for the link to be activated (polling POST /magic-link/status) while the user opens it");
    let pending_polls = Arc::new(AtomicU32::new(0));
    let polled = Arc::new(Notify::new());
    let wait = {
        let pending_polls = Arc::clone(&pending_polls);
        let polled = Arc::clone(&polled);
        client
            .wait_for_magic_link(app_id, magic_link_id.as_str())
            .policy(
                PollPolicy::default()
                    .initial_interval(Duration::from_millis(200))
                    .max_interval(Duration::from_secs(2))
                    .max_wait(Duration::from_secs(300)),
            )
            .on_progress(move |p| {
                pending_polls.store(p.attempts, Ordering::SeqCst);
                emit(&format!(
                    "    waiter: attempt {} found the link not activated yet; next try in {} ms",
                    p.attempts,
                    p.next_delay.as_millis()
                ));
                polled.notify_one();
            })
    };
    let user = play_user(target, &client, &identifier, &magic_link_id, &polled);
    let (auth, activated_here) = if target.is_emulated() {
        // Both sides finish: the user activates, then the waiter sees it.
        tokio::try_join!(
            async { wait.await.context("waiting for the magic link") },
            user
        )?
    } else {
        // The user may open the link in a browser instead of pasting it: the waiter decides.
        let wait = std::future::IntoFuture::into_future(wait);
        tokio::pin!(wait, user);
        tokio::select! {
            auth = &mut wait => (auth.context("waiting for the magic link")?, false),
            activated = &mut user => {
                let activated = activated?;
                (wait.await.context("waiting for the magic link")?, activated)
            }
        }
    };
    steps.detail(format!(
        "waiter: link activated; got a new session (auth token {:?})",
        auth.auth_token
    ));

    steps.step("Call the API with the waiter's token (GET /currentuser)");
    let me = client
        .with_auth_token(auth.auth_token.clone())
        .get_currentuser()
        .app_id(app_id)
        .send()
        .await?
        .into_inner()
        .user;
    steps.detail(format!(
        "id = {}, email = {} (verified: {})",
        me.id, me.email, me.email_verified
    ));

    steps.done(format!("{identifier} signed in by magic link as {}", me.id));
    Ok(MagicLinkLogin {
        identifier,
        pending_polls: pending_polls.load(Ordering::SeqCst),
        activated_here,
        user_id: me.id,
    })
}

/// `POST /login/magic-link`, or `/register/magic-link` when the identifier has no account.
async fn send_link(
    client: &Client,
    app_id: &str,
    identifier: &str,
    steps: &Steps,
) -> anyhow::Result<String> {
    let login = client
        .login_magic_link()
        .app_id(app_id)
        .body(types::LoginMagicLinkRequest::builder().identifier(identifier))
        .send()
        .await;
    match login {
        Ok(response) => Ok(response.into_inner().magic_link.id),
        Err(e) if e.code() == Some(&ApiErrorCode::UserNotFound) => {
            steps.detail("no account yet (404 user_not_found), so register instead (POST /register/magic-link)");
            Ok(client
                .register_magic_link()
                .app_id(app_id)
                .body(types::RegisterMagicLinkRequest::builder().identifier(identifier))
                .send()
                .await?
                .into_inner()
                .magic_link
                .id)
        }
        Err(e) => Err(e.into()),
    }
}

/// The user's side. Returns whether this process activated the link.
async fn play_user(
    target: &Target,
    client: &Client,
    identifier: &str,
    magic_link_id: &str,
    polled: &Notify,
) -> anyhow::Result<bool> {
    let secret = match target.magic_link_secret(identifier, magic_link_id)? {
        Some(secret) => {
            // Open the link only after the waiter has seen it pending at least once, so the
            // example shows both sides of the race.
            polled.notified().await;
            emit("    user:   opens the e-mail (the emulator's outbox) and clicks the link");
            secret
        }
        None => {
            let answer = read_line_in_background(&format!(
                "    Open the link sent to {identifier} in a browser, or paste it here and press Enter:\n    "
            ));
            // If the link is opened in a browser the waiter finishes first and this is dropped.
            let line = answer.await.context("stdin closed")??;
            match link_secret(&line) {
                Some(secret) => secret,
                // Nothing usable pasted: leave the activation to the browser.
                None => return std::future::pending().await,
            }
        }
    };
    let activated = client
        .activate_magic_link()
        .app_id(target.app_id())
        .body(types::ActivateMagicLinkRequest::builder().magic_link(secret))
        .send()
        .await?;
    emit(&format!(
        "    user:   link activated (PATCH /magic-link/activate answered {})",
        activated.status().as_u16()
    ));
    Ok(true)
}

/// The `psg_magic_link` query parameter of a pasted link (or the bare secret).
fn link_secret(pasted: &str) -> Option<SecretValue> {
    let pasted = pasted.trim();
    if pasted.is_empty() {
        return None;
    }
    match reqwest::Url::parse(pasted) {
        Ok(url) => url
            .query_pairs()
            .find(|(k, _)| k == "psg_magic_link")
            .map(|(_, v)| SecretValue::new(v.into_owned())),
        Err(_) => Some(SecretValue::new(pasted)),
    }
}

#[cfg(test)]
mod tests {
    use super::link_secret;

    #[test]
    fn pasted_links_and_bare_secrets_give_the_secret() {
        let from_link =
            link_secret(" https://app.example/login?psg_magic_link=s3cr3t&x=1 ").expect("secret");
        assert_eq!(from_link.expose_secret(), "s3cr3t");
        assert_eq!(
            link_secret("s3cr3t").expect("secret").expose_secret(),
            "s3cr3t"
        );
        assert!(link_secret("https://app.example/login?other=1").is_none());
        assert!(link_secret("   ").is_none());
    }
}
