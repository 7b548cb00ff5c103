//! The traits progenitor's output calls: [`ClientInfo`] (what a generated
//! client tells about itself) and [`ClientHooks`] (run around every request),
//! and the [`OperationInfo`] each hook receives. A generated crate implements
//! `ClientHooks` by handing each request to [`crate::pipeline`].

use crate::call_error::CallError;

/// What every generated client tells about itself.
pub trait ClientInfo<Inner> {
    /// The `info.version` of the spec the client was generated from.
    fn api_version() -> &'static str;

    /// The URL every path is appended to.
    fn baseurl(&self) -> &str;

    /// The HTTP client requests go through.
    fn client(&self) -> &reqwest::Client;

    /// The client's own state (its credentials and retry policy).
    fn inner(&self) -> &Inner;
}

/// The operation a hook is called for.
#[derive(Debug, Clone, Copy)]
pub struct OperationInfo {
    /// The spec's `operationId`, in snake case.
    pub operation_id: &'static str,
}

/// The hooks every generated call runs: [`ClientHooks::pre`] once the request
/// is built, [`ClientHooks::exec`] to send it, [`ClientHooks::post`] with the
/// outcome. The defaults do nothing but send.
#[allow(async_fn_in_trait)]
pub trait ClientHooks<Inner = ()>
where
    Self: ClientInfo<Inner>,
{
    /// Runs before the request is sent (and may change it).
    async fn pre<E>(
        &self,
        _request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), CallError<E>> {
        Ok(())
    }

    /// Runs once the request is answered or failed.
    async fn post<E>(
        &self,
        _result: &reqwest::Result<reqwest::Response>,
        _info: &OperationInfo,
    ) -> Result<(), CallError<E>> {
        Ok(())
    }

    /// Sends the request.
    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        self.client().execute(request).await
    }
}
