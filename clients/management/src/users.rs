//! [`UsersExt`]: what a back end does with users beyond single calls: walk
//! every user across pages ([`UsersExt::all_users`]), find the user an
//! identifier names ([`UsersExt::find_user_by_identifier`]), and learn who a
#![cfg_attr(
    feature = "verify",
    doc = " Passage auth token belongs to ([`UsersExt::user_for_token`])."
)]
#![cfg_attr(
    not(feature = "verify"),
    doc = " Passage auth token belongs to (`UsersExt::user_for_token`)."
)]

use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream::{self, Stream, StreamExt, TryStreamExt};
use passage_management_api::builder::ListPaginatedUsers;

use crate::types::{ListPaginatedUsersItem, UserInfo};
use crate::{Client, Error};

/// A change to every page's request (filters, order); see [`UserPages::filter`].
type Filter = Arc<dyn for<'c> Fn(ListPaginatedUsers<'c>) -> ListPaginatedUsers<'c> + Send + Sync>;

/// Every user of an app (or those a filter keeps), page after page: made by
/// [`UsersExt::all_users`], turned into a stream by [`UserPages::stream`].
///
/// The first page's answer anchors the walk (`created_before`): users created
/// while it runs are left out, so no user is seen twice or skipped because
/// pages shifted. The stream ends after the last page (when the users seen
/// reach the total the server reports, or a page comes back empty) and stops
/// at the first error, which it yields.
#[must_use = "a UserPages does nothing until `stream()` is polled"]
pub struct UserPages<'a> {
    client: &'a Client,
    app_id: String,
    page_size: Option<NonZeroU32>,
    filter: Option<Filter>,
}

impl std::fmt::Debug for UserPages<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPages")
            .field("app_id", &self.app_id)
            .field("page_size", &self.page_size)
            .field("filtered", &self.filter.is_some())
            .finish()
    }
}

impl<'a> UserPages<'a> {
    /// Users per request (the server's default when not set; at most 500).
    pub fn page_size(mut self, size: NonZeroU32) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Applies `filter` to every page's request: filters (`status`,
    /// `identifier`, `created_at`, ...) and `order_by`. It must not set
    /// `page`, `limit` or `created_before`, which the walk sets.
    ///
    /// ```no_run
    /// # async fn demo(client: passage_management_client::Client) -> Result<(), passage_management_client::Error> {
    /// use futures_util::TryStreamExt;
    /// use passage_management_client::UsersExt;
    /// let inactive: Vec<_> = client
    ///     .all_users("my-app-id")
    ///     .filter(|request| request.status("inactive"))
    ///     .stream()
    ///     .try_collect()
    ///     .await?;
    /// # let _ = inactive; Ok(()) }
    /// ```
    pub fn filter(
        mut self,
        filter: impl for<'c> Fn(ListPaginatedUsers<'c>) -> ListPaginatedUsers<'c>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        self.filter = Some(Arc::new(filter));
        self
    }

    /// The users, one item each, across every page.
    pub fn stream(self) -> impl Stream<Item = Result<ListPaginatedUsersItem, Error>> + Send + 'a {
        let Self {
            client,
            app_id,
            page_size,
            filter,
        } = self;
        let start = Cursor {
            page: NonZeroU32::MIN,
            anchor: None,
            seen: 0,
            done: false,
        };
        stream::try_unfold(start, move |cursor| {
            let app_id = app_id.clone();
            let filter = filter.clone();
            async move {
                if cursor.done {
                    return Ok::<_, Error>(None);
                }
                let mut request = client
                    .list_paginated_users()
                    .app_id(app_id)
                    .page(cursor.page);
                if let Some(size) = page_size {
                    request = request.limit(size);
                }
                if let Some(anchor) = cursor.anchor {
                    request = request.created_before(anchor);
                }
                if let Some(filter) = &filter {
                    request = filter(request);
                }
                let page = request.send().await?.into_inner();
                let seen = cursor
                    .seen
                    .saturating_add(i64::try_from(page.users.len()).unwrap_or(i64::MAX));
                let next = Cursor {
                    page: cursor.page.saturating_add(1),
                    anchor: Some(page.created_before),
                    seen,
                    done: page.users.is_empty() || seen >= page.total_users,
                };
                Ok(Some((page.users, next)))
            }
        })
        .map_ok(|users| stream::iter(users.into_iter().map(Ok::<_, Error>)))
        .try_flatten()
        .boxed()
    }
}

/// Where a walk over the pages is.
struct Cursor {
    page: NonZeroU32,
    anchor: Option<i64>,
    seen: i64,
    done: bool,
}

/// A boxed, sendable future of this module's calls.
type Call<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Users beyond single calls; implemented for [`Client`].
pub trait UsersExt {
    /// Every user of `app_id`, page after page (see [`UserPages`]).
    ///
    /// ```no_run
    /// # async fn demo(client: passage_management_client::Client) -> Result<(), passage_management_client::Error> {
    /// use futures_util::TryStreamExt;
    /// use passage_management_client::UsersExt;
    /// let mut users = client.all_users("my-app-id").stream();
    /// while let Some(user) = users.try_next().await? {
    ///     println!("{} {}", user.id, user.email);
    /// }
    /// # Ok(()) }
    /// ```
    fn all_users(&self, app_id: impl Into<String>) -> UserPages<'_>;

    /// The user whose e-mail address, phone number or Flex external id is
    /// `identifier`, with their devices and events; `None` when there is
    /// none. The value is sent as given (the server stores e-mail addresses in
    /// lower case and compares them so); when several users match (an
    /// external id equal to another user's e-mail address, say), the one
    /// whose e-mail, phone or external id equals `identifier` exactly wins.
    fn find_user_by_identifier<'a>(
        &'a self,
        app_id: &'a str,
        identifier: &'a str,
    ) -> Call<'a, Result<Option<UserInfo>, Error>>;

    /// Who a Passage auth token belongs to: the token verified with
    /// `verifier` (signature, issuer, audience, expiry), then its user
    /// fetched. A token that does not verify never causes a request.
    #[cfg(feature = "verify")]
    #[cfg_attr(docsrs, doc(cfg(feature = "verify")))]
    fn user_for_token<'a>(
        &'a self,
        verifier: &'a passage_auth_client::TokenVerifier,
        app_id: &'a str,
        token: &'a str,
    ) -> Call<'a, Result<TokenUser, TokenUserError>>;
}

impl UsersExt for Client {
    fn all_users(&self, app_id: impl Into<String>) -> UserPages<'_> {
        UserPages {
            client: self,
            app_id: app_id.into(),
            page_size: None,
            filter: None,
        }
    }

    fn find_user_by_identifier<'a>(
        &'a self,
        app_id: &'a str,
        identifier: &'a str,
    ) -> Call<'a, Result<Option<UserInfo>, Error>> {
        Box::pin(async move {
            // Two, so that an ambiguous identifier can pick the exact match.
            let page = self
                .list_paginated_users()
                .app_id(app_id)
                .identifier(identifier)
                .limit(NonZeroU32::new(2).unwrap_or(NonZeroU32::MIN))
                .send()
                .await?
                .into_inner();
            let exact = |user: &&ListPaginatedUsersItem| {
                user.email.eq_ignore_ascii_case(identifier)
                    || user.phone == identifier
                    || user.external_id == identifier
            };
            let Some(found) = page.users.iter().find(exact).or_else(|| page.users.first()) else {
                return Ok(None);
            };
            let user = self
                .get_user()
                .app_id(app_id)
                .user_id(found.id.as_str())
                .send()
                .await?
                .into_inner()
                .user;
            Ok(Some(user))
        })
    }

    #[cfg(feature = "verify")]
    fn user_for_token<'a>(
        &'a self,
        verifier: &'a passage_auth_client::TokenVerifier,
        app_id: &'a str,
        token: &'a str,
    ) -> Call<'a, Result<TokenUser, TokenUserError>> {
        Box::pin(async move {
            let claims = verifier.verify(token).await?;
            let user = self
                .get_user()
                .app_id(app_id)
                .user_id(claims.user_id())
                .send()
                .await?
                .into_inner()
                .user;
            Ok(TokenUser { claims, user })
        })
    }
}

/// A verified token and the user it names ([`UsersExt::user_for_token`]).
#[cfg(feature = "verify")]
#[cfg_attr(docsrs, doc(cfg(feature = "verify")))]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenUser {
    /// The token's verified claims.
    pub claims: passage_auth_client::Claims,
    /// The user, as the Management API has them now.
    pub user: UserInfo,
}

/// Why [`UsersExt::user_for_token`] failed.
#[cfg(feature = "verify")]
#[cfg_attr(docsrs, doc(cfg(feature = "verify")))]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenUserError {
    /// The token did not verify (no request was made for it).
    #[error("the token does not verify: {0}")]
    Token(#[from] passage_auth_client::VerifyError),
    /// The user could not be fetched (404 `user_not_found` when the user
    /// was deleted since the token was issued).
    #[error("the token's user could not be fetched: {0}")]
    Api(#[from] Error),
}
