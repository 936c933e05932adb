//! The HTTP sender: reqwest with rustls, no redirects, SSRF guard after DNS resolution.

pub mod guard;
pub mod sender;

pub use guard::{GuardedResolver, Refused};
pub use sender::{HttpError, HttpSender, SenderConfig};
