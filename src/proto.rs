//! Code generated from `proto/` by build.rs.

pub mod codec;
pub mod json;

/// The `rbacd.v1` package.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("rbacd.v1");
}

/// Descriptors of every file in `proto/`, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/rbacd_descriptor.bin"));
