//! Allow-lists: known-good peers whose alerts are suppressed (and counted).

use std::net::{IpAddr, ToSocketAddrs};
use std::path::Path;

use outflow::aggregate::Networks;

use crate::error::{Result, WatchError};

/// Networks (CIDR or single addresses) and host names; an alert about any address in them is dropped.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    networks: Vec<String>,
    names: Vec<String>,
    resolved: Networks,
    parsed: Networks,
}

impl AllowList {
    /// From `--allow` values (each a comma-separated list) and allow-list files (one entry per line,
    /// `#` comments). Host names are resolved now and on [`AllowList::resolve`].
    pub fn new(entries: &[String], files: &[impl AsRef<Path>]) -> Result<AllowList> {
        let mut list = AllowList::default();
        let mut add = |entry: &str, at: &str| -> Result<()> {
            let e = entry.trim();
            if e.is_empty() {
                return Ok(());
            }
            let looks_like_network = e.contains('/') || e.parse::<IpAddr>().is_ok() || e.contains(':');
            if looks_like_network {
                let cidr = if e.contains('/') {
                    e.to_owned()
                } else {
                    match e.parse::<IpAddr>() {
                        Ok(IpAddr::V4(_)) => format!("{e}/32"),
                        Ok(IpAddr::V6(_)) => format!("{e}/128"),
                        Err(_) => e.to_owned(),
                    }
                };
                cidr.parse::<Networks>()
                    .map_err(|err| WatchError::Param { name: "--allow", message: format!("{at}'{e}': {err}") })?;
                list.networks.push(cidr);
            } else if e.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_') {
                list.names.push(e.to_owned());
            } else {
                return Err(WatchError::Param {
                    name: "--allow",
                    message: format!("{at}'{e}' is neither an address, a network nor a host name"),
                });
            }
            Ok(())
        };
        for value in entries {
            for e in value.split(',') {
                add(e, "")?;
            }
        }
        for f in files {
            let f = f.as_ref();
            let text = std::fs::read_to_string(f)
                .map_err(|e| WatchError::Param { name: "--allow-file", message: format!("{}: {e}", f.display()) })?;
            for (i, line) in text.lines().enumerate() {
                let entry = line.split('#').next().unwrap_or("");
                add(entry, &format!("{}:{}: ", f.display(), i + 1))?;
            }
        }
        list.parsed = if list.networks.is_empty() {
            Networks::default()
        } else {
            list.networks.join(",").parse().expect("each network parsed above")
        };
        Ok(list)
    }

    /// True when nothing is allowed.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty() && self.names.is_empty()
    }

    /// Resolves the host names (at the start and on a reload); names that do not resolve are returned.
    pub fn resolve(&mut self) -> Vec<String> {
        let mut failed = Vec::new();
        let mut nets = Vec::new();
        for name in &self.names {
            match (name.as_str(), 0).to_socket_addrs() {
                Ok(addrs) => {
                    for a in addrs {
                        nets.push(match a.ip() {
                            IpAddr::V4(ip) => format!("{ip}/32"),
                            IpAddr::V6(ip) => format!("{ip}/128"),
                        });
                    }
                }
                Err(e) => failed.push(format!("{name}: {e}")),
            }
        }
        nets.sort();
        nets.dedup();
        self.resolved = if nets.is_empty() { Networks::default() } else { nets.join(",").parse().unwrap_or_default() };
        failed
    }

    /// Whether any of the addresses is allowed.
    pub fn allows(&self, addresses: &[String]) -> bool {
        addresses
            .iter()
            .filter_map(|a| a.parse::<IpAddr>().ok())
            .any(|ip| self.parsed.contains(ip) || self.resolved.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_addresses_and_names() {
        let none: [&str; 0] = [];
        let mut a = AllowList::new(&["10.0.0.0/8,192.0.2.7".into(), "localhost".into()], &none).unwrap();
        assert!(a.resolve().is_empty());
        assert!(a.allows(&["10.1.2.3".into()]));
        assert!(a.allows(&["203.0.113.1".into(), "192.0.2.7".into()]));
        assert!(!a.allows(&["192.0.2.8".into()]));
        assert!(a.allows(&["127.0.0.1".into()]));
        assert!(AllowList::new(&["10.0.0.0/33".into()], &none).is_err());
        assert!(AllowList::new(&["not a host!".into()], &none).is_err());
    }
}
