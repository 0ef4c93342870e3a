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

/// The key cannot be sent as a header value.
#[derive(Debug, Clone, thiserror::Error)]
#[error("an API key must be visible ASCII")]
pub struct InvalidApiKey;

impl From<InvalidApiKey> for String {
    fn from(e: InvalidApiKey) -> Self {
        e.to_string()
    }
}

impl ApiKey {
    /// The key `secret`; an error when it cannot be a header value (not visible ASCII).
    pub fn new(secret: &str) -> Result<Self, InvalidApiKey> {
        let mut value: MetadataValue<Ascii> = secret.parse().map_err(|_| InvalidApiKey)?;
        // Kept out of `Debug` output and HPACK's dynamic table.
        value.set_sensitive(true);
        Ok(Self(value))
    }

    /// `channel`, sending this key on every call.
    pub fn on(self, channel: Channel) -> Authed {
        InterceptedService::new(channel, self)
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(..)")
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

    #[test]
    fn does_not_show_the_key() {
        let key = ApiKey::new("rbacd_key_0123").unwrap();
        assert!(!format!("{key:?}").contains("0123"));
    }
}
