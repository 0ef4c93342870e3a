//! Compiles `proto/` with protox (pure Rust, no `protoc` needed) and writes the
//! descriptor set that gRPC reflection serves.

use std::{env, fs, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &[
    "rbacd/v1/references.proto",
    "rbacd/v1/role.proto",
    "rbacd/v1/identity.proto",
    "rbacd/v1/node.proto",
    "rbacd/v1/assignment.proto",
    "rbacd/v1/authorization.proto",
    "rbacd/v1/audit.proto",
    "rbacd/v1/signing.proto",
    "rbacd/v1/bulk.proto",
    "google/rpc/error_details.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("rbacd_descriptor.bin"),
        descriptors.encode_to_vec(),
    )?;
    tonic_prost_build::configure()
        .extern_path(".google.rpc", "::tonic_types::pb")
        // Undecodable requests are INVALID_ARGUMENT, not INTERNAL.
        .codec_path("crate::proto::codec::Codec")
        .compile_fds(descriptors)?;
    Ok(())
}
