//! BulkService and `rbacd export|import|apply`: an environment out and back in.

mod cli;
mod grpc;
mod world;
