//! Address ranges: which hosts are inside the monitored network.
//!
//! A CIDR list is a few lines of standard-library code (`IpAddr` bits and a prefix); a dependency would
//! add nothing.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::AggregateError;

/// One network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Whether `ip` is in the network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                masked(u32::from(n) as u128, 32, self.prefix) == masked(u32::from(a) as u128, 32, self.prefix)
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                masked(u128::from(n), 128, self.prefix) == masked(u128::from(a), 128, self.prefix)
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn masked(bits: u128, width: u32, prefix: u8) -> u128 {
    if prefix == 0 { 0 } else { bits >> (width - prefix as u32) }
}

impl FromStr for Network {
    type Err = AggregateError;

    /// `10.0.0.0/8`, `fd00::/8`, or one address (a /32 or /128).
    fn from_str(text: &str) -> Result<Self, AggregateError> {
        let err = |reason: &str| AggregateError::Network { text: text.to_owned(), reason: reason.to_owned() };
        let s = text.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| err("not an IPv4 or IPv6 address"))?;
        let addr = canonical(addr);
        let width = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= width)
                .ok_or_else(|| err(&format!("the prefix length must be a whole number from 0 to {width}")))?,
        };
        Ok(Network { addr, prefix })
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A list of networks: the inside of the monitored network.
///
/// ```
/// use outflow_aggregate::Networks;
/// let inside: Networks = "10.0.0.0/8, 192.168.1.0/24".parse().unwrap();
/// assert!(inside.contains_str("10.1.2.3"));
/// assert!(!inside.contains_str("8.8.8.8"));
/// assert!(Networks::private().contains_str("fd2d:ab8c:225::1"));
/// assert!("10.0.0.0/33".parse::<Networks>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Networks(Vec<Network>);

impl Networks {
    /// The private, shared, loopback and link-local ranges (RFC 1918, RFC 6598, RFC 4193, ...): the inside of
    /// a network that says nothing else.
    pub fn private() -> Networks {
        let list = [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "fc00::/7",
            "fe80::/10",
            "::1/128",
        ];
        Networks(list.iter().map(|n| n.parse().expect("valid built-in network")).collect())
    }

    /// The networks.
    pub fn networks(&self) -> &[Network] {
        &self.0
    }

    /// Whether an address is in one of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// Whether an address text is in one of the networks (false when it is not an address).
    pub fn contains_str(&self, ip: &str) -> bool {
        ip.trim().parse().is_ok_and(|ip| self.contains(ip))
    }
}

impl FromStr for Networks {
    type Err = AggregateError;

    /// Comma-separated networks.
    fn from_str(text: &str) -> Result<Self, AggregateError> {
        let list: Vec<Network> =
            text.split(',').filter(|s| !s.trim().is_empty()).map(str::parse).collect::<Result<_, _>>()?;
        if list.is_empty() {
            return Err(AggregateError::Network { text: text.to_owned(), reason: "no network given".into() });
        }
        Ok(Networks(list))
    }
}

impl FromIterator<Network> for Networks {
    fn from_iter<I: IntoIterator<Item = Network>>(iter: I) -> Self {
        Networks(iter.into_iter().collect())
    }
}

impl fmt::Display for Networks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(Network::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

impl Serialize for Networks {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(Network::to_string))
    }
}

impl<'de> Deserialize<'de> for Networks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = Vec::<String>::deserialize(d)?;
        list.iter().map(|s| s.parse().map_err(serde::de::Error::custom)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership() {
        let n: Networks = "10.0.0.0/8,192.168.1.7,2001:db8::/32,0.0.0.0/0".parse().unwrap();
        assert!(n.contains_str("10.255.0.1"));
        assert!(n.contains_str("::ffff:10.0.0.1"));
        assert!(n.contains_str("2001:db8:1::5"));
        let only_v4: Networks = "192.168.1.7".parse().unwrap();
        assert!(only_v4.contains_str("192.168.1.7"));
        assert!(!only_v4.contains_str("192.168.1.8"));
        assert!(!only_v4.contains_str("not an address"));
        let all_v6: Networks = "::/0".parse().unwrap();
        assert!(all_v6.contains_str("fe80::1"));
        assert!(!all_v6.contains_str("1.2.3.4"));
    }

    #[test]
    fn errors_name_the_network() {
        for bad in ["10.0.0.0/33", "fd00::/129", "10.0.0/8", "x", "10.0.0.0/-1", ","] {
            let e = bad.parse::<Networks>().unwrap_err();
            assert!(e.to_string().contains("internal network"), "{e}");
        }
    }

    #[test]
    fn serde_round_trip() {
        let n: Networks = "10.0.0.0/8,fd00::/8".parse().unwrap();
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, r#"["10.0.0.0/8","fd00::/8"]"#);
        assert_eq!(serde_json::from_str::<Networks>(&json).unwrap(), n);
    }
}
