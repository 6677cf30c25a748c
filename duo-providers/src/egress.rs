//! [`EgressPolicy`]: where the gateway may connect, decided in one place for every upstream.
//!
//! Self-hosted models live on loopback and in private ranges, so those stay reachable. What is
//! refused, unless the operator allows link-local destinations, is the one [`Refusal`] table:
//! cloud metadata services, the rest of link-local, and unspecified addresses, in every IPv6
//! form that reaches them (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64
//! `64:ff9b::a.b.c.d`).
//!
//! The check runs twice, so that neither a literal address nor DNS can get around it:
//! - [`EgressPolicy::check_url`] before a client is built, on the URL as written (literal
//!   addresses, which reqwest connects to without asking a resolver, and well-known metadata
//!   host names);
//! - at connect time on the **resolved** addresses: the policy's resolver (installed into every
//!   client built with [`EgressPolicy::client_builder`]) drops refused addresses and fails the
//!   connection when none is left, so a name that resolves to `169.254.169.254`, now or after a
//!   DNS rebinding, is never connected to.
//!
//! Clients built here never follow redirects: a 3xx is the upstream's answer, reported as an
//! error naming the status, and nothing is sent to its `Location`.
//!
//! ```
//! use duo_providers::EgressPolicy;
//!
//! let policy = EgressPolicy::default();
//! let url = reqwest::Url::parse("http://169.254.169.254/latest/meta-data").unwrap();
//! let refusal = policy.check_url(&url).unwrap_err();
//! assert_eq!(refusal.rule(), "cloud_metadata");
//! assert!(policy.check_url(&reqwest::Url::parse("http://10.0.0.5:8000/v1").unwrap()).is_ok());
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address is refused: one row per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// A cloud metadata service (169.254.169.254, 169.254.170.2, 169.254.170.23,
    /// fd00:ec2::254, 100.100.100.200, or a metadata host name).
    CloudMetadata,
    /// Any other link-local address (169.254.0.0/16, fe80::/10).
    LinkLocal,
    /// An unspecified or "this network" address (0.0.0.0/8, `::`), which reaches the local host.
    Unspecified,
}

impl Refusal {
    /// A short, stable name (`cloud_metadata`, `link_local`, `unspecified`).
    #[must_use]
    pub const fn rule(self) -> &'static str {
        match self {
            Self::CloudMetadata => "cloud_metadata",
            Self::LinkLocal => "link_local",
            Self::Unspecified => "unspecified",
        }
    }

    /// What the rule protects, in words.
    #[must_use]
    pub const fn describe(self) -> &'static str {
        match self {
            Self::CloudMetadata => "a cloud metadata address",
            Self::LinkLocal => "a link-local address",
            Self::Unspecified => "an unspecified address",
        }
    }

    /// The rule an address breaks, if any (IPv6 forms of IPv4 addresses are judged as IPv4).
    #[must_use]
    pub fn of(ip: IpAddr) -> Option<Self> {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => match embedded_v4(v6) {
                Some(v4) => Self::of_v4(v4),
                None => Self::of_v6(v6),
            },
        }
    }

    fn of_v4(ip: Ipv4Addr) -> Option<Self> {
        const METADATA: [Ipv4Addr; 4] = [
            Ipv4Addr::new(169, 254, 169, 254),
            Ipv4Addr::new(169, 254, 170, 2),
            Ipv4Addr::new(169, 254, 170, 23),
            Ipv4Addr::new(100, 100, 100, 200),
        ];
        if METADATA.contains(&ip) {
            Some(Self::CloudMetadata)
        } else if ip.is_link_local() {
            Some(Self::LinkLocal)
        } else if ip.octets()[0] == 0 {
            Some(Self::Unspecified)
        } else {
            None
        }
    }

    fn of_v6(ip: Ipv6Addr) -> Option<Self> {
        if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
            Some(Self::CloudMetadata)
        } else if (ip.segments()[0] & 0xffc0) == 0xfe80 {
            Some(Self::LinkLocal)
        } else if ip.is_unspecified() {
            Some(Self::Unspecified)
        } else {
            None
        }
    }
}

/// The IPv4 address an IPv6 address reaches: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible
/// (`::a.b.c.d`, not `::` or `::1`) or NAT64 (`64:ff9b::a.b.c.d`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = ip.segments();
    let low = Ipv4Addr::new(
        (s[6] >> 8) as u8,
        (s[6] & 0xff) as u8,
        (s[7] >> 8) as u8,
        (s[7] & 0xff) as u8,
    );
    let compatible = s[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback();
    let nat64 = s[..6] == [0x64, 0xff9b, 0, 0, 0, 0];
    (compatible || nat64).then_some(low)
}

/// Host names of cloud metadata services, refused as written (they resolve to metadata
/// addresses anyway; refusing the name gives a clearer answer and needs no lookup).
const METADATA_HOSTS: &[&str] = &[
    "metadata",
    "metadata.google.internal",
    "metadata.goog",
    "instance-data",
    "instance-data.ec2.internal",
    "metadata.azure.internal",
];

/// The policy refused a destination; nothing was sent to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{host} is {} ({address}), which the egress policy refuses (rule {})", rule.describe(), rule.rule())]
pub struct EgressRefused {
    host: String,
    address: String,
    rule: Refusal,
}

impl EgressRefused {
    /// The rule's stable name (`cloud_metadata`, `link_local`, `unspecified`).
    #[must_use]
    pub fn rule(&self) -> &'static str {
        self.rule.rule()
    }

    /// The rule that refused it.
    #[must_use]
    pub fn refusal(&self) -> Refusal {
        self.rule
    }

    /// The host as the URL named it.
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The refused address (or the host name itself, for a refused name).
    #[must_use]
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Finds a refusal in an error's source chain (a reqwest error of a refused connection).
    #[must_use]
    pub fn find<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Self> {
        let mut current = Some(err);
        while let Some(e) = current {
            if let Some(refused) = e.downcast_ref::<Self>() {
                return Some(refused);
            }
            current = e.source();
        }
        None
    }
}

/// Where upstream connections may go; see the [module docs](self). Cheap to clone.
///
/// `Default` refuses the [`Refusal`] table and resolves names with the system resolver.
#[derive(Clone)]
pub struct EgressPolicy {
    allow_link_local: bool,
    resolver: Arc<dyn Resolve>,
}

impl Default for EgressPolicy {
    fn default() -> Self {
        Self {
            allow_link_local: false,
            resolver: Arc::new(SystemResolver),
        }
    }
}

impl fmt::Debug for EgressPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EgressPolicy")
            .field("allow_link_local", &self.allow_link_local)
            .finish_non_exhaustive()
    }
}

impl EgressPolicy {
    /// Allows (or, by default, refuses) link-local and metadata destinations.
    #[must_use]
    pub fn allow_link_local(mut self, allow: bool) -> Self {
        self.allow_link_local = allow;
        self
    }

    /// Whether link-local and metadata destinations are allowed.
    #[must_use]
    pub fn allows_link_local(&self) -> bool {
        self.allow_link_local
    }

    /// Resolves names with `resolver` instead of the system's (its answers are still checked).
    #[must_use]
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolve>) -> Self {
        self.resolver = resolver;
        self
    }

    /// Checks one address.
    ///
    /// # Errors
    /// [`EgressRefused`] naming the rule it breaks.
    pub fn check_ip(&self, host: &str, ip: IpAddr) -> Result<(), EgressRefused> {
        match Refusal::of(ip) {
            Some(rule) if !self.allow_link_local => Err(EgressRefused {
                host: host.to_owned(),
                address: ip.to_string(),
                rule,
            }),
            _ => Ok(()),
        }
    }

    /// Checks a URL as written: a literal address host, or a metadata host name. Names are
    /// checked again after resolution, when a client of [`client_builder`](Self::client_builder)
    /// connects.
    ///
    /// # Errors
    /// [`EgressRefused`] naming the rule it breaks.
    pub fn check_url(&self, url: &Url) -> Result<(), EgressRefused> {
        match url.host() {
            Some(url::Host::Ipv4(ip)) => self.check_ip(&ip.to_string(), IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => self.check_ip(&format!("[{ip}]"), IpAddr::V6(ip)),
            Some(url::Host::Domain(name)) => {
                let bare = name.trim_end_matches('.').to_ascii_lowercase();
                if !self.allow_link_local && METADATA_HOSTS.contains(&bare.as_str()) {
                    return Err(EgressRefused {
                        host: name.to_owned(),
                        address: "a metadata host name".into(),
                        rule: Refusal::CloudMetadata,
                    });
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// A `reqwest` client builder that follows no redirect and resolves through this policy.
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(Guarded(self.clone())))
    }
}

/// The resolver installed into clients: resolves, then drops refused addresses.
struct Guarded(EgressPolicy);

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let allowed = policy.resolve_checked(name).await?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

impl EgressPolicy {
    /// Resolves `host` with the policy's resolver and keeps the addresses the policy allows;
    /// [`EgressRefused`] if it refuses every one. For clients that bring their own connector
    /// (the AWS SDK's).
    #[cfg_attr(not(feature = "bedrock"), allow(dead_code))]
    pub(crate) async fn resolve(
        &self,
        host: &str,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let name: Name = host.parse()?;
        self.resolve_checked(name).await
    }

    /// Checks a destination a forward proxy will resolve and connect to (no resolver of this
    /// policy runs then): every address `host` resolves to here must pass. `Ok(false)` when the
    /// name does not resolve here.
    pub(crate) async fn check_every_address(&self, host: &str) -> Result<bool, EgressRefused> {
        let Ok(name) = host.parse::<Name>() else {
            return Ok(false);
        };
        let Ok(addrs) = self.resolver.resolve(name).await else {
            return Ok(false);
        };
        let mut any = false;
        for addr in addrs {
            any = true;
            self.check_ip(host, addr.ip())?;
        }
        Ok(any)
    }

    async fn resolve_checked(
        &self,
        name: Name,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let host = name.as_str().to_owned();
        let resolved: Vec<SocketAddr> = self.resolver.resolve(name).await?.collect();
        let mut refusal = None;
        let allowed: Vec<SocketAddr> = resolved
            .into_iter()
            .filter(|addr| match self.check_ip(&host, addr.ip()) {
                Ok(()) => true,
                Err(e) => {
                    refusal.get_or_insert(e);
                    false
                }
            })
            .collect();
        match (allowed.is_empty(), refusal) {
            (true, Some(refused)) => Err(Box::new(refused)),
            _ => Ok(allowed),
        }
    }
}

/// The system resolver (`getaddrinfo`, on tokio's blocking pool).
struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_table_refuses_metadata_link_local_and_unspecified_in_every_form() {
        for (addr, rule) in [
            ("169.254.169.254", Some(Refusal::CloudMetadata)),
            ("169.254.170.2", Some(Refusal::CloudMetadata)),
            ("100.100.100.200", Some(Refusal::CloudMetadata)),
            ("fd00:ec2::254", Some(Refusal::CloudMetadata)),
            ("::ffff:169.254.169.254", Some(Refusal::CloudMetadata)),
            ("::169.254.169.254", Some(Refusal::CloudMetadata)),
            ("64:ff9b::169.254.169.254", Some(Refusal::CloudMetadata)),
            ("::ffff:a9fe:a9fe", Some(Refusal::CloudMetadata)),
            ("169.254.1.1", Some(Refusal::LinkLocal)),
            ("fe80::1", Some(Refusal::LinkLocal)),
            ("febf::1", Some(Refusal::LinkLocal)),
            ("::ffff:169.254.3.4", Some(Refusal::LinkLocal)),
            ("0.0.0.0", Some(Refusal::Unspecified)),
            ("0.1.2.3", Some(Refusal::Unspecified)),
            ("::", Some(Refusal::Unspecified)),
            ("::ffff:0.0.0.0", Some(Refusal::Unspecified)),
            ("127.0.0.1", None),
            ("::1", None),
            ("10.0.0.5", None),
            ("192.168.1.1", None),
            ("172.16.0.1", None),
            ("fd12:3456::1", None),
            ("100.100.100.201", None),
            ("fec0::1", None),
        ] {
            assert_eq!(Refusal::of(ip(addr)), rule, "{addr}");
        }
    }

    #[test]
    fn urls_are_checked_as_written_and_link_local_can_be_allowed() {
        let policy = EgressPolicy::default();
        let check = |u: &str| policy.check_url(&Url::parse(u).unwrap());
        let err = check("http://[::ffff:169.254.169.254]/").unwrap_err();
        assert_eq!(err.rule(), "cloud_metadata");
        assert_eq!(err.host(), "[::ffff:169.254.169.254]");
        assert!(
            err.to_string()
                .contains("is a cloud metadata address (::ffff:169.254.169.254)"),
            "{err}"
        );
        assert_eq!(
            check("http://METADATA.google.internal./x")
                .unwrap_err()
                .rule(),
            "cloud_metadata"
        );
        assert_eq!(
            check("http://0.0.0.0:8000/").unwrap_err().rule(),
            "unspecified"
        );
        assert!(check("http://vllm.internal:8000/v1").is_ok());
        let open = EgressPolicy::default().allow_link_local(true);
        assert!(
            open.check_url(&Url::parse("http://169.254.169.254/").unwrap())
                .is_ok()
        );
    }
}
