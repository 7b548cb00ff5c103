//! Which `Host`s the emulator answers (the defence against DNS rebinding): loopback names and
//! addresses, the address it listens on, and the names configured with `allowed_hosts`.
//!
//! A page on `http://evil.example:PORT` whose name the attacker re-points at `127.0.0.1` reaches the
//! emulator as a same-origin page; only the `Host` header, which still names `evil.example`, tells
//! it apart. So every request whose `Host` is not one of these gets 403 `host_not_allowed`.

use std::net::IpAddr;

/// The `Host`s the emulator answers besides loopback ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSettings {
    /// Configured names and addresses (lower case, no port, no trailing dot).
    pub names: Vec<String>,
    /// The address the emulator listens on, when it is a specific one (not `0.0.0.0` or `::`).
    pub listen_ip: Option<IpAddr>,
}

impl HostSettings {
    /// The settings for `names` (checked: host names or IP addresses, without scheme, port or path)
    /// and the listen address `listen_ip`.
    pub fn new(names: &[String], listen_ip: IpAddr) -> Result<Self, String> {
        let mut checked = Vec::new();
        for name in names {
            let host = parse_host(name)
                .filter(|(_, port)| port.is_none())
                .ok_or_else(|| format!("allowed_hosts: {name:?} is not a host name or IP address (no scheme, port or path)"))?;
            checked.push(host.0);
        }
        Ok(Self {
            names: checked,
            listen_ip: (!listen_ip.is_unspecified()).then_some(listen_ip),
        })
    }

    /// Whether a request with this `Host` (`name[:port]`, `[v6]:port`) is answered: a loopback name
    /// (`localhost`, `*.localhost`) or address, the listen address, or a configured name.
    pub fn allows(&self, host: &str) -> bool {
        let Some((name, _port)) = parse_host(host) else {
            return false;
        };
        if name == "localhost" || name.ends_with(".localhost") {
            return true;
        }
        if let Ok(ip) = name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            if ip.is_loopback() || Some(ip) == self.listen_ip {
                return true;
            }
        }
        self.names.contains(&name)
    }
}

/// Splits `name[:port]` (or `[v6][:port]`) into the lower-cased name (brackets kept, trailing dot
/// dropped) and the port; `None` when it is not a host (a path, credentials, an empty name).
fn parse_host(text: &str) -> Option<(String, Option<u16>)> {
    let authority: ::http::uri::Authority = text.trim().parse().ok()?;
    if authority.as_str().contains('@') {
        return None;
    }
    let name = authority.host().trim_end_matches('.').to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    Some((name, authority.port_u16()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(names: &[&str]) -> HostSettings {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        HostSettings::new(&names, "127.0.0.1".parse().unwrap()).unwrap()
    }

    #[test]
    fn loopback_hosts_are_allowed_on_any_port() {
        let hosts = settings(&[]);
        for host in [
            "localhost",
            "localhost:8787",
            "LOCALHOST:1",
            "localhost.:8787",
            "app.localhost:3000",
            "127.0.0.1",
            "127.0.0.1:8787",
            "127.1.2.3:80",
            "[::1]",
            "[::1]:8787",
        ] {
            assert!(hosts.allows(host), "{host}");
        }
    }

    #[test]
    fn other_names_are_refused_unless_configured() {
        let hosts = settings(&[]);
        for host in [
            "evil.example",
            "evil.example:8787",
            "localhost.evil.example:8787",
            "127.0.0.1.evil.example",
            "10.0.0.1:8787",
            "",
            "user@localhost:8787",
            "localhost/path",
            "[::2]:8787",
        ] {
            assert!(!hosts.allows(host), "{host}");
        }
        let hosts = settings(&["Emulator.Internal", "10.0.0.1"]);
        assert!(hosts.allows("emulator.internal:8787"));
        assert!(hosts.allows("EMULATOR.internal"));
        assert!(hosts.allows("10.0.0.1:8787"));
        assert!(!hosts.allows("evil.example"));
    }

    #[test]
    fn the_listen_address_is_allowed_and_names_are_checked() {
        let names = Vec::new();
        let bound = HostSettings::new(&names, "192.168.1.5".parse().unwrap()).unwrap();
        assert!(bound.allows("192.168.1.5:8787"));
        let any = HostSettings::new(&names, "0.0.0.0".parse().unwrap()).unwrap();
        assert!(!any.allows("0.0.0.0:8787"));
        for bad in ["http://x.example", "x.example:80", "x.example/path", ""] {
            assert!(
                HostSettings::new(&[bad.to_owned()], "127.0.0.1".parse().unwrap()).is_err(),
                "{bad}"
            );
        }
    }
}
