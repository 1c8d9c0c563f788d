//! Keeps deliveries off private networks (SSRF): an endpoint's host must resolve to public
//! addresses, checked when connecting (the resolver below is the client's, so a name cannot
//! resolve to a public address when checked and a private one when used), and an address written
//! in the URL is checked before sending. Redirects are never followed. A self-hosted receiver on a
//! private network is allowed by naming its host (or address) in `WEBHOOK_ALLOWED_HOSTS`.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The hosts allowed to be private, and the resolver that enforces the rest.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Host names or addresses, lower case.
    allowed: Arc<Vec<String>>,
}

impl Guard {
    pub fn new(allowed: &[String]) -> Self {
        Self {
            allowed: Arc::new(
                allowed
                    .iter()
                    .map(|host| host.trim().to_ascii_lowercase())
                    .collect(),
            ),
        }
    }

    fn allows(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allowed
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
    }

    /// `Err` in words when `url` names a private address (a name is checked when resolved).
    pub fn check_url(&self, url: &url::Url) -> Result<(), String> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err("the URL has no host".into()),
        };
        if is_public(ip) || self.allows(&ip.to_string()) {
            Ok(())
        } else {
            Err(format!(
                "{ip} is a private address (allow it with WEBHOOK_ALLOWED_HOSTS)"
            ))
        }
    }
}

impl Resolve for Guard {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allows(name.as_str());
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|address| allowed || is_public(address.ip()))
                .collect();
            if found.is_empty() {
                let error = std::io::Error::other(format!(
                    "{host} resolves only to private addresses (allow it with \
                     WEBHOOK_ALLOWED_HOSTS)"
                ));
                return Err(error.into());
            }
            let addresses: Addrs = Box::new(found.into_iter());
            Ok(addresses)
        })
    }
}

/// Whether `ip` is on the public internet: not loopback, private, link-local, shared (CGNAT),
/// unspecified, broadcast, multicast, documentation or reserved; IPv6 likewise, and an IPv4
/// address carried in IPv6 is judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let segments = ip.segments();
            // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [.., high, low] = segments;
                return is_public_v4(Ipv4Addr::from((u32::from(high) << 16) | u32::from(low)));
            }
            !(ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (segments[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (segments[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (segments[0] == 0x2001 && segments[1] == 0x0db8) // documentation
                || ip == Ipv6Addr::from(1u128))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64.0.0/10
        || a >= 240) // reserved
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn private_loopback_and_reserved_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "ff02::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:2800:220:1::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn an_address_in_the_url_is_checked_unless_allowed() {
        let guard = Guard::new(&["127.0.0.1".into(), "hooks.internal".into()]);
        let url = |text: &str| url::Url::parse(text).unwrap();
        assert!(guard.check_url(&url("http://127.0.0.1:9000/in")).is_ok());
        assert!(guard.check_url(&url("http://10.0.0.5/in")).is_err());
        assert!(guard.check_url(&url("http://[::1]/in")).is_err());
        assert!(guard.check_url(&url("https://8.8.8.8/in")).is_ok());
        assert!(
            guard
                .check_url(&url("https://hooks.example.com/in"))
                .is_ok(),
            "names: at connect"
        );
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_a_private_address_is_refused_when_connecting() {
        let refused = Guard::default()
            .resolve(Name::from_str("localhost").unwrap())
            .await;
        let error = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("only to private addresses"), "{error}");
        let allowed = Guard::new(&["localhost".into()])
            .resolve(Name::from_str("localhost").unwrap())
            .await;
        assert!(allowed.is_ok_and(|mut addresses| addresses.next().is_some()));
    }
}
