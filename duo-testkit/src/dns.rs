//! [`StaticResolver`]: a DNS resolver whose answers the test chooses, for testing what a client
//! does when a host name resolves to a metadata, link-local or loopback address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves the names it was given to their addresses, and every other name to an error.
/// Counts lookups, so a test can tell whether a client asked at all.
#[derive(Clone, Default)]
pub struct StaticResolver {
    answers: Arc<Mutex<HashMap<String, Vec<IpAddr>>>>,
    lookups: Arc<Mutex<Vec<String>>>,
}

impl StaticResolver {
    /// An empty resolver (every lookup fails).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `name` resolve to `addrs` (in that order).
    #[must_use]
    pub fn with(self, name: &str, addrs: &[IpAddr]) -> Self {
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name.to_ascii_lowercase(), addrs.to_vec());
        self
    }

    /// The names looked up so far, in order.
    #[must_use]
    pub fn lookups(&self) -> Vec<String> {
        self.lookups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// This resolver as reqwest takes it.
    #[must_use]
    pub fn shared(&self) -> Arc<dyn Resolve> {
        Arc::new(self.clone())
    }
}

impl Resolve for StaticResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        self.lookups
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(host.clone());
        let found = self
            .answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&host)
            .cloned();
        Box::pin(async move {
            match found {
                Some(ips) => {
                    let addrs: Vec<SocketAddr> =
                        ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect();
                    Ok(Box::new(addrs.into_iter()) as Addrs)
                }
                None => Err(format!("no such host: {host}").into()),
            }
        })
    }
}
