//! Example `manage_users`: an app's back end on the Management API (with its API key) beside its
//! front end on the Auth API. The back end creates a user, the user signs in with a passcode, the
//! back end resolves the user's token to their account, lists users, hands out a magic link of its
//! own, revokes the user's refresh tokens, deactivates and finally deletes the account; after each
//! step the front end sees the effect.

use anyhow::Context as _;
use futures::TryStreamExt as _;
use passage_auth_client::open_enums::ApiErrorCode as AuthErrorCode;
use passage_auth_client::{
    types as auth_types, CredentialsExt as _, TokenVerifier, VerifierConfig,
};
use passage_management_client::open_enums::{MagicLinkChannel, UserStatus};
use passage_management_client::{types, SecretValue, UsersExt as _};

use crate::{otp, Steps, Target};

/// What the example did, for its tests.
#[derive(Debug)]
pub struct ManageUsers {
    /// The identifier of the user the back end created.
    pub identifier: String,
    /// The user's id, as `create_user` answered it.
    pub created_id: String,
    /// The user's status right after `create_user`.
    pub status_after_create: UserStatus,
    /// The user id the back end found for the user's auth token.
    pub token_user_id: String,
    /// The user's status when the back end looked them up by token.
    pub status_after_sign_in: UserStatus,
    /// How many active users the paged listing returned.
    pub active_users_listed: usize,
    /// True when the back end's own magic link signed the user in through the Auth API.
    pub magic_link_signed_in: bool,
    /// The magic link's secret and full URL (kept so that a test can prove neither was printed).
    pub magic_link: [SecretValue; 2],
    /// The Auth API's error code for a refresh after the back end revoked the refresh tokens.
    pub refresh_after_revoke: Option<String>,
    /// The Auth API's error code for `GET /currentuser` after the back end deactivated the user.
    pub currentuser_after_deactivate: Option<String>,
    /// True when the user could no longer be found after the back end deleted them.
    pub gone_after_delete: bool,
}

/// Runs the example against `target`.
pub async fn run(target: &Target) -> anyhow::Result<ManageUsers> {
    let steps = Steps::new("Passage: a back end on the Management API");
    let front_end = target.client()?;
    let back_end = target.management_client()?;
    let app_id = target.app_id();
    let identifier = target.identifier("katherine@example.com").await?;

    steps.step(format!(
        "Back end: create the user {identifier} (POST /users, bearer API key)"
    ));
    let created = back_end
        .create_user()
        .app_id(app_id)
        .body(types::CreateUserRequest::builder().email(Some(identifier.clone())))
        .send()
        .await
        .with_context(|| format!("creating {identifier} (is it taken already?)"))?
        .into_inner()
        .user;
    steps.detail(format!(
        "id = {}, status = {}",
        created.id,
        created.status.as_str()
    ));

    let signed_in = otp::sign_in(target, &front_end, &identifier, &steps).await?;
    let auth = signed_in.auth;

    steps.step("Back end: who is this token? (verified locally, then GET /users/{id})");
    // The target's clock: the emulator's can have been moved forward by another example.
    let verifier = TokenVerifier::new(front_end.clone(), app_id, VerifierConfig::default())
        .with_clock(std::sync::Arc::new(target.clock()));
    let token_user = back_end
        .user_for_token(&verifier, app_id, auth.auth_token.expose_secret())
        .await?;
    steps.detail(format!(
        "{} ({}), status = {}, logins = {}",
        token_user.user.id,
        token_user.user.email,
        token_user.user.status.as_str(),
        token_user.user.login_count
    ));

    steps.step("Back end: every active user, page after page (GET /users?status=active)");
    let active: Vec<_> = back_end
        .all_users(app_id)
        .filter(|request| request.status("active"))
        .stream()
        .try_collect()
        .await?;
    steps.detail(format!("{} active user(s)", active.len()));

    steps.step(
        "Back end: a magic link for its own e-mail (POST /magic-links, channel email, send: false)",
    );
    let link = back_end
        .create_magic_link()
        .app_id(app_id)
        .body(
            types::CreateMagicLinkRequest::builder()
                .user_id(Some(created.id.parse()?))
                .channel(Some(MagicLinkChannel::Email))
                .send(false),
        )
        .send()
        .await?
        .into_inner()
        .magic_link;
    steps.detail(format!(
        "link {} for {}, valid {} min; its URL and secret stay out of this output",
        link.id, link.identifier, link.ttl
    ));
    steps.step("Front end: the user opens the link (POST /magic-link/activate)");
    let from_link = front_end
        .activate_magic_link()
        .app_id(app_id)
        .body(auth_types::ActivateMagicLinkRequest::builder().magic_link(link.secret.clone()))
        .send()
        .await?
        .into_inner()
        .auth_result;
    let magic_link_verified = verifier
        .verify(from_link.auth_token.expose_secret())
        .await?;
    let magic_link_signed_in = magic_link_verified.user_id() == created.id;
    steps.detail(format!(
        "signed in again as {}",
        magic_link_verified.user_id()
    ));

    steps.step("Back end: sign the user out everywhere (DELETE /users/{id}/tokens)");
    back_end
        .revoke_user_refresh_tokens()
        .app_id(app_id)
        .user_id(created.id.as_str())
        .send()
        .await?;
    let refresh_after_revoke = match &auth.refresh_token {
        Some(refresh_token) => {
            let refreshed = front_end
                .refresh_auth_token()
                .app_id(app_id)
                .body(
                    auth_types::RefreshAuthTokenRequest::builder()
                        .refresh_token(refresh_token.clone()),
                )
                .send()
                .await;
            let code = refused_with(refreshed, "a refresh after the revocation")?;
            steps.detail(format!("the front end's refresh is refused: {code}"));
            Some(code)
        }
        None => None,
    };

    steps.step("Back end: deactivate the user (PATCH /users/{id}/deactivate)");
    back_end
        .deactivate_user()
        .app_id(app_id)
        .user_id(created.id.as_str())
        .send()
        .await?;
    let current = front_end
        .with_auth_token(from_link.auth_token)
        .get_currentuser()
        .app_id(app_id)
        .send()
        .await;
    let currentuser_after_deactivate =
        refused_with(current, "GET /currentuser after deactivation")?;
    steps.detail(format!(
        "the user's own token now gets: {currentuser_after_deactivate}"
    ));

    steps.step("Back end: delete the user (DELETE /users/{id})");
    back_end
        .delete_user()
        .app_id(app_id)
        .user_id(created.id.as_str())
        .send()
        .await?;
    let gone_after_delete = back_end
        .find_user_by_identifier(app_id, &identifier)
        .await?
        .is_none();
    steps.detail(if gone_after_delete {
        "no user has that identifier any more"
    } else {
        "the user is still listed"
    });

    steps.done(format!(
        "{identifier} created, signed in, managed and deleted"
    ));
    Ok(ManageUsers {
        identifier,
        created_id: created.id,
        status_after_create: created.status,
        token_user_id: token_user.user.id,
        status_after_sign_in: token_user.user.status,
        active_users_listed: active.len(),
        magic_link_signed_in,
        magic_link: [link.secret, link.url],
        refresh_after_revoke,
        currentuser_after_deactivate: Some(currentuser_after_deactivate),
        gone_after_delete,
    })
}

/// The Auth API error code of a call that must have been refused.
fn refused_with<T>(
    result: Result<T, passage_auth_client::Error>,
    what: &str,
) -> anyhow::Result<String> {
    match result {
        Ok(_) => anyhow::bail!("{what} succeeded; the back end's change had no effect"),
        Err(e) => Ok(e
            .code()
            .map(AuthErrorCode::as_str)
            .map(str::to_owned)
            .with_context(|| format!("{what} failed without an error code: {e}"))?),
    }
}
