//! Which proxy a request goes through. The environment's proxy variables are read as
//! reqwest reads them (`HTTPS_PROXY`/`https_proxy` for https, `HTTP_PROXY`/`http_proxy` for
//! http, `ALL_PROXY`/`all_proxy` for either, `NO_PROXY`/`no_proxy`, nothing in a CGI
//! environment), with one rule reqwest lacks: a loopback destination (127.0.0.0/8, ::1,
//! `localhost`) never goes through a proxy. Plain http is allowed only there, so a proxy
//! would otherwise see the bearer token, the client secret and every seed in clear.
//!
//! One decision, [`ProxyEnv::proxy_for`], serves both the HTTP client (as reqwest's proxy
//! predicate) and `doctor`'s report, which never shows the proxy's credentials.

use std::fmt;
use std::net::IpAddr;
use url::Url;

/// A proxy chosen for a destination: its URL (credentials included, for reqwest only) and
/// the variable that named it.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyChoice {
    pub url: Url,
    pub variable: &'static str,
}

impl ProxyChoice {
    /// The proxy's scheme, host and port: never its user name or password.
    pub fn shown(&self) -> String {
        let host = self.url.host_str().unwrap_or("?");
        match self.url.port_or_known_default() {
            Some(port) => format!("{}://{host}:{port}", self.url.scheme()),
            None => format!("{}://{host}", self.url.scheme()),
        }
    }
}

impl fmt::Debug for ProxyChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.shown(), self.variable)
    }
}

/// What a proxy variable held.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Setting {
    Proxy(ProxyChoice),
    /// Set, but not a proxy URL reqwest could use (ignored, as reqwest ignores it).
    Unusable(&'static str),
}

/// The proxy variables of one environment.
#[derive(Clone, Debug, Default)]
pub struct ProxyEnv {
    http: Option<Setting>,
    https: Option<Setting>,
    all: Option<Setting>,
    no: Vec<String>,
}

impl ProxyEnv {
    /// This process's environment.
    pub fn from_env() -> ProxyEnv {
        ProxyEnv::from_lookup(|name| std::env::var(name).ok())
    }

    /// No proxy at all (the in-process simulator).
    pub fn direct() -> ProxyEnv {
        ProxyEnv::default()
    }

    /// Any environment: `get` answers a variable's value.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> ProxyEnv {
        // As reqwest (hyper-util): behind CGI, `HTTP_PROXY` may be a request header; all
        // proxy variables are ignored there.
        if get("REQUEST_METHOD").is_some() {
            return ProxyEnv::default();
        }
        let first = |names: [&'static str; 2]| {
            names.iter().find_map(|n| get(n).map(|v| (*n, v))).filter(|(_, v)| !v.trim().is_empty())
        };
        let setting = |names| first(names).map(|(variable, value)| parse_proxy(variable, &value));
        let no = first(["NO_PROXY", "no_proxy"])
            .map(|(_, v)| v.split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        ProxyEnv {
            http: setting(["HTTP_PROXY", "http_proxy"]),
            https: setting(["HTTPS_PROXY", "https_proxy"]),
            all: setting(["ALL_PROXY", "all_proxy"]),
            no,
        }
    }

    /// Whether any proxy variable is set (usable or not).
    pub fn any(&self) -> bool {
        self.http.is_some() || self.https.is_some() || self.all.is_some()
    }

    /// The proxy a request to `url` goes through: none for a loopback host, whatever the
    /// variables say, and none for a host `NO_PROXY` names.
    pub fn proxy_for(&self, url: &Url) -> Option<ProxyChoice> {
        match self.setting_for(url)? {
            Setting::Proxy(p) => Some(p.clone()),
            Setting::Unusable(_) => None,
        }
    }

    fn setting_for(&self, url: &Url) -> Option<&Setting> {
        if is_loopback(url) || self.excluded(url) {
            return None;
        }
        let specific = match url.scheme() {
            "http" => self.http.as_ref(),
            "https" => self.https.as_ref(),
            _ => return None,
        };
        specific.or(self.all.as_ref())
    }

    /// One sentence for `doctor`: which proxy `url` goes through, and why (no credentials).
    pub fn describe(&self, url: &Url) -> String {
        let origin = url.origin().ascii_serialization();
        if is_loopback(url) {
            let set = if self.any() { " (the proxy variables are ignored for loopback hosts)" } else { "" };
            return format!("{origin}: direct, never through a proxy{set}");
        }
        if self.excluded(url) {
            return format!("{origin}: direct (NO_PROXY names this host)");
        }
        match self.setting_for(url) {
            Some(Setting::Proxy(p)) => format!("{origin}: through the proxy {} (from {})", p.shown(), p.variable),
            Some(Setting::Unusable(variable)) => {
                format!(
                    "{origin}: direct; {variable} is set but is not a proxy URL (http://host:port), so it is ignored"
                )
            }
            None => format!("{origin}: direct (no proxy variable applies)"),
        }
    }

    /// `NO_PROXY`, as curl and reqwest read it: `*`, IP addresses and networks
    /// (`10.0.0.0/8`), and domains matching themselves and their subdomains.
    fn excluded(&self, url: &Url) -> bool {
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            _ => None,
        };
        let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        self.no.iter().any(|entry| {
            if entry == "*" {
                return true;
            }
            if let Some(ip) = ip {
                return ip_matches(entry, ip);
            }
            let domain = entry.trim_start_matches('.');
            host.eq_ignore_ascii_case(domain)
                || (host.len() > domain.len()
                    && host.is_char_boundary(host.len() - domain.len() - 1)
                    && host[host.len() - domain.len() - 1..].eq_ignore_ascii_case(&format!(".{domain}")))
        })
    }
}

fn ip_matches(entry: &str, ip: IpAddr) -> bool {
    let (addr, bits) = match entry.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()),
        None => (entry, None),
    };
    let Ok(net) = addr.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else { return false };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// A proxy variable's value as reqwest reads it: a URL, `http://` assumed without a scheme.
fn parse_proxy(variable: &'static str, value: &str) -> Setting {
    let value = value.trim();
    let text = if value.contains("://") { value.to_string() } else { format!("http://{value}") };
    match Url::parse(&text) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https" | "socks4" | "socks4a" | "socks5" | "socks5h")
                && url.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            Setting::Proxy(ProxyChoice { url, variable })
        }
        _ => Setting::Unusable(variable),
    }
}

/// A loopback host: 127.0.0.0/8, ::1 (also as `::ffff:127.x.y.z`), `localhost` and its
/// subdomains (RFC 6761).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.');
            d.eq_ignore_ascii_case("localhost")
                || (d.len() > 10
                    && d.is_char_boundary(d.len() - 10)
                    && d[d.len() - 10..].eq_ignore_ascii_case(".localhost"))
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> ProxyEnv {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ProxyEnv::from_lookup(|k| map.get(k).cloned())
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn loopback_traffic_never_goes_through_a_proxy() {
        let e = env(&[
            ("http_proxy", "http://u:p@127.0.0.2:3128"),
            ("HTTP_PROXY", "http://u:p@127.0.0.2:3128"),
            ("HTTPS_PROXY", "http://u:p@127.0.0.2:3128"),
            ("ALL_PROXY", "http://u:p@127.0.0.2:3128"),
            ("all_proxy", "socks5://127.0.0.2:1080"),
        ]);
        for u in [
            "http://127.0.0.1:8080/beta",
            "http://127.9.9.9/x",
            "http://[::1]:8080/x",
            "http://[::ffff:127.0.0.1]:80/x",
            "http://localhost:1/x",
            "http://LOCALHOST./x",
            "http://sim.localhost:1/x",
            "https://127.0.0.1/x",
        ] {
            assert_eq!(e.proxy_for(&url(u)), None, "{u}");
            assert!(e.describe(&url(u)).contains("never through a proxy"), "{u}");
        }
        // Not loopback: the proxy stays.
        for u in ["http://127.0.0.1.example.com/x", "http://notlocalhost/x", "https://graph.microsoft.com/beta"] {
            assert!(e.proxy_for(&url(u)).is_some(), "{u}");
        }
    }

    #[test]
    fn a_proxy_for_real_https_traffic_is_honoured_and_shown_without_credentials() {
        let e = env(&[("HTTPS_PROXY", "http://alice:s3cr%40t@proxy.corp:3128"), ("ALL_PROXY", "other:1")]);
        let g = url("https://graph.microsoft.com/beta");
        let p = e.proxy_for(&g).unwrap();
        assert_eq!(p.variable, "HTTPS_PROXY");
        assert_eq!(p.url.username(), "alice", "reqwest gets the credentials");
        let said = e.describe(&g);
        assert!(said.contains("http://proxy.corp:3128") && said.contains("HTTPS_PROXY"), "{said}");
        assert!(!said.contains("alice") && !said.contains("s3cr"), "no credentials: {said}");
        assert!(!format!("{p:?}").contains("s3cr"));
        // ALL_PROXY covers what the specific variables do not; no scheme means http.
        let e = env(&[("all_proxy", "proxy.corp:8080")]);
        assert_eq!(e.proxy_for(&g).unwrap().shown(), "http://proxy.corp:8080");
        // Lowercase names too, uppercase first.
        let e = env(&[("https_proxy", "http://low:1"), ("HTTPS_PROXY", "http://up:2")]);
        assert_eq!(e.proxy_for(&g).unwrap().shown(), "http://up:2");
        // Behind CGI, none of them.
        let e = env(&[("HTTPS_PROXY", "http://up:2"), ("REQUEST_METHOD", "GET")]);
        assert_eq!(e.proxy_for(&g), None);
    }

    #[test]
    fn no_proxy_names_hosts_domains_and_networks() {
        let e = env(&[("HTTPS_PROXY", "http://proxy:3128"), ("no_proxy", ".microsoft.com, 10.0.0.0/8,192.168.1.5")]);
        assert_eq!(e.proxy_for(&url("https://graph.microsoft.com/")), None);
        assert_eq!(e.proxy_for(&url("https://microsoft.com/")), None);
        assert!(e.proxy_for(&url("https://notmicrosoft.com/")).is_some());
        assert_eq!(e.proxy_for(&url("https://10.2.3.4/")), None);
        assert_eq!(e.proxy_for(&url("https://192.168.1.5/")), None);
        assert!(e.proxy_for(&url("https://192.168.1.6/")).is_some());
        assert!(e.describe(&url("https://graph.microsoft.com/")).contains("NO_PROXY"));
        let e = env(&[("HTTPS_PROXY", "http://proxy:3128"), ("NO_PROXY", "*")]);
        assert_eq!(e.proxy_for(&url("https://graph.microsoft.com/")), None);
    }

    #[test]
    fn an_unusable_proxy_variable_is_named_not_used() {
        let e = env(&[("HTTPS_PROXY", "ftp://proxy:21")]);
        let g = url("https://graph.microsoft.com/beta");
        assert_eq!(e.proxy_for(&g), None);
        assert!(e.describe(&g).contains("HTTPS_PROXY is set but is not a proxy URL"));
        assert!(env(&[]).describe(&g).contains("direct (no proxy variable applies)"));
    }
}
