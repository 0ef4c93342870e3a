//! The user-action check, as a tower layer around the services whose
//! mutations can be signed (never AuthorizationService: checks pay nothing).
//!
//! For a call that takes a user action (see [`Signing::of`]), the layer reads
//! `x-rbacd-user-action`; when present it buffers the request body (bounded),
//! hashes the one gRPC message in it, and redeems the user action for this
//! identity, environment, method and body, marking the request with the
//! [`SignedBy`] credential; when absent it refuses a mutation in an environment
//! that requires signed actions. Calls it cannot authenticate pass on, to be
//! refused by the authenticating interceptor with the usual message.

use std::{
    sync::Arc,
    task::{Context, Poll},
};

use futures::future::BoxFuture;
use http_body_util::{BodyExt, Limited};
use sha2::{Digest, Sha256};
use tonic::{Status, body::Body, server::NamedService};

use crate::domain::{
    CredentialId, EnvironmentId, Error, IdentityId,
    signing::{Refusal, Signing, USER_ACTION_HEADER},
};
use crate::store::Store;

/// Largest request body buffered to hash it: the largest message tonic decodes
/// by default, with its 5-byte frame prefix.
const MAX_SIGNED_BODY: usize = 4 * 1024 * 1024 + 5;

/// In a request's extensions when a valid user action came with it: the
/// credential that signed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedBy(pub CredentialId);

/// Who a call's metadata authenticates as, if anyone.
pub type Authenticate =
    Arc<dyn Fn(&http::HeaderMap) -> Option<(EnvironmentId, IdentityId)> + Send + Sync>;

/// Wraps a service with the user-action check.
#[derive(Clone)]
pub struct SignedActionsLayer {
    store: Arc<Store>,
    authenticate: Authenticate,
}

impl SignedActionsLayer {
    pub fn new(store: Arc<Store>, authenticate: Authenticate) -> Self {
        Self {
            store,
            authenticate,
        }
    }
}

impl<S> tower::Layer<S> for SignedActionsLayer {
    type Service = SignedActions<S>;

    fn layer(&self, inner: S) -> SignedActions<S> {
        SignedActions {
            inner,
            layer: self.clone(),
        }
    }
}

/// A service behind the user-action check.
#[derive(Clone)]
pub struct SignedActions<S> {
    inner: S,
    layer: SignedActionsLayer,
}

impl<S: NamedService> NamedService for SignedActions<S> {
    const NAME: &'static str = S::NAME;
}

/// SHA-256 of the single gRPC message in `body` (the payload after the
/// 5-byte prefix), or `None` when the body is not exactly one message.
pub fn message_sha256(body: &[u8]) -> Option<[u8; 32]> {
    let prefix = body.get(..5)?;
    let len = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize;
    let payload = body.get(5..)?;
    (payload.len() == len).then(|| Sha256::digest(payload).into())
}

fn refuse(error: Error) -> http::Response<Body> {
    Status::from(error).into_http()
}

impl<S, B> tower::Service<http::Request<Body>> for SignedActions<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let rule = Signing::of(request.uri().path());
        let caller = match rule {
            Signing::Never => None,
            _ => (self.layer.authenticate)(request.headers()),
        };
        let Some((env, identity)) = caller else {
            let called = self.inner.call(request);
            return Box::pin(async move { Ok(called.await?.map(Body::new)) });
        };
        // The clone that was polled ready handles this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let store = Arc::clone(&self.layer.store);
        Box::pin(async move {
            match admit(&store, rule, env, identity, request).await {
                Ok(request) => Ok(inner.call(request).await?.map(Body::new)),
                Err(error) => Ok(refuse(error)),
            }
        })
    }
}

/// The request, marked with its signer, if it may go on; why not otherwise.
async fn admit(
    store: &Store,
    rule: Signing,
    env: EnvironmentId,
    identity: IdentityId,
    request: http::Request<Body>,
) -> Result<http::Request<Body>, Error> {
    let token = match request.headers().get(USER_ACTION_HEADER) {
        None => {
            if rule == Signing::WhenRequired && store.requires_signed_actions(env).await? {
                return Err(Refusal::Missing.into());
            }
            return Ok(request);
        }
        Some(value) => value
            .to_str()
            .map_err(|_| Error::Unauthenticated(format!("`{USER_ACTION_HEADER}` is not text")))?
            .to_owned(),
    };
    let (mut parts, body) = request.into_parts();
    let bytes = Limited::new(body, MAX_SIGNED_BODY)
        .collect()
        .await
        .map_err(|_| {
            Error::Unauthenticated(format!(
                "mismatched user action: the request could not be read whole (at most {MAX_SIGNED_BODY} bytes are signed)"
            ))
        })?
        .to_bytes();
    let digest = message_sha256(&bytes).ok_or_else(|| {
        Error::Unauthenticated(
            "mismatched user action: a user action signs a call of exactly one request message"
                .into(),
        )
    })?;
    let credential = store
        .redeem_user_action(env, identity, &token, parts.uri.path(), &digest)
        .await?;
    parts.extensions.insert(SignedBy(credential));
    Ok(http::Request::from_parts(
        parts,
        Body::new(http_body_util::Full::new(bytes)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut body = vec![0];
        body.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        body.extend_from_slice(payload);
        body
    }

    #[test]
    fn the_hash_is_of_the_message_bytes_without_the_frame_prefix() {
        let payload = b"\x0a\x05Admin";
        let expected: [u8; 32] = Sha256::digest(payload).into();
        assert_eq!(message_sha256(&framed(payload)), Some(expected));
        assert_eq!(
            message_sha256(&framed(b"")),
            Some(Sha256::digest(b"").into())
        );
    }

    #[test]
    fn anything_but_exactly_one_message_has_no_hash() {
        let one = framed(b"abc");
        let mut two = one.clone();
        two.extend_from_slice(&framed(b"def"));
        assert_eq!(message_sha256(&two), None);
        assert_eq!(message_sha256(&one[..one.len() - 1]), None);
        assert_eq!(message_sha256(&[0, 0, 0]), None);
        assert_eq!(message_sha256(&[]), None);
    }
}
