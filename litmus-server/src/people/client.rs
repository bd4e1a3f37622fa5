//! Who is at the other end of a request: the client's address (the peer's, or with a trusted
//! proxy the one it appended to `X-Forwarded-For`) and user agent, as sessions and the audit log
//! record them and sign-in throttling counts them.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

/// The longest user agent kept.
const MAX_AGENT: usize = 400;

/// The client of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// Its address, when known.
    pub ip: Option<IpAddr>,
    /// Its user agent (at most 400 characters), when sent.
    pub user_agent: Option<String>,
}

impl Client {
    /// The client of a request with these `parts` (the peer address is there when the server
    /// was started with connection info, as `main.rs` does).
    pub fn of(parts: &Parts, trust_proxy: bool) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Client::from_headers(&parts.headers, peer, trust_proxy)
    }

    /// The client given its `peer` address and request `headers`.
    pub fn from_headers(headers: &HeaderMap, peer: Option<IpAddr>, trust_proxy: bool) -> Self {
        let forwarded = trust_proxy
            .then(|| {
                headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                    .next_back()
            })
            .flatten();
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|a| {
                a.chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_AGENT)
                    .collect()
            });
        Client {
            ip: forwarded.or(peer),
            user_agent,
        }
    }

    /// The address as text, when known.
    pub fn ip_text(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_proxy_is_believed_only_when_trusted() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 10.1.2.3"),
        );
        h.insert(header::USER_AGENT, HeaderValue::from_static("Mozilla/5.0"));
        let peer: IpAddr = [127, 0, 0, 1].into();
        let direct = Client::from_headers(&h, Some(peer), false);
        assert_eq!(direct.ip, Some(peer));
        assert_eq!(direct.user_agent.as_deref(), Some("Mozilla/5.0"));
        let proxied = Client::from_headers(&h, Some(peer), true);
        assert_eq!(proxied.ip_text().as_deref(), Some("10.1.2.3"));
    }
}
