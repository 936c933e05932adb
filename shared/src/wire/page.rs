//! One page of a list answer, and the cursor of the next.

use serde::{Deserialize, Serialize};

/// `{"items": [...], "next_cursor": null | "…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct List<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

#[cfg(feature = "app")]
impl<T> List<T> {
    /// A store's page as the API lists it, each item in its wire form.
    pub fn of<U>(page: crate::ports::Page<U>, view: impl FnMut(U) -> T) -> Self {
        Self {
            items: page.items.into_iter().map(view).collect(),
            next_cursor: page.next_cursor,
        }
    }
}
