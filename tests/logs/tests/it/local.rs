//! Local mode for the log tests (`authhooks_tests::local`), and what the tests look for.

pub use authhooks_tests::local::LocalServer as Local;

pub const SENTINEL: &str = "payload-sentinel-4f9c1e";
pub const EMAIL: &str = "private.person@example.com";
