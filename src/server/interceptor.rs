//! The tonic interceptor: authenticates each call and puts its [`Caller`] in
//! the request's extensions for the handlers.

use tonic::{Request, Status};

use super::access_log::WriteCaller;
use crate::access::{API_KEY_HEADER, Authenticator};
use crate::domain::{Caller, Error};

/// An interceptor that refuses calls without a valid API key.
pub fn authenticating(
    authenticator: Authenticator,
) -> impl Fn(Request<()>) -> Result<Request<()>, Status> + Clone + Send + Sync + 'static {
    move |mut request: Request<()>| {
        let mut caller = caller(&authenticator, &request)?;
        // Put there by the user-action layer once it redeemed the call's user action.
        caller.signed_by = request
            .extensions()
            .get::<super::SignedBy>()
            .map(|signed| signed.0);
        if let Some(slot) = request.extensions().get::<WriteCaller>() {
            *slot.0.lock() = Some(caller);
        }
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

fn caller(authenticator: &Authenticator, request: &Request<()>) -> Result<Caller, Error> {
    let secret = match request.metadata().get(API_KEY_HEADER) {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            Error::Unauthenticated(format!("the `{API_KEY_HEADER}` metadata is not text"))
        })?),
    };
    authenticator.authenticate(secret)
}
