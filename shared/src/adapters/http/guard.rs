//! The SSRF guard's network side: a DNS resolver that hands the HTTP client only the
//! addresses a deployment may call, and the pre-flight check of IP-literal hosts (which the
//! client connects to without asking any resolver). What is allowed is decided by
//! `domain::destination`; this module only applies it.
//!
//! Every connection uses the filtered addresses, so a name that re-resolves to a private
//! address between a check and the connect (DNS rebinding) cannot slip through.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use crate::domain::destination::{classify_ip, is_allowed, AddressClass};

/// A destination refused by the guard. The sender finds it in a request error's source
/// chain and reports the attempt as forbidden rather than as a connection failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The URL's host is an address of a refused class.
    #[error("{ip} is {}", .class.describe())]
    Literal { ip: IpAddr, class: AddressClass },
    /// Every address the name resolved to is of a refused class.
    #[error("{host} resolves only to {}", Classes(.classes))]
    Resolved {
        host: String,
        classes: Vec<AddressClass>,
    },
}

/// "a loopback address or a private address".
struct Classes<'a>(&'a [AddressClass]);

impl fmt::Display for Classes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, class) in self.0.iter().enumerate() {
            if n > 0 {
                f.write_str(" or ")?;
            }
            f.write_str(class.describe())?;
        }
        Ok(())
    }
}

/// Refuses a URL whose host is an IP literal of a refused class; names pass, the resolver
/// judges them.
pub fn check_literal(url: &Url, allow_private: bool) -> Result<(), Refused> {
    let ip = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        // The URL parser already turns IPv4 spellings of special schemes into `Ipv4`; this
        // catches any other host the HTTP connector would itself read as an address.
        Some(Host::Domain(name)) => match name.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => return Ok(()),
        },
        None => return Ok(()),
    };
    let class = classify_ip(ip);
    if is_allowed(class, allow_private) {
        Ok(())
    } else {
        Err(Refused::Literal { ip, class })
    }
}

/// Keeps the allowed addresses of those `host` resolved to; refuses when none is left.
/// An empty input is not a refusal (the lookup itself found nothing) and stays empty.
pub fn filter_resolved(
    host: &str,
    addrs: impl IntoIterator<Item = SocketAddr>,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, Refused> {
    let mut allowed = Vec::new();
    let mut refused: Vec<AddressClass> = Vec::new();
    for addr in addrs {
        let class = classify_ip(addr.ip());
        if is_allowed(class, allow_private) {
            allowed.push(addr);
        } else if !refused.contains(&class) {
            refused.push(class);
        }
    }
    if allowed.is_empty() && !refused.is_empty() {
        return Err(Refused::Resolved {
            host: host.to_owned(),
            classes: refused,
        });
    }
    Ok(allowed)
}

/// The system resolver (`getaddrinfo` through tokio), filtered by the guard.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    allow_private: bool,
}

impl GuardedResolver {
    pub fn new(allow_private: bool) -> Self {
        Self { allow_private }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str();
            // Port 0: the connector puts the URL's port (or the scheme's) in its place.
            let found = tokio::net::lookup_host((host, 0)).await?;
            let allowed = filter_resolved(host, found, allow_private)?;
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn sock(s: &str) -> SocketAddr {
        SocketAddr::new(s.parse().unwrap(), 0)
    }

    fn literal(url: &str, allow_private: bool) -> Result<(), Refused> {
        check_literal(&Url::parse(url).unwrap(), allow_private)
    }

    #[test]
    fn refused_addresses_are_dropped_and_allowed_ones_kept_in_order() {
        let got = filter_resolved(
            "mixed.test",
            [
                sock("10.0.0.1"),
                sock("93.184.216.34"),
                sock("::1"),
                sock("2606:4700::1"),
            ],
            false,
        );
        assert_eq!(got, Ok(vec![sock("93.184.216.34"), sock("2606:4700::1")]));
    }

    #[test]
    fn a_name_with_only_refused_addresses_is_refused_with_their_classes() {
        let err = filter_resolved(
            "localhost",
            [sock("127.0.0.1"), sock("::1"), sock("10.1.2.3")],
            false,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "localhost resolves only to a loopback address or a private address"
        );
    }

    #[test]
    fn local_mode_allows_private_but_never_metadata() {
        let got = filter_resolved("x.test", [sock("127.0.0.1"), sock("169.254.169.254")], true);
        assert_eq!(got, Ok(vec![sock("127.0.0.1")]));
        let err = filter_resolved("imds.test", [sock("169.254.169.254")], true).unwrap_err();
        assert!(
            matches!(err, Refused::Resolved { ref classes, .. } if classes == &[AddressClass::Metadata])
        );
    }

    #[test]
    fn nothing_resolved_is_not_a_refusal() {
        assert_eq!(filter_resolved("none.test", [], false), Ok(vec![]));
    }

    #[test]
    fn ip_literals_are_judged_before_connecting() {
        assert!(literal("http://127.0.0.1:8080/hook", true).is_ok());
        assert!(literal("https://93.184.216.34/", false).is_ok());
        assert!(literal("https://hooks.example.com/", false).is_ok());
        let err = literal("http://127.0.0.1:8080/hook", false).unwrap_err();
        assert_eq!(err.to_string(), "127.0.0.1 is a loopback address");
        // Mapped IPv6 and decimal IPv4 spellings lead to the same place.
        assert!(literal("http://[::ffff:127.0.0.1]/", false).is_err());
        assert!(literal("http://2130706433/", false).is_err());
        assert!(literal("http://[::1]/", false).is_err());
        let err = literal("http://169.254.169.254/latest/meta-data", true).unwrap_err();
        assert_eq!(
            err,
            Refused::Literal {
                ip: "169.254.169.254".parse().unwrap(),
                class: AddressClass::Metadata
            }
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_localhost_unless_private_is_allowed() {
        let name = Name::from_str("localhost").unwrap();
        let err = GuardedResolver::new(false)
            .resolve(name)
            .await
            .err()
            .unwrap();
        assert!(err.downcast_ref::<Refused>().is_some(), "{err}");

        let name = Name::from_str("localhost").unwrap();
        let addrs: Vec<SocketAddr> = GuardedResolver::new(true)
            .resolve(name)
            .await
            .unwrap()
            .collect();
        assert!(!addrs.is_empty());
        assert!(addrs.iter().all(|a| a.ip().is_loopback()));
    }
}
