//! Bounded resources: how deep the tree goes, how large a page is in bytes,
//! how far lookups walk per page.

mod depth;
mod list_bytes;
mod lookup_pages;
mod page_bytes;
mod stream_rss;

use crate::support::*;
use rbacd::proto::v1 as pb;
use tonic::Code;
