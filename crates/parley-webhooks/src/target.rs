//! The SSRF guard: where a delivery may go. A URL must be `http` or `https` with a host and
//! no credentials; unless private targets are allowed (`outbound.allow_private_targets`),
//! every address its host resolves to must be public. A name with any forbidden address is
//! refused as a whole, so a name answering both a public and a private address cannot be
//! used to slip through.
//!
//! The check runs where the connection is made ([`GuardedResolver`] is the HTTP client's
//! resolver, and literal addresses are checked before sending), so a name that resolved to a
//! public address when the endpoint was saved and to a private one later is still refused.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address may not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Forbidden {
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918, shared address space (`100.64.0.0/10`), site-local and local NAT64.
    Private,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// `fc00::/7`.
    UniqueLocal,
    /// `::ffff:0:0/96`.
    Ipv4Mapped,
    /// A cloud provider's instance metadata service.
    Metadata,
    /// Multicast and broadcast.
    Multicast,
    /// Documentation, benchmarking, reserved and tunnelling ranges.
    Reserved,
}

impl Forbidden {
    /// How the refusal reads.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Forbidden::Unspecified => "an unspecified address",
            Forbidden::Loopback => "a loopback address",
            Forbidden::Private => "a private address",
            Forbidden::LinkLocal => "a link-local address",
            Forbidden::UniqueLocal => "a unique-local address",
            Forbidden::Ipv4Mapped => "an IPv4-mapped address",
            Forbidden::Metadata => "a cloud metadata address",
            Forbidden::Multicast => "a multicast or broadcast address",
            Forbidden::Reserved => "a reserved address",
        }
    }
}

/// Metadata services: AWS, GCP, Azure, OpenStack (`169.254.169.254`), Alibaba
/// (`100.100.100.200`), Oracle (`192.0.0.192`).
const METADATA_V4: [Ipv4Addr; 3] = [
    Ipv4Addr::new(169, 254, 169, 254),
    Ipv4Addr::new(100, 100, 100, 200),
    Ipv4Addr::new(192, 0, 0, 192),
];
/// AWS's IPv6 metadata address.
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn classify_v4(ip: Ipv4Addr) -> Option<Forbidden> {
    use Forbidden as F;
    if METADATA_V4.contains(&ip) {
        return Some(F::Metadata);
    }
    let table: [([u8; 4], u32, Forbidden); 15] = [
        ([0, 0, 0, 0], 8, F::Unspecified),
        ([10, 0, 0, 0], 8, F::Private),
        ([100, 64, 0, 0], 10, F::Private),
        ([127, 0, 0, 0], 8, F::Loopback),
        ([169, 254, 0, 0], 16, F::LinkLocal),
        ([172, 16, 0, 0], 12, F::Private),
        ([192, 0, 0, 0], 24, F::Reserved),
        ([192, 0, 2, 0], 24, F::Reserved),
        ([192, 88, 99, 0], 24, F::Reserved),
        ([192, 168, 0, 0], 16, F::Private),
        ([198, 18, 0, 0], 15, F::Reserved),
        ([198, 51, 100, 0], 24, F::Reserved),
        ([203, 0, 113, 0], 24, F::Reserved),
        ([224, 0, 0, 0], 4, F::Multicast),
        ([240, 0, 0, 0], 4, F::Reserved),
    ];
    if ip == Ipv4Addr::BROADCAST {
        return Some(F::Multicast);
    }
    table
        .iter()
        .find(|(net, bits, _)| in_v4(ip, *net, *bits))
        .map(|(_, _, why)| *why)
}

fn in_v6(ip: Ipv6Addr, net: [u16; 8], bits: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
    u128::from(ip) & mask == u128::from(Ipv6Addr::from(net)) & mask
}

/// The IPv4 address in the low 32 bits.
fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from((u128::from(ip) & 0xffff_ffff) as u32)
}

fn classify_v6(ip: Ipv6Addr) -> Option<Forbidden> {
    use Forbidden as F;
    if ip == METADATA_V6 {
        return Some(F::Metadata);
    }
    if ip.is_unspecified() {
        return Some(F::Unspecified);
    }
    if ip.is_loopback() {
        return Some(F::Loopback);
    }
    if in_v6(ip, [0, 0, 0, 0, 0, 0xffff, 0, 0], 96) {
        return Some(F::Ipv4Mapped);
    }
    // NAT64 (`64:ff9b::/96`) reaches the IPv4 address inside it; 6to4 (`2002::/16`) the
    // one in bits 16 to 48.
    if in_v6(ip, [0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96) {
        return classify_v4(low_v4(ip));
    }
    if in_v6(ip, [0x2002, 0, 0, 0, 0, 0, 0, 0], 16) {
        let embedded = Ipv4Addr::from(((u128::from(ip) >> 80) & 0xffff_ffff) as u32);
        return classify_v4(embedded);
    }
    let table: [([u16; 8], u32, Forbidden); 9] = [
        ([0, 0, 0, 0, 0, 0, 0, 0], 96, F::Reserved),
        ([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48, F::Private),
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, F::Reserved),
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, F::Reserved),
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32, F::Reserved),
        ([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7, F::UniqueLocal),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, F::LinkLocal),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, F::Private),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, F::Multicast),
    ];
    table
        .iter()
        .find(|(net, bits, _)| in_v6(ip, *net, *bits))
        .map(|(_, _, why)| *why)
}

/// Why `ip` may not be reached, or `None` for a public address.
#[must_use]
pub fn classify(ip: IpAddr) -> Option<Forbidden> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// Why a target was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TargetError {
    /// Not a URL.
    #[error("is not a valid URL: {0}")]
    Syntax(String),
    /// Not http or https.
    #[error("must be an http or https URL")]
    Scheme,
    /// No host.
    #[error("must name a host")]
    NoHost,
    /// `user:password@` in the URL.
    #[error("must not carry a user name or password; use the endpoint secret")]
    Credentials,
    /// The host is or resolves to a forbidden address.
    #[error("{host} is {} ({address}); set outbound.allow_private_targets to allow it", .why.as_str())]
    Forbidden {
        /// The host as written.
        host: String,
        /// The forbidden address.
        address: IpAddr,
        /// Why.
        why: Forbidden,
    },
    /// The name does not resolve.
    #[error("{host} does not resolve: {reason}")]
    Unresolvable {
        /// The host.
        host: String,
        /// What the resolver said.
        reason: String,
    },
}

/// Parses and checks a URL's shape (no resolution).
pub fn parse_target(text: &str) -> Result<Url, TargetError> {
    let url = Url::parse(text.trim()).map_err(|e| TargetError::Syntax(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Scheme);
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(TargetError::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    Ok(url)
}

/// The host of `url` as an address, when it is written as one.
#[must_use]
pub fn literal_address(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
        url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
        url::Host::Domain(_) => None,
    }
}

/// Refuses `addresses` of `host` when any is forbidden.
pub fn check_addresses(host: &str, addresses: &[IpAddr]) -> Result<(), TargetError> {
    for address in addresses {
        if let Some(why) = classify(*address) {
            return Err(TargetError::Forbidden {
                host: host.to_owned(),
                address: *address,
                why,
            });
        }
    }
    Ok(())
}

/// The addresses `host` resolves to: at least one, or `Unresolvable`.
async fn resolve(host: &str) -> Result<Vec<SocketAddr>, TargetError> {
    let unresolvable = |reason: String| TargetError::Unresolvable {
        host: host.to_owned(),
        reason,
    };
    // RFC 6761 §6.4: names under `.invalid` never resolve, so they are not asked about
    // (a resolver that drops the query would hold the caller for its whole timeout).
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    if name == "invalid" || name.ends_with(".invalid") {
        return Err(unresolvable(
            "names under .invalid never resolve (RFC 6761)".to_owned(),
        ));
    }
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
        .await
        .map_err(|e| unresolvable(e.to_string()))?
        .collect();
    if found.is_empty() {
        return Err(unresolvable("no addresses".to_owned()));
    }
    Ok(found)
}

/// Resolves `url`'s host and checks every address (what saving an endpoint does, to answer
/// with a clear error at once; deliveries are checked again as they connect).
pub async fn check_target(url: &Url, allow_private: bool) -> Result<(), TargetError> {
    checked_addresses(url, allow_private).await.map(|_| ())
}

/// The addresses `url`'s host stands for, every one checked. A connection made outside
/// the HTTP client (SFTP) connects to these, so what was checked is what is reached and the
/// name is resolved once.
pub async fn checked_addresses(url: &Url, allow_private: bool) -> Result<Vec<IpAddr>, TargetError> {
    let host = url.host_str().unwrap_or_default();
    let addresses: Vec<IpAddr> = match literal_address(url) {
        Some(address) => vec![address],
        None => resolve(host).await?.iter().map(SocketAddr::ip).collect(),
    };
    if !allow_private {
        check_addresses(host, &addresses)?;
    }
    Ok(addresses)
}

/// The HTTP client's resolver: the system's answer, refused when any address is forbidden.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver;

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = resolve(&host).await?;
            let ips: Vec<IpAddr> = found.iter().map(SocketAddr::ip).collect();
            check_addresses(&host, &ips)?;
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Forbidden as F;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn classifies_ipv4() {
        let table = [
            ("0.0.0.0", Some(F::Unspecified)),
            ("0.1.2.3", Some(F::Unspecified)),
            ("10.0.0.1", Some(F::Private)),
            ("10.255.255.255", Some(F::Private)),
            ("100.64.0.1", Some(F::Private)),
            ("100.127.255.255", Some(F::Private)),
            ("100.128.0.1", None),
            ("127.0.0.1", Some(F::Loopback)),
            ("127.255.0.9", Some(F::Loopback)),
            ("169.254.1.1", Some(F::LinkLocal)),
            ("169.254.169.254", Some(F::Metadata)),
            ("100.100.100.200", Some(F::Metadata)),
            ("192.0.0.192", Some(F::Metadata)),
            ("172.15.255.255", None),
            ("172.16.0.1", Some(F::Private)),
            ("172.31.255.255", Some(F::Private)),
            ("172.32.0.1", None),
            ("192.168.1.1", Some(F::Private)),
            ("192.0.2.10", Some(F::Reserved)),
            ("198.18.0.1", Some(F::Reserved)),
            ("198.51.100.7", Some(F::Reserved)),
            ("203.0.113.200", Some(F::Reserved)),
            ("224.0.0.1", Some(F::Multicast)),
            ("255.255.255.255", Some(F::Multicast)),
            ("240.0.0.1", Some(F::Reserved)),
            ("8.8.8.8", None),
            ("1.1.1.1", None),
            ("93.184.216.34", None),
        ];
        for (text, want) in table {
            assert_eq!(classify(ip(text)), want, "{text}");
        }
    }

    #[test]
    fn classifies_ipv6() {
        let table = [
            ("::", Some(F::Unspecified)),
            ("::1", Some(F::Loopback)),
            ("::ffff:127.0.0.1", Some(F::Ipv4Mapped)),
            ("::ffff:8.8.8.8", Some(F::Ipv4Mapped)),
            ("::127.0.0.1", Some(F::Reserved)),
            ("64:ff9b::10.0.0.1", Some(F::Private)),
            ("64:ff9b::169.254.169.254", Some(F::Metadata)),
            ("64:ff9b::8.8.8.8", None),
            ("64:ff9b:1::1", Some(F::Private)),
            ("2002:7f00:1::", Some(F::Loopback)),
            ("2002:c0a8:101::1", Some(F::Private)),
            ("2002:0808:0808::1", None),
            ("2001::1", Some(F::Reserved)),
            ("2001:db8::1", Some(F::Reserved)),
            ("fc00::1", Some(F::UniqueLocal)),
            ("fd12:3456::1", Some(F::UniqueLocal)),
            ("fd00:ec2::254", Some(F::Metadata)),
            ("fe80::1", Some(F::LinkLocal)),
            ("febf::1", Some(F::LinkLocal)),
            ("fec0::1", Some(F::Private)),
            ("ff02::1", Some(F::Multicast)),
            ("2606:4700:4700::1111", None),
            ("2a00:1450:4009:80b::200e", None),
        ];
        for (text, want) in table {
            assert_eq!(classify(ip(text)), want, "{text}");
        }
    }

    #[test]
    fn urls_must_be_http_with_a_host_and_no_credentials() {
        assert!(parse_target("https://hooks.example.com/parley").is_ok());
        assert!(parse_target(" http://hooks.example.com:8080/x?y=1 ").is_ok());
        assert_eq!(parse_target("ftp://example.com/"), Err(TargetError::Scheme));
        assert_eq!(parse_target("file:///etc/passwd"), Err(TargetError::Scheme));
        assert_eq!(
            parse_target("https://user:pw@example.com/"),
            Err(TargetError::Credentials)
        );
        assert!(matches!(
            parse_target("not a url"),
            Err(TargetError::Syntax(_))
        ));
    }

    #[test]
    fn a_name_with_any_forbidden_address_is_refused() {
        // What a resolver answered for each name.
        let answers = [
            (
                "public.example",
                vec!["93.184.216.34", "2606:2800:220:1::1"],
                None,
            ),
            (
                "rebinding.example",
                vec!["93.184.216.34", "10.0.0.5"],
                Some(F::Private),
            ),
            (
                "metadata.example",
                vec!["169.254.169.254"],
                Some(F::Metadata),
            ),
            ("v6-local.example", vec!["fd00::1"], Some(F::UniqueLocal)),
            (
                "mapped.example",
                vec!["::ffff:10.0.0.1"],
                Some(F::Ipv4Mapped),
            ),
        ];
        for (host, addresses, want) in answers {
            let addresses: Vec<IpAddr> = addresses.into_iter().map(ip).collect();
            let got = check_addresses(host, &addresses).err().map(|e| match e {
                TargetError::Forbidden { why, .. } => why,
                other => panic!("{other:?}"),
            });
            assert_eq!(got, want, "{host}");
        }
    }

    #[tokio::test]
    async fn names_and_literals_that_reach_this_machine_are_refused() {
        for text in [
            "http://localhost:9/",
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://0x7f.1/",
            "http://2130706433/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::ffff:127.0.0.1]/",
        ] {
            let url = parse_target(text).unwrap();
            let err = check_target(&url, false).await.unwrap_err();
            assert!(
                matches!(err, TargetError::Forbidden { .. }),
                "{text}: {err:?}"
            );
            assert!(err.to_string().contains("allow_private_targets"), "{err}");
            check_target(&url, true).await.unwrap();
        }
    }

    #[tokio::test]
    async fn names_under_invalid_fail_at_once_without_asking_dns() {
        for text in ["https://receiver.example.invalid/hook", "https://INVALID./"] {
            let url = parse_target(text).unwrap();
            let started = std::time::Instant::now();
            let err = check_target(&url, false).await.unwrap_err();
            assert!(
                matches!(err, TargetError::Unresolvable { .. }),
                "{text}: {err:?}"
            );
            assert!(err.to_string().contains("RFC 6761"), "{err}");
            assert!(started.elapsed() < std::time::Duration::from_millis(50));
        }
    }
}
