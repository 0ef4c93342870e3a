//! Compiles the repository's `proto/` with protox (pure Rust, no `protoc`):
//! messages and clients only.

const PROTOS: &[&str] = &[
    "rbacd/v1/references.proto",
    "rbacd/v1/role.proto",
    "rbacd/v1/identity.proto",
    "rbacd/v1/node.proto",
    "rbacd/v1/assignment.proto",
    "rbacd/v1/authorization.proto",
    "rbacd/v1/audit.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new("../../proto");
    println!("cargo:rerun-if-changed={}", root.display());
    let descriptors = protox::compile(PROTOS, [root])?;
    tonic_prost_build::configure()
        .build_server(false)
        .extern_path(".google.rpc", "::tonic_types::pb")
        .compile_fds(descriptors)?;
    Ok(())
}
