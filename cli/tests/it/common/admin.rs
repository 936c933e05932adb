//! The real system for the admin commands' tests: local mode (the same routers and use
//! cases the Lambdas run) in this process, on a free loopback port.

use std::net::{Ipv4Addr, SocketAddr};

use authhooks::domain::signature::Secret;
use authhooks::local::{LocalConfig, LocalMode};

pub const TOKEN: &str = "admin-t0ken";
pub const INGEST_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Starts local mode; returns its base URL and the running system (drop it to leave it).
pub async fn admin() -> (String, LocalMode) {
    let running = LocalMode::start(LocalConfig {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        admin_token: TOKEN.to_owned(),
        ingest_secret: Secret::parse(INGEST_SECRET).unwrap(),
        aws_endpoint: None,
        workers: 2,
        priority_types: Default::default(),
        limits: authhooks::local::ServerLimits::default(),
    })
    .await
    .unwrap();
    (format!("http://{}", running.addr), running)
}

/// `authhooks --url URL --admin-token TOKEN ARGS…`, run to its end.
pub async fn cli(url: &str, args: &[&str]) -> std::process::Output {
    let args = [&["--url", url, "--admin-token", TOKEN][..], args].concat();
    super::run_async(super::authhooks(&args), None).await
}

/// The value printed after `field` in a details table.
pub fn field<'a>(printed: &'a str, field: &str) -> &'a str {
    printed
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix(field)
                .filter(|rest| rest.starts_with(' '))
        })
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {field} in {printed}"))
}
