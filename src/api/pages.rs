//! Every List and Lookup page within its byte bound: the page stops before
//! `State::page_bytes` encoded and its token continues after the last item kept.

use prost::Message;

use crate::domain::paging;

/// Renders `listed` (one page as the store or engine gave it, whose token is
/// `next_page_token`), cut to `budget` bytes: when cut, the token continues
/// after the last item kept (`token_after`).
pub fn bounded<T, R: Message>(
    budget: usize,
    listed: &[T],
    next_page_token: String,
    render: impl Fn(&T) -> R,
    token_after: impl Fn(&T) -> String,
) -> (Vec<R>, String) {
    let mut rendered: Vec<R> = listed.iter().map(render).collect();
    let cut = paging::keep_within_bytes(&mut rendered, budget, R::encoded_len);
    let token = match listed.get(rendered.len().wrapping_sub(1)) {
        Some(last) if cut => token_after(last),
        _ => next_page_token,
    };
    (rendered, token)
}
