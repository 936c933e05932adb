//! The HTTP sender: reqwest with rustls, no redirects, SSRF guard after DNS resolution.
