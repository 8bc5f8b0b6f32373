//! The client's address, for rate limits and the audit log: the connection's peer, or,
//! when the peer is one of `server.trusted_proxies`, the nearest address in
//! `X-Forwarded-For` that is not itself a trusted proxy (read right to left, the order
//! proxies append in). A header from anyone else is ignored, so a client cannot choose
//! its own address and step around a limit.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use http::HeaderMap;
use http::request::Parts;

use crate::AppState;

/// What the address reads as when the connection has none (requests made in-process).
pub const UNKNOWN_CLIENT: &str = "unknown";

/// The client's address as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

/// The client behind `peer`, trusting `X-Forwarded-For` only from `trusted` proxies.
#[must_use]
pub fn client_address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpAddr]) -> String {
    let Some(peer) = peer else {
        return UNKNOWN_CLIENT.to_owned();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|address| !trusted.contains(address))
        .unwrap_or(peer)
        .to_string()
}

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(ClientAddr(client_address(
            peer,
            &parts.headers,
            &state.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy = ip("10.0.0.5");
        let spoofed = headers(&["203.0.113.1"]);
        // From an untrusted peer the header is ignored.
        assert_eq!(
            client_address(Some(ip("198.51.100.7")), &spoofed, &[proxy]),
            "198.51.100.7"
        );
        // From the proxy, the rightmost address it did not add itself.
        let chain = headers(&["203.0.113.1, 198.51.100.9", "10.0.0.5"]);
        assert_eq!(
            client_address(Some(proxy), &chain, &[proxy]),
            "198.51.100.9"
        );
        // A proxy that sent no header is the client.
        assert_eq!(
            client_address(Some(proxy), &HeaderMap::new(), &[proxy]),
            "10.0.0.5"
        );
        assert_eq!(client_address(None, &spoofed, &[]), UNKNOWN_CLIENT);
    }
}
