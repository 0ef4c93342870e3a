//! Paging: a page size and an opaque token naming where the last page ended.

use uuid::Uuid;

use super::{Error, Result};

/// Page size when the request says 0.
pub const DEFAULT_PAGE_SIZE: u64 = 100;
/// Largest page size; larger requests are served this many.
pub const MAX_PAGE_SIZE: u64 = 1000;
const TOKEN_PREFIX: &str = "p1.";
const REVISION_TOKEN_PREFIX: &str = "r1.";
const TREE_TOKEN_PREFIX: &str = "t1.";

/// Largest revision there can be: revisions are stored as signed 64-bit integers.
pub const MAX_REVISION: u64 = i64::MAX as u64;

/// A revision from a request (`after_revision`, `min_revision`), or why not.
pub fn revision(value: u64) -> std::result::Result<u64, String> {
    if value > MAX_REVISION {
        Err(format!(
            "is {value}, above the largest revision there can be ({MAX_REVISION})"
        ))
    } else {
        Ok(value)
    }
}

/// Which page of a list to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    /// Items per page, 1..=MAX_PAGE_SIZE.
    pub size: u64,
    /// Return items strictly after this id; `None` for the first page.
    pub after: Option<Uuid>,
}

impl PageRequest {
    /// Parses `page_size` and `page_token` as they arrive in a request.
    pub fn parse(page_size: i32, page_token: &str) -> Result<Self> {
        let (size, after) = parse_page(page_size, page_token, decode_token)?;
        Ok(Self { size, after })
    }

    /// The first page of `size` items.
    pub fn first(size: u64) -> Self {
        Self { size, after: None }
    }
}

/// Where a tree-ordered list (LookupNodes) resumes: after the node `last`,
/// listed under `parent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeCursor {
    pub last: Uuid,
    pub parent: Option<Uuid>,
}

/// Which page of a tree-ordered list to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreePageRequest {
    /// Items per page, 1..=MAX_PAGE_SIZE.
    pub size: u64,
    /// `None` for the first page.
    pub after: Option<TreeCursor>,
}

impl TreePageRequest {
    /// Parses `page_size` and a token made by [`encode_tree_token`].
    pub fn parse(page_size: i32, page_token: &str) -> Result<Self> {
        let (size, after) = parse_page(page_size, page_token, decode_tree_token)?;
        Ok(Self { size, after })
    }
}

/// A page's size and cursor from a request's `page_size` and `page_token`,
/// with a violation for each that is out of range or not one of ours.
fn parse_page<T: Default>(
    page_size: i32,
    page_token: &str,
    decode: impl FnOnce(&str) -> std::result::Result<T, ()>,
) -> Result<(u64, T)> {
    let mut violations = Vec::new();
    let size = parse_size(page_size, &mut violations);
    let after = decode(page_token).unwrap_or_else(|()| {
        violations.push(foreign_token());
        T::default()
    });
    if violations.is_empty() {
        Ok((size, after))
    } else {
        Err(Error::InvalidArgument(violations))
    }
}

/// Makes the token that resumes a tree-ordered list after `cursor`.
pub fn encode_tree_token(cursor: TreeCursor) -> String {
    match cursor.parent {
        Some(parent) => format!(
            "{TREE_TOKEN_PREFIX}{}.{}",
            cursor.last.simple(),
            parent.simple()
        ),
        None => format!("{TREE_TOKEN_PREFIX}{}", cursor.last.simple()),
    }
}

fn decode_tree_token(token: &str) -> std::result::Result<Option<TreeCursor>, ()> {
    if token.is_empty() {
        return Ok(None);
    }
    let ids = token.strip_prefix(TREE_TOKEN_PREFIX).ok_or(())?;
    let simple = |id: &str| match id.len() {
        32 => Uuid::try_parse(id).map_err(|_| ()),
        _ => Err(()),
    };
    let cursor = match ids.split_once('.') {
        Some((last, parent)) => TreeCursor {
            last: simple(last)?,
            parent: Some(simple(parent)?),
        },
        None => TreeCursor {
            last: simple(ids)?,
            parent: None,
        },
    };
    Ok(Some(cursor))
}

/// Which page of a revision-ordered list (the change log) to return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevisionPageRequest {
    /// Items per page, 1..=MAX_PAGE_SIZE.
    pub size: u64,
    /// Return items with a revision above this; 0 for the first page.
    pub after: u64,
}

impl RevisionPageRequest {
    /// Parses `page_size` and a token made by [`encode_revision_token`].
    pub fn parse(page_size: i32, page_token: &str) -> Result<Self> {
        let (size, after) = parse_page(page_size, page_token, decode_revision_token)?;
        Ok(Self { size, after })
    }
}

fn parse_size(page_size: i32, violations: &mut Vec<super::FieldViolation>) -> u64 {
    match page_size {
        n if n < 0 => {
            violations.push(super::FieldViolation::new(
                "page_size",
                "must not be negative (0 means the default of 100)",
            ));
            DEFAULT_PAGE_SIZE
        }
        0 => DEFAULT_PAGE_SIZE,
        n => (n as u64).min(MAX_PAGE_SIZE),
    }
}

fn foreign_token() -> super::FieldViolation {
    super::FieldViolation::new(
        "page_token",
        "is not a token this service issued; pass `next_page_token` from the previous page, or nothing for the first page",
    )
}

/// Makes the token that resumes a revision-ordered list after revision `last`.
pub fn encode_revision_token(last: u64) -> String {
    format!("{REVISION_TOKEN_PREFIX}{last}")
}

fn decode_revision_token(token: &str) -> std::result::Result<u64, ()> {
    if token.is_empty() {
        return Ok(0);
    }
    let digits = token.strip_prefix(REVISION_TOKEN_PREFIX).ok_or(())?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    digits.parse().ok().filter(|&r| r <= MAX_REVISION).ok_or(())
}

/// Makes the token that resumes a list after `last`.
pub fn encode_token(last: Uuid) -> String {
    format!("{TOKEN_PREFIX}{}", last.simple())
}

fn decode_token(token: &str) -> std::result::Result<Option<Uuid>, ()> {
    if token.is_empty() {
        return Ok(None);
    }
    let id = token.strip_prefix(TOKEN_PREFIX).ok_or(())?;
    Uuid::try_parse(id).map(Some).map_err(|_| ())
}

/// Most encoded bytes of one page's items: a page stops before 4 MiB, the
/// largest message a default gRPC client receives, with room for the rest of
/// the response.
pub const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024 - 64 * 1024;
/// What a repeated field adds to each item's own bytes: its tag and length.
const ITEM_OVERHEAD: usize = 6;

/// Cuts `items` to the leading ones whose encoded sizes (`bytes_of`) fit in
/// `budget` bytes ([`MAX_PAGE_BYTES`] unless configured lower), always keeping
/// the first; true when some were cut, so the next page starts after the last one kept.
pub fn keep_within_bytes<T>(
    items: &mut Vec<T>,
    budget: usize,
    bytes_of: impl Fn(&T) -> usize,
) -> bool {
    let mut total = 0usize;
    let fitting = items
        .iter()
        .take_while(|item| {
            total = total.saturating_add(bytes_of(item) + ITEM_OVERHEAD);
            total <= budget
        })
        .count()
        .max(1);
    let cut = fitting < items.len();
    items.truncate(fitting);
    cut
}

/// One page of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Token for the next page; empty when this page is the last.
    pub next_page_token: String,
}

impl<T> Page<T> {
    /// Builds a page from up to `size + 1` items fetched in id order: the
    /// extra item only tells that another page follows.
    pub fn from_overfetch(items: Vec<T>, size: u64, id_of: impl Fn(&T) -> Uuid) -> Self {
        Self::from_overfetch_with(items, size, |last| encode_token(id_of(last)))
    }

    /// Like [`Page::from_overfetch`], for items fetched in revision order.
    pub fn from_overfetch_by_revision(
        items: Vec<T>,
        size: u64,
        revision_of: impl Fn(&T) -> u64,
    ) -> Self {
        Self::from_overfetch_with(items, size, |last| encode_revision_token(revision_of(last)))
    }

    fn from_overfetch_with(mut items: Vec<T>, size: u64, token_of: impl Fn(&T) -> String) -> Self {
        let more = items.len() as u64 > size;
        items.truncate(size as usize);
        let next_page_token = match items.last() {
            Some(last) if more => token_of(last),
            _ => String::new(),
        };
        Self {
            items,
            next_page_token,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_keeps_what_fits_in_its_bytes_and_at_least_one_item() {
        let mut items = vec![MAX_PAGE_BYTES / 3; 5];
        assert!(keep_within_bytes(&mut items, MAX_PAGE_BYTES, |&b| b));
        assert_eq!(
            items.len(),
            2,
            "a third more would pass the budget with overheads"
        );
        let mut huge = vec![MAX_PAGE_BYTES * 2, 1];
        assert!(keep_within_bytes(&mut huge, MAX_PAGE_BYTES, |&b| b));
        assert_eq!(huge.len(), 1);
        let mut small = vec![10; 1000];
        assert!(!keep_within_bytes(&mut small, MAX_PAGE_BYTES, |&b| b));
        assert_eq!(small.len(), 1000);
    }

    #[test]
    fn page_size_defaults_caps_and_refuses_negative() {
        assert_eq!(PageRequest::parse(0, "").unwrap().size, 100);
        assert_eq!(PageRequest::parse(5000, "").unwrap().size, 1000);
        assert_eq!(PageRequest::parse(7, "").unwrap().size, 7);
        assert!(PageRequest::parse(-1, "").is_err());
    }

    #[test]
    fn tokens_round_trip_and_foreign_tokens_are_refused() {
        let id = Uuid::now_v7();
        assert_eq!(
            PageRequest::parse(1, &encode_token(id)).unwrap().after,
            Some(id)
        );
        assert!(PageRequest::parse(1, "garbage").is_err());
        assert!(PageRequest::parse(1, "p1.zz").is_err());
    }

    #[test]
    fn tree_tokens_round_trip_and_foreign_tokens_are_refused() {
        let (last, parent) = (Uuid::now_v7(), Uuid::now_v7());
        for cursor in [
            TreeCursor {
                last,
                parent: Some(parent),
            },
            TreeCursor { last, parent: None },
        ] {
            let page = TreePageRequest::parse(5, &encode_tree_token(cursor)).unwrap();
            assert_eq!((page.size, page.after), (5, Some(cursor)));
        }
        assert_eq!(TreePageRequest::parse(0, "").unwrap().after, None);
        let hyphenated = format!("t1.{last}");
        for foreign in [
            "t1.",
            "t1..",
            "garbage",
            &hyphenated,
            &format!("t1.{}.", last.simple()),
            &format!("t1.{}.{}.{}", last.simple(), last.simple(), last.simple()),
            &encode_token(last),
        ] {
            assert!(TreePageRequest::parse(1, foreign).is_err(), "{foreign}");
        }
    }

    #[test]
    fn revision_tokens_round_trip_and_foreign_tokens_are_refused() {
        let page = RevisionPageRequest::parse(3, &encode_revision_token(42)).unwrap();
        assert_eq!((page.size, page.after), (3, 42));
        assert_eq!(RevisionPageRequest::parse(0, "").unwrap().after, 0);
        for foreign in [
            "42",
            "r1.",
            "r1.-1",
            "r1.+4",
            "r1.x",
            &encode_token(Uuid::now_v7()),
        ] {
            assert!(RevisionPageRequest::parse(1, foreign).is_err(), "{foreign}");
        }
        assert!(RevisionPageRequest::parse(-1, "").is_err());
    }

    #[test]
    fn revisions_above_the_signed_range_are_refused() {
        assert_eq!(revision(MAX_REVISION), Ok(MAX_REVISION));
        assert_eq!(revision(0), Ok(0));
        assert!(revision(MAX_REVISION + 1).is_err());
        assert!(revision(u64::MAX).is_err());
        let last = RevisionPageRequest::parse(1, &encode_revision_token(MAX_REVISION)).unwrap();
        assert_eq!(last.after, MAX_REVISION);
        for beyond in [
            encode_revision_token(MAX_REVISION + 1),
            encode_revision_token(u64::MAX),
            "r1.99999999999999999999999".to_owned(),
        ] {
            assert!(RevisionPageRequest::parse(1, &beyond).is_err(), "{beyond}");
        }
    }

    #[test]
    fn overfetch_sets_token_only_when_more_follow() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let page = Page::from_overfetch(ids.clone(), 2, |id| *id);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.next_page_token, encode_token(ids[1]));
        let last = Page::from_overfetch(ids[..2].to_vec(), 2, |id| *id);
        assert!(last.next_page_token.is_empty());
    }
}
