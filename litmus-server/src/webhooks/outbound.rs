//! Where webhook deliveries may go, and how they are sent. A URL is http(s) with a host and no
//! user info; its addresses must be public: loopback, private (RFC 1918, unique local),
//! link-local (cloud metadata among them), shared (RFC 6598), unspecified, multicast and
//! broadcast addresses are refused, unless the operator allows them
//! (`LITMUS_WEBHOOK_ALLOW_PRIVATE=1`, or ranges in `LITMUS_WEBHOOK_ALLOW`). The check is made
//! on the addresses a name resolves to, when connecting (so a name that resolves to a private
//! address later is caught too), and on addresses written in the URL. A delivery waits at most
//! [`TIMEOUT`], follows no redirect, and reads at most [`MAX_RESPONSE`] bytes of the answer.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// How long a delivery may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The most bytes read of an answer.
pub const MAX_RESPONSE: usize = 64 * 1024;

/// The longest URL accepted.
pub const MAX_URL: usize = 2048;

/// Which addresses deliveries may reach besides public ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Every address (`LITMUS_WEBHOOK_ALLOW_PRIVATE=1`).
    pub allow_private: bool,
    /// These ranges (`LITMUS_WEBHOOK_ALLOW=10.0.0.0/8,…`): an address and a prefix length.
    pub allowed: Vec<(IpAddr, u8)>,
}

impl Policy {
    /// The ranges of a comma-separated list such as `10.1.0.0/16,127.0.0.1` (a bare address is
    /// itself alone); none when one cannot be read.
    pub fn ranges(list: &str) -> Option<Vec<(IpAddr, u8)>> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                let (ip, len) = s.split_once('/').unwrap_or((s, ""));
                let ip: IpAddr = ip.parse().ok()?;
                let max = if ip.is_ipv4() { 32 } else { 128 };
                let len = if len.is_empty() {
                    max
                } else {
                    len.parse().ok()?
                };
                (len <= max).then_some((ip, len))
            })
            .collect()
    }

    /// Whether a delivery may reach `ip`.
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.allow_private
            || !internal(ip)
            || self.allowed.iter().any(|&(net, len)| within(ip, net, len))
    }
}

/// Whether `ip` is in `net`/`len`.
fn within(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (canonical(ip), canonical(net)) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(len.min(32)))
                .unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(len.min(128)))
                .unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` is not a public address.
pub fn internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => internal_v4(v4),
        IpAddr::V6(v6) => internal_v6(v6),
    }
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || a >= 240
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || ip
            .to_ipv4()
            .is_some_and(|v4| ip.segments()[..6] == [0; 6] && internal_v4(v4))
}

/// Why `url` cannot be a webhook's address, if it cannot (the address check comes later, when
/// it resolves).
pub fn url_problem(url: &str) -> Option<String> {
    if url.len() > MAX_URL {
        return Some(format!("a URL has at most {MAX_URL} characters"));
    }
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return Some(format!("{url:?} is not a URL"));
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return Some("the URL must be http or https".into());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Some("the URL has no host".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Some("the URL must not hold a user name or password".into());
    }
    None
}

/// Resolves names for the delivery client, keeping only the addresses the policy allows.
struct Guarded(Policy);

impl reqwest::dns::Resolve for Guarded {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| policy.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                let refused = format!("{host} resolves only to addresses deliveries may not reach");
                return Err(refused.into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The delivery client under `policy`, waiting at most `timeout` for an answer.
pub fn client(policy: &Policy, timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(Guarded(policy.clone())))
        .user_agent(concat!("Litmus-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("the delivery client: {e}"))
}

/// How an attempt went: the answer's status, or why there was none.
pub type Outcome = Result<u16, String>;

/// POSTs `body` to `url` with `headers` (the address checked against `policy`).
pub async fn send(
    client: &reqwest::Client,
    policy: &Policy,
    url: &str,
    headers: &[(&str, String)],
    body: String,
) -> Outcome {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    // An address written in the URL is not resolved, so it is checked here.
    let literal = parsed.host_str().and_then(|h| {
        h.trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .ok()
    });
    if literal.is_some_and(|ip| !policy.allows(ip)) {
        return Err("the address is not one deliveries may reach".into());
    }
    let mut request = client
        .post(parsed)
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let mut response = request.send().await.map_err(describe)?;
    let status = response.status().as_u16();
    let mut read = 0;
    while let Ok(Some(chunk)) = response.chunk().await {
        read += chunk.len();
        if read >= MAX_RESPONSE {
            break;
        }
    }
    Ok(status)
}

/// A failed request in a few words.
fn describe(e: reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_unless_allowed() {
        let refused = [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "fe80::1",
            "fc00::1",
            "::",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ];
        let policy = Policy::default();
        for ip in refused {
            assert!(!policy.allows(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "2606:2800:220:1:248:1893:25c8:1946",
            "8.8.8.8",
        ] {
            assert!(policy.allows(ip.parse().unwrap()), "{ip}");
        }
        let some = Policy {
            allow_private: false,
            allowed: Policy::ranges("10.1.0.0/16, 127.0.0.1").unwrap(),
        };
        assert!(some.allows("10.1.9.9".parse().unwrap()));
        assert!(!some.allows("10.2.0.1".parse().unwrap()));
        assert!(some.allows("127.0.0.1".parse().unwrap()));
        assert!(!some.allows("127.0.0.2".parse().unwrap()));
        assert!(Policy::ranges("10.0.0.0/33").is_none());
        assert!(Policy::ranges("nope").is_none());
    }

    #[test]
    fn urls_are_http_with_a_host_and_no_credentials() {
        assert_eq!(url_problem("https://hooks.example.com/x"), None);
        for bad in [
            "ftp://x",
            "https://",
            "https://u:p@x.example.com",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(url_problem(bad).is_some(), "{bad}");
        }
        assert!(url_problem(&format!("https://x/{}", "a".repeat(3000))).is_some());
    }
}
