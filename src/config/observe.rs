//! The settings for watching a board: `log.format` and `metrics.*`.

use std::fmt;
use std::net::IpAddr;

use super::{ConfigError, Raw};

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// For people (and journald): `2026-11-27T09:00:00Z INFO request{…}: message k=v`.
    Text,
    /// One JSON object a line, for log collectors.
    Json,
}

/// Who may read `/metrics` (and the details of `/healthz`).
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// `false`: `/metrics` answers 404.
    pub enabled: bool,
    /// Client addresses allowed; any other is refused (403).
    pub allow: Vec<IpNet>,
    /// When set, a request must also carry `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

/// An address block: `10.0.0.0/8`, `::1` (a single address), `0.0.0.0/0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// Parses `ADDR` or `ADDR/PREFIX`; host bits after the prefix are ignored
    /// (`127.0.0.1/8` is `127.0.0.0/8`).
    pub fn parse(s: &str) -> Option<IpNet> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.trim(), Some(p.trim())),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let addr = addr.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(IpNet { addr, prefix })
    }

    /// Whether `ip` is in the block (an IPv4-mapped IPv6 address counts as
    /// the IPv4 address it holds).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// The shortest `metrics.token` taken: a guessable token protects nothing.
const MIN_TOKEN: usize = 16;

impl Raw {
    pub(super) fn log_format(&self) -> Result<LogFormat, ConfigError> {
        match self.get("log.format").trim() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(self.err("log.format", "must be text or json")),
        }
    }

    pub(super) fn metrics(&self) -> Result<MetricsConfig, ConfigError> {
        let mut allow = Vec::new();
        for entry in self.get("metrics.allow").split(',') {
            if entry.trim().is_empty() {
                continue;
            }
            let net = IpNet::parse(entry).ok_or_else(|| {
                self.err(
                    "metrics.allow",
                    &format!(
                        "must list IP addresses or CIDR blocks (like 127.0.0.1/8, ::1, \
                         10.0.0.0/8) separated by commas; {:?} is neither",
                        entry.trim()
                    ),
                )
            })?;
            allow.push(net);
        }
        let token = self.opt("metrics.token");
        if token
            .as_ref()
            .is_some_and(|t| t.chars().count() < MIN_TOKEN)
        {
            return Err(self.err(
                "metrics.token",
                &format!("must be at least {MIN_TOKEN} characters (try `openssl rand -hex 32`)"),
            ));
        }
        Ok(MetricsConfig {
            enabled: self.boolean("metrics.enabled")?,
            allow,
            token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let lo = IpNet::parse("127.0.0.1/8").expect("v4");
        assert!(lo.contains(ip("127.0.0.1")));
        assert!(lo.contains(ip("127.255.0.9")));
        assert!(lo.contains(ip("::ffff:127.0.0.1")));
        assert!(!lo.contains(ip("128.0.0.1")));
        assert!(!lo.contains(ip("::1")));
        let one = IpNet::parse("::1").expect("v6");
        assert!(one.contains(ip("::1")));
        assert!(!one.contains(ip("::2")));
        let net = IpNet::parse(" 2001:db8::/32 ").expect("v6 block");
        assert!(net.contains(ip("2001:db8:ffff::1")));
        assert!(!net.contains(ip("2001:db9::1")));
        let all = IpNet::parse("0.0.0.0/0").expect("all v4");
        assert!(all.contains(ip("203.0.113.9")));
        assert!(!all.contains(ip("2001:db8::1")));
        assert!(
            IpNet::parse("::/0")
                .expect("all v6")
                .contains(ip("2001:db8::1"))
        );
        assert_eq!(
            IpNet::parse("10.1.2.3").expect("host").to_string(),
            "10.1.2.3/32"
        );
    }

    #[test]
    fn nonsense_is_refused() {
        for s in [
            "",
            "10.0.0.0/33",
            "::/129",
            "localhost",
            "10.0.0/8",
            "1.2.3.4/x",
        ] {
            assert!(IpNet::parse(s).is_none(), "{s:?}");
        }
    }
}
