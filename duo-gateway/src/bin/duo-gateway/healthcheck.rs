//! `duo-gateway healthcheck`: asks the running gateway's `/monitoring/healthz`, for a container's
//! HEALTHCHECK (the runtime image has no curl), over TLS when the listener serves TLS. Exit 0:
//! healthy; 1: not.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::ExitCode;
use std::time::Duration;

use duo_gateway::Config;

/// The whole probe may take this long.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Probes the API listener `config` names: its address, or loopback when it listens on all
/// addresses.
pub(crate) fn run(config: &Config) -> ExitCode {
    let host = match config.fastapi.api_host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        Ok(IpAddr::V6(ip)) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        Ok(ip) => ip,
        Err(_) => {
            eprintln!(
                "duo-gateway: healthcheck: fastapi.api_host '{}' is not an IP address",
                config.fastapi.api_host
            );
            return ExitCode::FAILURE;
        }
    };
    let scheme = if config.fastapi.tls.enabled {
        "https"
    } else {
        "http"
    };
    let url = format!(
        "{scheme}://{}/monitoring/healthz",
        std::net::SocketAddr::new(host, config.fastapi.api_port)
    );
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("duo-gateway: healthcheck: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The client's connector needs the runtime it will run on.
    let _runtime = runtime.enter();
    // Through the HTTP layer every other connection uses (the egress policy, no redirects), with
    // the default settings: a probe of the gateway's own listener needs no operator CA, pool or
    // proxy. Over TLS the certificate is not verified: it names the gateway's public host, not
    // the loopback address asked here, and the probe sends nothing secret.
    let settings = duo_providers::HttpSettings {
        verify_server_certificates: false,
        ..duo_providers::HttpSettings::default()
    };
    let client = match duo_providers::HttpClient::new(
        &settings,
        TIMEOUT,
        &duo_providers::EgressPolicy::default(),
    ) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("duo-gateway: healthcheck: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(client.inner().get(&url).timeout(TIMEOUT).send());
    match result {
        Ok(res) if res.status().is_success() => {
            println!("{url}: {}", res.status());
            ExitCode::SUCCESS
        }
        Ok(res) => {
            eprintln!("duo-gateway: healthcheck: {url}: {}", res.status());
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("duo-gateway: healthcheck: {url}: {e}");
            ExitCode::FAILURE
        }
    }
}
