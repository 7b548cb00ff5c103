//! The tower layer.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::user::LayerSeen;
use super::{authenticate, AuthRejection};
use crate::TokenVerifier;

/// Whether a [`PassageAuthLayer`] lets requests without a token through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PassageAuthMode {
    /// Requests without a valid token are answered `401` (or `503`).
    Required,
    /// Requests without a token reach the service anonymously (no
    /// [`PassageUser`](super::PassageUser) in their extensions); requests with
    /// an invalid token are still answered `401`.
    Optional,
}

/// A tower [`Layer`] that verifies the Passage auth token of every request
/// with a [`TokenVerifier`] and puts the [`PassageUser`](super::PassageUser)
/// into its extensions. Cheap to clone (the verifier's key cache is shared).
///
/// ```no_run
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use passage_auth_client::server::{PassageAuthLayer, PassageUser};
/// use tower::{service_fn, ServiceBuilder};
///
/// # fn demo(verifier: passage_auth_client::TokenVerifier) {
/// let service = ServiceBuilder::new()
///     .layer(PassageAuthLayer::required(verifier))
///     .service(service_fn(|request: Request<String>| async move {
///         let user = request.extensions().get::<PassageUser>().expect("set by the layer");
///         Ok::<_, Infallible>(Response::new(format!("hello {}", user.user_id())))
///     }));
/// # let _ = service;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PassageAuthLayer {
    verifier: TokenVerifier,
    mode: PassageAuthMode,
}

impl PassageAuthLayer {
    /// A layer with the given mode.
    pub fn new(verifier: TokenVerifier, mode: PassageAuthMode) -> Self {
        Self { verifier, mode }
    }

    /// A layer that refuses requests without a valid token.
    pub fn required(verifier: TokenVerifier) -> Self {
        Self::new(verifier, PassageAuthMode::Required)
    }

    /// A layer that lets requests without a token through anonymously.
    pub fn optional(verifier: TokenVerifier) -> Self {
        Self::new(verifier, PassageAuthMode::Optional)
    }

    /// The layer's mode.
    pub fn mode(&self) -> PassageAuthMode {
        self.mode
    }
}

impl<S> Layer<S> for PassageAuthLayer {
    type Service = PassageAuth<S>;

    fn layer(&self, inner: S) -> PassageAuth<S> {
        PassageAuth {
            inner,
            verifier: self.verifier.clone(),
            mode: self.mode,
        }
    }
}

/// The service made by [`PassageAuthLayer`].
#[derive(Debug, Clone)]
pub struct PassageAuth<S> {
    inner: S,
    verifier: TokenVerifier,
    mode: PassageAuthMode,
}

/// The future of [`PassageAuth`]'s answer.
pub type ResponseFuture<R, E> = Pin<Box<dyn Future<Output = Result<R, E>> + Send + 'static>>;

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for PassageAuth<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // The clone is not ready; the instance that was polled ready serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        let mode = self.mode;
        Box::pin(async move {
            match authenticate(&verifier, request.headers()).await {
                Ok(Some(user)) => {
                    request.extensions_mut().insert(user);
                }
                Ok(None) if mode == PassageAuthMode::Optional => {}
                Ok(None) => return Ok(AuthRejection::MissingToken.into_response()),
                Err(rejection) => return Ok(rejection.into_response()),
            }
            request.extensions_mut().insert(LayerSeen);
            inner.call(request).await
        })
    }
}
