//! Cursor pagination. A store returns its own position token; the API wraps it so clients only
//! ever see an opaque string.

/// What a caller asks of one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    /// The store's position token from the previous page, if any.
    pub after: Option<String>,
}

/// One page of results and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// A page from `limit + 1` fetched items: the extra one only tells that more follow, and
    /// the last kept item's position is where the next page starts.
    pub fn from_lookahead(
        mut items: Vec<T>,
        limit: usize,
        position: impl Fn(&T) -> String,
    ) -> Self {
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(position)
        } else {
            None
        };
        Self { items, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}
