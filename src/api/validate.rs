//! The validation an RPC runs on its request before it touches the store or the
//! index, callable on its own: the fuzz targets drive it with arbitrary requests.
//! Each answers what the RPC would: `Ok`, or the INVALID_ARGUMENT it would send.

use super::parse::Violations;
use crate::domain::Result;
use crate::proto::v1 as pb;

/// What Check (and each item of BatchCheck and CheckStream) validates.
pub fn check(req: &pb::CheckRequest) -> Result<()> {
    super::authorization::validate_check(req)
}

/// What CreateRole validates.
pub fn create_role(req: &pb::CreateRoleRequest) -> Result<()> {
    super::roles::parse_create(req).map(drop)
}

/// What CreateAssignment validates.
pub fn create_assignment(req: &pb::CreateAssignmentRequest) -> Result<()> {
    let mut v = Violations::default();
    let new = super::assignments::new_assignment(&mut v, req);
    v.finish(new).map(drop)
}
