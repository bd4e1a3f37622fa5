//! The server's settings: each from a command-line flag, else its environment variable, else
//! its default.

use litmus_core::FieldPath;
use litmus_core::results::AnalysisSettings;
use std::path::PathBuf;
use std::time::Duration;

/// Every setting of `litmus-server`.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `--listen` / `LITMUS_LISTEN`: the address to listen on (`127.0.0.1:8080`).
    pub listen: String,
    /// `--data` / `LITMUS_DATA`: the embedded store's directory (`./litmus-data`).
    pub data: PathBuf,
    /// `--database-url` / `DATABASE_URL`: PostgreSQL instead of the embedded store.
    pub database_url: Option<String>,
    /// `--pg-pool` / `LITMUS_PG_POOL`: the most connections to PostgreSQL (16), besides the
    /// rollup worker's own.
    pub pg_pool: usize,
    /// `--redis-url` / `REDIS_URL`: Redis as the shared cache instead of in-process state.
    pub redis_url: Option<String>,
    /// `--redis-prefix` / `LITMUS_REDIS_PREFIX`: the prefix of Redis keys and channels
    /// (`litmus:`), so deployments can share a Redis.
    pub redis_prefix: String,
    /// `--sticky-ttl-days` / `LITMUS_STICKY_TTL_DAYS`: how long an unused sticky assignment
    /// is kept in Redis (90).
    pub sticky_ttl: Duration,
    /// `--admin-key` / `LITMUS_ADMIN_KEY`: the bootstrap admin key (random, and logged, when
    /// unset).
    pub admin_key: Option<String>,
    /// `--version-poll-ms` / `LITMUS_VERSION_POLL_MS`: how often the stored config version
    /// is re-read (500).
    pub version_poll: Duration,
    /// `--attribution-days` / `LITMUS_ATTRIBUTION_DAYS`: how long after a unit's first
    /// exposure its metric events count (30).
    pub attribution_window: Duration,
    /// `--ingest-permits` / `LITMUS_INGEST_PERMITS`: event batches stored at once (64).
    pub ingest_permits: usize,
    /// `--retention-days` / `LITMUS_RETENTION_DAYS`: how long raw events are kept (90; 0
    /// keeps them forever). The rollups are kept whatever this is.
    pub retention: Option<Duration>,
    /// `--bandit-interval-s` / `LITMUS_BANDIT_INTERVAL_S`: how often running bandits are
    /// reweighed from their rollups (60).
    pub bandit_interval: Duration,
    /// `--demo` / `LITMUS_DEMO=1`: create a sample A/B experiment and a bandit and simulate
    /// their traffic, so the dashboard is live at once.
    pub demo: bool,
    /// `--rollups on|off` / `LITMUS_ROLLUPS`: whether this instance applies stored events to
    /// the rollups (on). `off` makes an ingestion-only instance: it stores events and
    /// acknowledges them, and another instance on the same store applies them.
    pub rollups: bool,
    /// `--analysis JSON` / `LITMUS_ANALYSIS`: the default analysis settings of every
    /// experiment's results (an `analysis` object: `docs/results.md`); an experiment's own
    /// settings win over them.
    pub analysis: AnalysisSettings,
    /// `--public-url` / `LITMUS_PUBLIC_URL`: the dashboard's public base URL, for invitation
    /// links; https makes session cookies `Secure`.
    pub public_url: Option<String>,
    /// `--trust-proxy` / `LITMUS_TRUST_PROXY=1`: believe a proxy's `X-Forwarded-For` and
    /// `X-Forwarded-Proto` (only behind one that sets them).
    pub trust_proxy: bool,
    /// `LITMUS_ADMIN_EMAIL` and `LITMUS_ADMIN_PASSWORD`: the first admin, made at start while
    /// nobody exists (environment only, so the password is not on a command line).
    pub first_admin: Option<(String, String)>,
    /// `LITMUS_OIDC_ISSUER`, `LITMUS_OIDC_CLIENT_ID`, `LITMUS_OIDC_CLIENT_SECRET`,
    /// `LITMUS_OIDC_NAME`, `LITMUS_OIDC_DEFAULT_ROLE`, `LITMUS_OIDC_DOMAINS`: single sign-on
    /// (`crate::oidc`), on when the issuer is set.
    pub sso: Option<crate::oidc::OidcSettings>,
    /// `LITMUS_WEBHOOK_ALLOW_PRIVATE=1` and `LITMUS_WEBHOOK_ALLOW` (ranges): which non-public
    /// addresses webhook deliveries may reach (`crate::webhooks::outbound`).
    pub webhook_policy: crate::webhooks::outbound::Policy,
    /// `LITMUS_WEBHOOK_RETRY_SCALE`: what webhook retry delays are multiplied by (1; less only
    /// for drills and tests).
    pub webhook_retry_scale: f64,
}

/// The flags, their variables, and what they set.
pub const USAGE: &str = "usage: litmus-server [--flag value]...
  --listen ADDR            LITMUS_LISTEN            address to listen on (127.0.0.1:8080)
  --data DIR               LITMUS_DATA              embedded store directory (./litmus-data)
  --database-url URL       DATABASE_URL             PostgreSQL + TimescaleDB instead of the embedded store
  --pg-pool N              LITMUS_PG_POOL           PostgreSQL connections (16)
  --redis-url URL          REDIS_URL                Redis cache and pub/sub instead of in-process state
  --redis-prefix P         LITMUS_REDIS_PREFIX      prefix of Redis keys and channels (litmus:)
  --sticky-ttl-days N      LITMUS_STICKY_TTL_DAYS   days an unused sticky assignment is kept (90)
  --admin-key KEY          LITMUS_ADMIN_KEY         bootstrap admin key (random and logged when unset)
  --version-poll-ms N      LITMUS_VERSION_POLL_MS   how often the stored config version is re-read (500)
  --attribution-days N     LITMUS_ATTRIBUTION_DAYS  days after a unit's first exposure its metric events count (30)
  --ingest-permits N       LITMUS_INGEST_PERMITS    event batches stored at once; more wait, then get 429 (64)
  --retention-days N       LITMUS_RETENTION_DAYS    days raw events are kept, 0 for ever; rollups stay (90)
  --bandit-interval-s N    LITMUS_BANDIT_INTERVAL_S seconds between reweighings of running bandits (60)
  --rollups on|off         LITMUS_ROLLUPS           apply stored events to the rollups here (on; off: ingestion only)
  --analysis JSON          LITMUS_ANALYSIS          default analysis settings, e.g. '{\"alpha\": 0.1}' (core's defaults)
  --demo                   LITMUS_DEMO=1            sample experiments and simulated traffic, for a first look
  --public-url URL         LITMUS_PUBLIC_URL        the dashboard's public URL, for invitation links (https: Secure cookies)
  --trust-proxy            LITMUS_TRUST_PROXY=1     believe X-Forwarded-For/-Proto from a proxy in front
                           LITMUS_ADMIN_EMAIL, LITMUS_ADMIN_PASSWORD  the first admin (else a set-up link is logged)
                           LITMUS_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET, _NAME, _DEFAULT_ROLE, _DOMAINS  single sign-on
                           LITMUS_WEBHOOK_ALLOW_PRIVATE=1, LITMUS_WEBHOOK_ALLOW=CIDR,...  webhooks to non-public addresses
  RUST_LOG (info) sets the log filter.";

/// A setting that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SettingsError {
    /// A flag that does not exist, or a flag without its value.
    #[error("{0}\n{USAGE}")]
    Usage(String),
    /// A value that cannot be read.
    #[error("{name}: {value:?} is not {expected}")]
    Invalid {
        /// The flag or variable.
        name: String,
        /// What was given.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// Analysis settings that are not valid (the field's path and why).
    #[error("LITMUS_ANALYSIS: {0}")]
    Analysis(String),
}

/// Single sign-on's settings, when `LITMUS_OIDC_ISSUER` is set (checked).
fn oidc(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<crate::oidc::OidcSettings>, SettingsError> {
    let Some(issuer) = get("LITMUS_OIDC_ISSUER") else {
        return Ok(None);
    };
    let default_role = match get("LITMUS_OIDC_DEFAULT_ROLE") {
        None => None,
        Some(r) => Some(
            crate::people::Role::parse(&r).ok_or(SettingsError::Invalid {
                name: "LITMUS_OIDC_DEFAULT_ROLE".into(),
                value: r,
                expected: "viewer, editor or admin",
            })?,
        ),
    };
    let sso = crate::oidc::OidcSettings {
        issuer,
        client_id: get("LITMUS_OIDC_CLIENT_ID").unwrap_or_default(),
        client_secret: get("LITMUS_OIDC_CLIENT_SECRET").unwrap_or_default(),
        name: get("LITMUS_OIDC_NAME").unwrap_or_else(|| "SSO".into()),
        default_role,
        domains: get("LITMUS_OIDC_DOMAINS")
            .unwrap_or_default()
            .split(',')
            .map(|d| d.trim().to_lowercase())
            .filter(|d| !d.is_empty())
            .collect(),
    };
    sso.check().map_err(|why| SettingsError::Invalid {
        name: "LITMUS_OIDC_ISSUER".into(),
        value: sso.issuer.clone(),
        expected: if why.contains("CLIENT") {
            "set with LITMUS_OIDC_CLIENT_ID and LITMUS_OIDC_CLIENT_SECRET"
        } else {
            "an https issuer URL (http only on a loopback address)"
        },
    })?;
    Ok(Some(sso))
}

impl Settings {
    /// Reads `args` (without the program name) over `env` (a variable lookup).
    pub fn read(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, SettingsError> {
        const FLAGS: [(&str, &str); 16] = [
            ("--public-url", "LITMUS_PUBLIC_URL"),
            ("--analysis", "LITMUS_ANALYSIS"),
            ("--retention-days", "LITMUS_RETENTION_DAYS"),
            ("--attribution-days", "LITMUS_ATTRIBUTION_DAYS"),
            ("--ingest-permits", "LITMUS_INGEST_PERMITS"),
            ("--listen", "LITMUS_LISTEN"),
            ("--data", "LITMUS_DATA"),
            ("--database-url", "DATABASE_URL"),
            ("--pg-pool", "LITMUS_PG_POOL"),
            ("--redis-url", "REDIS_URL"),
            ("--redis-prefix", "LITMUS_REDIS_PREFIX"),
            ("--sticky-ttl-days", "LITMUS_STICKY_TTL_DAYS"),
            ("--admin-key", "LITMUS_ADMIN_KEY"),
            ("--version-poll-ms", "LITMUS_VERSION_POLL_MS"),
            ("--bandit-interval-s", "LITMUS_BANDIT_INTERVAL_S"),
            ("--rollups", "LITMUS_ROLLUPS"),
        ];
        let mut given: Vec<(&str, String)> = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--demo" {
                given.push(("LITMUS_DEMO", "1".to_owned()));
                continue;
            }
            if arg == "--trust-proxy" {
                given.push(("LITMUS_TRUST_PROXY", "1".to_owned()));
                continue;
            }
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f.to_owned(), Some(v.to_owned())),
                None => (arg.clone(), None),
            };
            let Some(&(_, var)) = FLAGS.iter().find(|(f, _)| *f == flag) else {
                return Err(SettingsError::Usage(format!("unknown argument {arg:?}")));
            };
            let value = match inline.or_else(|| args.next()) {
                Some(v) => v,
                None => return Err(SettingsError::Usage(format!("{flag} needs a value"))),
            };
            given.push((var, value));
        }
        let get = |var: &str| -> Option<String> {
            given
                .iter()
                .rev()
                .find(|(v, _)| *v == var)
                .map(|(_, value)| value.clone())
                .or_else(|| env(var))
                .filter(|v| !v.is_empty())
        };
        let number = |var: &str, default: u64| -> Result<u64, SettingsError> {
            match get(var) {
                None => Ok(default),
                Some(v) => v.parse().map_err(|_| SettingsError::Invalid {
                    name: var.to_owned(),
                    value: v,
                    expected: "a whole number",
                }),
            }
        };
        Ok(Settings {
            listen: get("LITMUS_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".into()),
            data: PathBuf::from(get("LITMUS_DATA").unwrap_or_else(|| "litmus-data".into())),
            database_url: get("DATABASE_URL"),
            pg_pool: usize::try_from(number("LITMUS_PG_POOL", 16)?).unwrap_or(16),
            redis_url: get("REDIS_URL"),
            redis_prefix: get("LITMUS_REDIS_PREFIX").unwrap_or_else(|| "litmus:".into()),
            sticky_ttl: Duration::from_secs(number("LITMUS_STICKY_TTL_DAYS", 90)? * 86_400),
            admin_key: get("LITMUS_ADMIN_KEY"),
            version_poll: Duration::from_millis(number("LITMUS_VERSION_POLL_MS", 500)?.max(10)),
            attribution_window: Duration::from_secs(
                number("LITMUS_ATTRIBUTION_DAYS", 30)? * 86_400,
            ),
            ingest_permits: usize::try_from(number("LITMUS_INGEST_PERMITS", 64)?.max(1))
                .unwrap_or(64),
            retention: match number("LITMUS_RETENTION_DAYS", 90)? {
                0 => None,
                days => Some(Duration::from_secs(days * 86_400)),
            },
            bandit_interval: Duration::from_secs(number("LITMUS_BANDIT_INTERVAL_S", 60)?.max(1)),
            rollups: match get("LITMUS_ROLLUPS").as_deref() {
                None | Some("on" | "1" | "true") => true,
                Some("off" | "0" | "false") => false,
                Some(other) => {
                    return Err(SettingsError::Invalid {
                        name: "LITMUS_ROLLUPS".into(),
                        value: other.into(),
                        expected: "on or off",
                    });
                }
            },
            public_url: match get("LITMUS_PUBLIC_URL") {
                Some(url) if !(url.starts_with("http://") || url.starts_with("https://")) => {
                    return Err(SettingsError::Invalid {
                        name: "LITMUS_PUBLIC_URL".into(),
                        value: url,
                        expected: "an http:// or https:// URL",
                    });
                }
                url => url.map(|u| u.trim_end_matches('/').to_owned()),
            },
            trust_proxy: matches!(get("LITMUS_TRUST_PROXY").as_deref(), Some("1" | "true")),
            first_admin: match (get("LITMUS_ADMIN_EMAIL"), get("LITMUS_ADMIN_PASSWORD")) {
                (Some(email), Some(password)) => Some((email, password)),
                (None, None) => None,
                _ => {
                    return Err(SettingsError::Invalid {
                        name: "LITMUS_ADMIN_EMAIL".into(),
                        value: String::new(),
                        expected: "set together with LITMUS_ADMIN_PASSWORD",
                    });
                }
            },
            sso: oidc(&get)?,
            webhook_policy: crate::webhooks::outbound::Policy {
                allow_private: matches!(
                    get("LITMUS_WEBHOOK_ALLOW_PRIVATE").as_deref(),
                    Some("1" | "true")
                ),
                allowed: match get("LITMUS_WEBHOOK_ALLOW") {
                    None => Vec::new(),
                    Some(list) => crate::webhooks::outbound::Policy::ranges(&list).ok_or(
                        SettingsError::Invalid {
                            name: "LITMUS_WEBHOOK_ALLOW".into(),
                            value: list,
                            expected: "comma-separated addresses or CIDR ranges",
                        },
                    )?,
                },
            },
            webhook_retry_scale: match get("LITMUS_WEBHOOK_RETRY_SCALE") {
                None => 1.0,
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| (0.0..=1.0).contains(x))
                    .ok_or(SettingsError::Invalid {
                        name: "LITMUS_WEBHOOK_RETRY_SCALE".into(),
                        value: v,
                        expected: "a number from 0 to 1",
                    })?,
            },
            analysis: match get("LITMUS_ANALYSIS") {
                None => AnalysisSettings::default(),
                Some(text) => analysis(&text)?,
            },
            demo: match get("LITMUS_DEMO").as_deref() {
                None | Some("0" | "false") => false,
                Some("1" | "true") => true,
                Some(other) => {
                    return Err(SettingsError::Invalid {
                        name: "LITMUS_DEMO".into(),
                        value: other.into(),
                        expected: "1 or 0",
                    });
                }
            },
        })
    }
}

/// Default analysis settings from JSON text, strictly: unknown fields are refused.
fn analysis(text: &str) -> Result<AnalysisSettings, SettingsError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| SettingsError::Analysis(e.to_string()))?;
    let settings = AnalysisSettings::decode(&value, &FieldPath::root())
        .map_err(|e| SettingsError::Analysis(e.to_string()))?;
    if let Some(path) = settings.unknown.first() {
        return Err(SettingsError::Analysis(format!("{path}: unknown field")));
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn flags_win_over_the_environment_which_wins_over_defaults() {
        let env = |v: &str| match v {
            "LITMUS_LISTEN" => Some("0.0.0.0:1".to_owned()),
            "REDIS_URL" => Some("redis://env".to_owned()),
            _ => None,
        };
        let s = Settings::read(args(&["--redis-url", "redis://flag", "--pg-pool=4"]), env).unwrap();
        assert_eq!(s.listen, "0.0.0.0:1");
        assert_eq!(s.redis_url.as_deref(), Some("redis://flag"));
        assert_eq!(s.pg_pool, 4);
        assert_eq!(s.database_url, None);
        assert_eq!(s.data, PathBuf::from("litmus-data"));
        assert_eq!(s.sticky_ttl, Duration::from_secs(90 * 86_400));
        assert!(s.rollups, "an instance applies the rollups by default");
        let off = Settings::read(args(&["--rollups", "off"]), |_: &str| None).unwrap();
        assert!(!off.rollups);
        assert_eq!(
            Settings::read(args(&["--rollups=sometimes"]), |_: &str| None),
            Err(SettingsError::Invalid {
                name: "LITMUS_ROLLUPS".into(),
                value: "sometimes".into(),
                expected: "on or off"
            })
        );
    }

    #[test]
    fn bad_flags_and_values_are_named() {
        let none = |_: &str| None;
        assert!(matches!(
            Settings::read(args(&["--nope"]), none),
            Err(SettingsError::Usage(m)) if m.contains("--nope")
        ));
        assert!(matches!(
            Settings::read(args(&["--listen"]), none),
            Err(SettingsError::Usage(m)) if m.contains("needs a value")
        ));
        assert_eq!(
            Settings::read(args(&["--pg-pool", "many"]), none),
            Err(SettingsError::Invalid {
                name: "LITMUS_PG_POOL".into(),
                value: "many".into(),
                expected: "a whole number"
            })
        );
    }

    #[test]
    fn default_analysis_settings_are_read_strictly() {
        let env = |v: &str| (v == "LITMUS_ANALYSIS").then(|| r#"{"alpha": 0.1}"#.to_owned());
        let s = Settings::read(args(&[]), env).unwrap();
        assert_eq!(s.analysis.alpha, Some(0.1));
        let flag = Settings::read(args(&["--analysis", r#"{"correction": "none"}"#]), env).unwrap();
        assert_eq!(
            flag.analysis.alpha, None,
            "the flag's object replaces the variable's"
        );
        let none = |_: &str| None;
        for (text, says) in [
            (r#"{"alpha": 0.9}"#, "alpha"),
            (r#"{"alhpa": 0.1}"#, "alhpa: unknown field"),
            ("{", "EOF"),
        ] {
            match Settings::read(args(&["--analysis", text]), none) {
                Err(SettingsError::Analysis(m)) => assert!(m.contains(says), "{m}"),
                other => panic!("{text}: {other:?}"),
            }
        }
    }
}
