//! The HTTP sender: reqwest with rustls, no redirects, SSRF guard after DNS resolution.

pub mod guard;
pub mod lazy;
pub mod sender;

pub use guard::{GuardedResolver, Refused};
pub use lazy::LazyHttpSender;
pub use sender::{HttpError, HttpSender, SenderConfig};
