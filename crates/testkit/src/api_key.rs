//! The `x-api-key` header on every call of a client.

use tonic::{
    Request, Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::Channel,
};

/// Sends an API key as `x-api-key` on every call.
#[derive(Clone)]
pub struct ApiKey(MetadataValue<Ascii>);

/// A channel that authenticates every call with an API key.
pub type Authed = InterceptedService<Channel, ApiKey>;

impl ApiKey {
    /// The key `secret`; an error when it cannot be a header value (not visible ASCII).
    pub fn new(secret: &str) -> Result<Self, String> {
        secret
            .parse()
            .map(Self)
            .map_err(|_| "an API key must be visible ASCII".to_owned())
    }

    /// `channel`, sending this key on every call.
    pub fn on(self, channel: Channel) -> Authed {
        InterceptedService::new(channel, self)
    }
}

impl Interceptor for ApiKey {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request.metadata_mut().insert("x-api-key", self.0.clone());
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_the_key_as_x_api_key() {
        let mut key = ApiKey::new("rbacd_key_0123").unwrap();
        let request = key.call(Request::new(())).unwrap();
        assert_eq!(
            request.metadata().get("x-api-key").unwrap(),
            "rbacd_key_0123"
        );
    }

    #[test]
    fn refuses_a_key_that_cannot_be_a_header() {
        assert!(ApiKey::new("line\nbreak").is_err());
    }
}
