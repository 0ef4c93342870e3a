//! A check from Rust over gRPC, on TCP or a Unix socket (sidecar).
//!
//! Here it uses the client rbacd's own crate generates; elsewhere, generate it
//! from `proto/` with `tonic-prost-build` (see docs/clients.md).
//!
//!     RBACD_API_KEY=... cargo run --example check -- http://127.0.0.1:50051 jane@example.com Docs:Read docs:1
//!     RBACD_API_KEY=... cargo run --example check -- unix:/run/rbacd/rbacd.sock jane@example.com Docs:Read docs:1

use std::process::ExitCode;

use rbacd::proto::v1::{
    CheckRequest, IdentityRef, NodeRef, authorization_service_client::AuthorizationServiceClient,
    identity_ref, node_ref,
};
use tonic::transport::{Channel, Endpoint, Uri};

async fn channel(target: &str) -> Result<Channel, tonic::transport::Error> {
    let Some(path) = target.strip_prefix("unix:") else {
        return Endpoint::from_shared(target.to_owned())?.connect().await;
    };
    let path = path.to_owned();
    // The URI only names the :authority, which must be a host name, not the socket path.
    Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let path = path.clone();
            async move {
                let stream = tokio::net::UnixStream::connect(path).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(stream))
            }
        }))
        .await
}

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, email, permission, node] = args.as_slice() else {
        return Err("usage: check TARGET EMAIL PERMISSION NODE_KEY".into());
    };
    let key = std::env::var("RBACD_API_KEY")?;
    let mut client = AuthorizationServiceClient::new(channel(target).await?);
    let mut request = tonic::Request::new(CheckRequest {
        identity: Some(IdentityRef {
            r#ref: Some(identity_ref::Ref::Email(email.clone())),
        }),
        permission: permission.clone(),
        node: Some(NodeRef {
            r#ref: Some(node_ref::Ref::Key(node.clone())),
        }),
        ..Default::default()
    });
    request.metadata_mut().insert("x-api-key", key.parse()?);
    let answer = client.check(request).await?.into_inner();
    println!(
        "allowed={} revision={} reason={}",
        answer.allowed, answer.revision, answer.reason
    );
    Ok(if answer.allowed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
