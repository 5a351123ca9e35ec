//! Configuration: built-in defaults < config file < `JOBBOARD_*` environment <
//! command-line flags. Every key has one environment variable (`site.name` →
//! `JOBBOARD_SITE_NAME`) and a `JOBBOARD_…_FILE` variant holding the path of a file
//! with the value (systemd credentials, Docker secrets).
//!
//! Loading goes through a flat table of keys ([`KEYS`]) so that every layer, the
//! validation messages and `check-config` speak of the same names.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod file;
mod observe;
use file::read_file;
pub use observe::{IpNet, LogFormat, MetricsConfig};

/// One configuration key: its name, its default and whether it is a secret.
struct KeyDef {
    name: &'static str,
    default: &'static str,
    secret: bool,
}

const fn key(name: &'static str, default: &'static str) -> KeyDef {
    KeyDef {
        name,
        default,
        secret: false,
    }
}

const fn secret(name: &'static str) -> KeyDef {
    KeyDef {
        name,
        default: "",
        secret: true,
    }
}

/// The default categories (SPEC §3), as display names.
pub const DEFAULT_CATEGORIES: &[&str] = &[
    "Software Development",
    "Design",
    "Product",
    "Data",
    "DevOps & Sysadmin",
    "Engineering",
    "Marketing",
    "Sales",
    "Customer Support",
    "Finance",
    "Human Resources",
    "Operations",
    "Writing",
    "Education",
    "Healthcare",
    "Legal",
    "Other",
];

/// Every key the board knows. An empty default means "unset".
const KEYS: &[KeyDef] = &[
    key("listen", "127.0.0.1:8080"),
    key("base_url", ""),
    key("data_dir", "./data"),
    key("db.checkpoint_on_exit", "true"),
    key("log.level", "info"),
    key("log.format", "text"),
    key("site.name", "Job Board"),
    key(
        "site.tagline",
        "Hand-picked jobs from teams that hire in the open.",
    ),
    key("site.categories", ""),
    key("posting.price_cents", "0"),
    key("posting.currency", "usd"),
    key("posting.featured_price_cents", "0"),
    key("posting.duration_days", "30"),
    key("posting.require_approval", "false"),
    key("posting.require_verified_email", "false"),
    secret("stripe.secret_key"),
    secret("stripe.webhook_secret"),
    key("stripe.api_base", "https://api.stripe.com"),
    key("mail.transport", "file"),
    secret("mail.smtp_url"),
    key("mail.from", "Job Board <noreply@localhost>"),
    key("limits.enabled", "true"),
    key("limits.login_per_account", "10/15m"),
    key("limits.login_per_ip", "30/1m"),
    key("limits.register_per_ip", "10/1h"),
    key("limits.reset_per_ip", "5/1h"),
    key("limits.post_per_ip", "20/1h"),
    key("limits.alerts_per_ip", "10/1h"),
    key("metrics.enabled", "true"),
    key("metrics.allow", "127.0.0.1/8, ::1"),
    secret("metrics.token"),
];

/// Where a value came from, for `check-config` and error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => write!(f, "default"),
            Source::File(p) => write!(f, "{}", p.display()),
            Source::Env(v) => write!(f, "{v}"),
            Source::Flag(v) => write!(f, "{v}"),
        }
    }
}

/// A configuration error naming the key and where its value came from.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {message}")]
pub struct ConfigError {
    pub message: String,
}

impl ConfigError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// What the layers above the defaults are: the command line and the environment.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// `--config FILE`: must exist when given. Without it, `jobboard.toml` in the
    /// working directory is read if present.
    pub config_file: Option<PathBuf>,
    /// The process environment (tests pass their own).
    pub env: BTreeMap<String, String>,
    /// Values from command-line flags, by key (`listen`, `data_dir`).
    pub flags: Vec<(&'static str, String)>,
}

impl Inputs {
    /// Inputs with the real process environment.
    pub fn from_process(config_file: Option<PathBuf>) -> Self {
        Self {
            config_file,
            env: std::env::vars().collect(),
            flags: Vec::new(),
        }
    }
}

/// A category offered on the board.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Category {
    pub slug: String,
    pub label: String,
}

/// A rate limit: at most `count` events per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub window: Duration,
}

/// How mail leaves the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTransport {
    File,
    Log,
    Smtp,
}

#[derive(Debug, Clone)]
pub struct SiteConfig {
    pub name: String,
    pub tagline: String,
    pub categories: Vec<Category>,
}

#[derive(Debug, Clone)]
pub struct PostingConfig {
    pub price_cents: u64,
    pub currency: String,
    pub featured_price_cents: u64,
    pub duration_days: u32,
    pub require_approval: bool,
    pub require_verified_email: bool,
}

#[derive(Debug, Clone)]
pub struct StripeConfig {
    pub secret_key: Option<String>,
    pub webhook_secret: Option<String>,
    pub api_base: String,
}

#[derive(Debug, Clone)]
pub struct MailConfig {
    pub transport: MailTransport,
    pub smtp_url: Option<String>,
    pub from: String,
}

#[derive(Debug, Clone)]
pub struct DbConfig {
    /// Fold the WAL into the database (PASSIVE checkpoint) when the board
    /// stops; `false` leaves it to a replicator (Litestream).
    pub checkpoint_on_exit: bool,
}

#[derive(Debug, Clone)]
pub struct LimitsConfig {
    pub enabled: bool,
    pub login_per_account: Rate,
    pub login_per_ip: Rate,
    pub register_per_ip: Rate,
    pub reset_per_ip: Rate,
    pub post_per_ip: Rate,
    pub alerts_per_ip: Rate,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Public URL without a trailing slash.
    pub base_url: String,
    pub data_dir: PathBuf,
    pub db: DbConfig,
    pub log_level: String,
    pub log_format: LogFormat,
    pub site: SiteConfig,
    pub posting: PostingConfig,
    pub stripe: StripeConfig,
    pub mail: MailConfig,
    pub limits: LimitsConfig,
    pub metrics: MetricsConfig,
    /// Each key's effective raw value and source, for `check-config`.
    effective: Vec<(&'static str, String, Source, bool)>,
}

impl Config {
    /// Loads and validates the configuration from every layer.
    pub fn load(inputs: &Inputs) -> Result<Config, ConfigError> {
        let raw = Raw::gather(inputs)?;
        raw.validate()
    }

    /// Defaults only, with the data dir set: for tests and tools.
    pub fn for_data_dir(data_dir: &Path) -> Config {
        let inputs = Inputs {
            flags: vec![("data_dir", data_dir.display().to_string())],
            ..Inputs::default()
        };
        #[allow(clippy::expect_used)]
        Config::load(&inputs).expect("the defaults are valid")
    }

    /// Whether paid posting through Stripe is on.
    pub fn stripe_enabled(&self) -> bool {
        self.stripe.secret_key.is_some() && self.stripe.webhook_secret.is_some()
    }

    /// The SQLite database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("jobboard.db")
    }

    /// The effective values, one `key = value  (source)` line each, secrets masked.
    pub fn describe(&self) -> String {
        let width = KEYS.iter().map(|k| k.name.len()).max().unwrap_or(0);
        let mut out = String::new();
        for (name, value, source, secret) in &self.effective {
            let shown = if *secret && !value.is_empty() {
                "********".to_string()
            } else if value.is_empty() {
                "(unset)".to_string()
            } else {
                value.clone()
            };
            out.push_str(&format!("{name:<width$} = {shown}  ({source})\n"));
        }
        out
    }
}

/// The raw string values, one per key, with their source.
struct Raw {
    values: BTreeMap<&'static str, (String, Source)>,
}

impl Raw {
    fn gather(inputs: &Inputs) -> Result<Raw, ConfigError> {
        let mut values: BTreeMap<&'static str, (String, Source)> = KEYS
            .iter()
            .map(|k| (k.name, (k.default.to_string(), Source::Default)))
            .collect();

        // The file.
        let file = match &inputs.config_file {
            Some(path) => Some(path.clone()),
            None => {
                let local = PathBuf::from("jobboard.toml");
                local.is_file().then_some(local)
            }
        };
        if let Some(path) = file {
            for (name, value) in read_file(&path)? {
                values.insert(name, (value, Source::File(path.clone())));
            }
        }

        // The environment: JOBBOARD_KEY, or JOBBOARD_KEY_FILE naming a file.
        for def in KEYS {
            let var = env_var(def.name);
            let file_var = format!("{var}_FILE");
            if let Some(value) = inputs.env.get(&var) {
                values.insert(def.name, (value.clone(), Source::Env(var)));
            } else if let Some(path) = inputs.env.get(&file_var) {
                let value = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError::new(format!(
                        "`{}`: cannot read {file_var}={path}: {e}",
                        def.name
                    ))
                })?;
                let value = value.trim_end_matches(['\n', '\r']).to_string();
                values.insert(def.name, (value, Source::Env(file_var)));
            }
        }

        // Flags.
        for (name, value) in &inputs.flags {
            let def = KEYS
                .iter()
                .find(|k| k.name == *name)
                .ok_or_else(|| ConfigError::new(format!("unknown flag key `{name}`")))?;
            values.insert(
                def.name,
                (
                    value.clone(),
                    Source::Flag(format!("--{}", name.replace('_', "-"))),
                ),
            );
        }
        Ok(Raw { values })
    }

    fn get(&self, name: &str) -> &str {
        self.values.get(name).map(|(v, _)| v.as_str()).unwrap_or("")
    }

    fn opt(&self, name: &str) -> Option<String> {
        let v = self.get(name).trim();
        (!v.is_empty()).then(|| v.to_string())
    }

    fn err(&self, name: &str, what: &str) -> ConfigError {
        let (value, source) = self
            .values
            .get(name)
            .cloned()
            .unwrap_or((String::new(), Source::Default));
        let secret = KEYS.iter().any(|k| k.name == name && k.secret);
        let shown = if secret { "********".into() } else { value };
        ConfigError::new(format!("`{name}` (from {source}) {what}, got {shown:?}"))
    }

    fn parse<T: std::str::FromStr>(&self, name: &str, what: &str) -> Result<T, ConfigError> {
        self.get(name)
            .trim()
            .parse()
            .map_err(|_| self.err(name, what))
    }

    fn boolean(&self, name: &str) -> Result<bool, ConfigError> {
        match self.get(name).trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(self.err(name, "must be true or false")),
        }
    }

    fn rate(&self, name: &str) -> Result<Rate, ConfigError> {
        parse_rate(self.get(name)).ok_or_else(|| {
            self.err(
                name,
                "must be COUNT/WINDOW with a window in s, m, h or d (e.g. 10/15m)",
            )
        })
    }

    fn validate(self) -> Result<Config, ConfigError> {
        let listen: SocketAddr =
            self.parse("listen", "must be a socket address like 127.0.0.1:8080")?;
        let base_url = match self.opt("base_url") {
            Some(url) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(self.err("base_url", "must start with http:// or https://"));
                }
                url.trim_end_matches('/').to_string()
            }
            None => format!("http://{listen}"),
        };
        let data_dir = PathBuf::from(self.get("data_dir"));
        if data_dir.as_os_str().is_empty() {
            return Err(self.err("data_dir", "must not be empty"));
        }
        let log_level = self.get("log.level").trim().to_string();
        if !["error", "warn", "info", "debug", "trace"].contains(&log_level.as_str()) {
            return Err(self.err(
                "log.level",
                "must be one of error, warn, info, debug, trace",
            ));
        }

        let name = self.get("site.name").trim().to_string();
        if name.is_empty() {
            return Err(self.err("site.name", "must not be empty"));
        }
        let labels: Vec<String> = match self.opt("site.categories") {
            Some(list) => list
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            None => DEFAULT_CATEGORIES.iter().map(|s| s.to_string()).collect(),
        };
        let mut categories: Vec<Category> = Vec::new();
        for label in labels {
            let slug = crate::slug::slugify(&label);
            if slug.is_empty() || categories.iter().any(|c| c.slug == slug) {
                return Err(self.err(
                    "site.categories",
                    &format!("has an empty or repeated category {label:?}"),
                ));
            }
            categories.push(Category { slug, label });
        }
        if categories.is_empty() {
            return Err(self.err("site.categories", "must name at least one category"));
        }

        let currency = self.get("posting.currency").trim().to_ascii_lowercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(self.err("posting.currency", "must be a three-letter ISO 4217 code"));
        }
        // Prices are in hundredths; Stripe counts these currencies in whole
        // units or thousandths, so a price would be charged 100 times off.
        const NOT_CENTS: &[&str] = &[
            "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
            "vuv", "xaf", "xof", "xpf", "bhd", "jod", "kwd", "omr", "tnd",
        ];
        if NOT_CENTS.contains(&currency.as_str()) {
            return Err(self.err(
                "posting.currency",
                "is not divided into cents, which prices here are counted in; not supported yet",
            ));
        }
        let posting = PostingConfig {
            price_cents: self
                .parse("posting.price_cents", "must be a whole number of cents ≥ 0")?,
            currency,
            featured_price_cents: self.parse(
                "posting.featured_price_cents",
                "must be a whole number of cents ≥ 0",
            )?,
            duration_days: self.parse("posting.duration_days", "must be a whole number of days")?,
            require_approval: self.boolean("posting.require_approval")?,
            require_verified_email: self.boolean("posting.require_verified_email")?,
        };
        if posting.duration_days == 0 || posting.duration_days > 365 {
            return Err(self.err("posting.duration_days", "must be between 1 and 365"));
        }

        let stripe = StripeConfig {
            secret_key: self.opt("stripe.secret_key"),
            webhook_secret: self.opt("stripe.webhook_secret"),
            api_base: self
                .get("stripe.api_base")
                .trim()
                .trim_end_matches('/')
                .to_string(),
        };
        match (&stripe.secret_key, &stripe.webhook_secret) {
            (Some(_), None) => {
                return Err(self.err(
                    "stripe.webhook_secret",
                    "must be set when stripe.secret_key is set",
                ));
            }
            (None, Some(_)) => {
                return Err(self.err(
                    "stripe.secret_key",
                    "must be set when stripe.webhook_secret is set",
                ));
            }
            _ => {}
        }
        let paid = posting.price_cents > 0 || posting.featured_price_cents > 0;
        if paid && stripe.secret_key.is_none() {
            let key = if posting.price_cents > 0 {
                "posting.price_cents"
            } else {
                "posting.featured_price_cents"
            };
            return Err(self.err(
                key,
                "is above 0, which needs stripe.secret_key and stripe.webhook_secret",
            ));
        }
        if !(stripe.api_base.starts_with("https://") || is_local_http(&stripe.api_base)) {
            return Err(self.err(
                "stripe.api_base",
                "must be an https:// URL (plain http:// only to this machine, for tests)",
            ));
        }

        let transport = match self.get("mail.transport").trim() {
            "file" => MailTransport::File,
            "log" => MailTransport::Log,
            "smtp" => MailTransport::Smtp,
            _ => return Err(self.err("mail.transport", "must be file, log or smtp")),
        };
        let smtp_url = self.opt("mail.smtp_url");
        if transport == MailTransport::Smtp {
            match &smtp_url {
                Some(url) if url.starts_with("smtp://") && sends_password_in_clear(url) => {
                    return Err(self.err(
                        "mail.smtp_url",
                        "has a password but no TLS: use smtps://…:465, or add ?tls=required \
                         (STARTTLS), or leave the credentials out for a local relay",
                    ));
                }
                Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {}
                _ => {
                    return Err(self.err(
                        "mail.smtp_url",
                        "must be an smtp:// or smtps:// URL when mail.transport is smtp",
                    ));
                }
            }
        }
        let from = self.get("mail.from").trim().to_string();
        if !from.contains('@') {
            return Err(self.err(
                "mail.from",
                "must be an email address, like Board <jobs@example.org>",
            ));
        }
        let mail = MailConfig {
            transport,
            smtp_url,
            from,
        };

        let limits = LimitsConfig {
            enabled: self.boolean("limits.enabled")?,
            login_per_account: self.rate("limits.login_per_account")?,
            login_per_ip: self.rate("limits.login_per_ip")?,
            register_per_ip: self.rate("limits.register_per_ip")?,
            reset_per_ip: self.rate("limits.reset_per_ip")?,
            post_per_ip: self.rate("limits.post_per_ip")?,
            alerts_per_ip: self.rate("limits.alerts_per_ip")?,
        };

        let effective = KEYS
            .iter()
            .map(|k| {
                let (value, source) = self
                    .values
                    .get(k.name)
                    .cloned()
                    .unwrap_or((String::new(), Source::Default));
                let value = match (k.name, value.is_empty()) {
                    ("base_url", true) => base_url.clone(),
                    ("site.categories", true) => DEFAULT_CATEGORIES.join(", "),
                    _ => value,
                };
                (k.name, value, source, k.secret)
            })
            .collect();

        Ok(Config {
            listen,
            base_url,
            data_dir,
            db: DbConfig {
                checkpoint_on_exit: self.boolean("db.checkpoint_on_exit")?,
            },
            log_level,
            log_format: self.log_format()?,
            site: SiteConfig {
                name,
                tagline: self.get("site.tagline").trim().to_string(),
                categories,
            },
            posting,
            stripe,
            mail,
            limits,
            metrics: self.metrics()?,
            effective,
        })
    }
}

/// The name of every configuration key.
pub fn key_names() -> impl Iterator<Item = &'static str> {
    KEYS.iter().map(|k| k.name)
}

/// `site.name` → `JOBBOARD_SITE_NAME`.
pub fn env_var(key: &str) -> String {
    format!("JOBBOARD_{}", key.replace('.', "_").to_ascii_uppercase())
}

/// `10/15m` → 10 per 15 minutes.
fn parse_rate(s: &str) -> Option<Rate> {
    let (count, window) = s.trim().split_once('/')?;
    let count: u32 = count.trim().parse().ok()?;
    let window = window.trim();
    let (n, unit) = window.split_at(window.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = if n.is_empty() { 1 } else { n.parse().ok()? };
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return None,
    };
    (count > 0 && secs > 0).then_some(Rate {
        count,
        window: Duration::from_secs(secs),
    })
}

/// Whether a URL is plain `http://` to this machine (where a test Stripe runs).
fn is_local_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if authority.contains('@') {
        return false;
    }
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// Whether an `smtp://` URL would log in without TLS to a server that is not
/// on this machine.
fn sends_password_in_clear(url: &str) -> bool {
    let rest = url.trim_start_matches("smtp://");
    let (authority, query) = match rest.split_once('?') {
        Some((a, q)) => (a.split('/').next().unwrap_or(a), q),
        None => (rest.split('/').next().unwrap_or(rest), ""),
    };
    let Some((_, host)) = authority.rsplit_once('@') else {
        return false;
    };
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    !local && !query.split('&').any(|p| p == "tls=required")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(env: &[(&str, &str)], flags: &[(&'static str, &str)]) -> Result<Config, ConfigError> {
        Config::load(&Inputs {
            config_file: None,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            flags: flags.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        })
    }

    #[test]
    fn smtp_passwords_travel_only_over_tls() {
        assert!(sends_password_in_clear("smtp://user:pw@mail.example:587"));
        assert!(!sends_password_in_clear(
            "smtp://user:pw@mail.example:587?tls=required"
        ));
        assert!(!sends_password_in_clear("smtp://user:pw@localhost:25"));
        assert!(!sends_password_in_clear("smtp://mail.example:25"));
        let e = load(
            &[
                ("JOBBOARD_MAIL_TRANSPORT", "smtp"),
                ("JOBBOARD_MAIL_SMTP_URL", "smtp://u:p@mail.example:587"),
            ],
            &[],
        )
        .expect_err("clear text");
        assert!(e.to_string().contains("no TLS"), "{e}");
    }

    #[test]
    fn defaults_are_valid() {
        let c = load(&[], &[]).expect("defaults");
        assert_eq!(c.base_url, "http://127.0.0.1:8080");
        assert_eq!(c.site.categories.len(), 17);
        assert_eq!(c.site.categories[4].slug, "devops-sysadmin");
        assert_eq!(c.limits.login_per_account.count, 10);
        assert_eq!(c.limits.login_per_account.window, Duration::from_secs(900));
    }

    #[test]
    fn env_names() {
        assert_eq!(env_var("stripe.secret_key"), "JOBBOARD_STRIPE_SECRET_KEY");
        assert_eq!(env_var("base_url"), "JOBBOARD_BASE_URL");
    }

    #[test]
    fn price_without_stripe_is_an_error() {
        let e = load(
            &[
                ("JOBBOARD_POSTING_PRICE_CENTS", "5000"),
                ("JOBBOARD_STRIPE_SECRET_KEY", "sk_test_x"),
                ("JOBBOARD_STRIPE_WEBHOOK_SECRET", "whsec_x"),
            ],
            &[],
        )
        .expect("a price with both Stripe keys is paid posting");
        assert_eq!(e.posting.price_cents, 5000);
        assert!(e.stripe_enabled());
        let e = load(&[("JOBBOARD_POSTING_PRICE_CENTS", "5000")], &[]).expect_err("no keys");
        assert!(e.to_string().contains("posting.price_cents"), "{e}");
        assert!(
            e.to_string().contains("JOBBOARD_POSTING_PRICE_CENTS"),
            "{e}"
        );
    }

    #[test]
    fn the_stripe_key_never_travels_in_clear() {
        let with_base = |base: &str| {
            load(
                &[
                    ("JOBBOARD_STRIPE_SECRET_KEY", "sk_test_x"),
                    ("JOBBOARD_STRIPE_WEBHOOK_SECRET", "whsec_x"),
                    ("JOBBOARD_STRIPE_API_BASE", base),
                ],
                &[],
            )
        };
        assert!(with_base("https://api.stripe.com").is_ok());
        assert!(with_base("http://127.0.0.1:12111").is_ok());
        assert!(with_base("http://localhost:12111/").is_ok());
        let e = with_base("http://stripe.example.com").expect_err("plain http");
        assert!(e.to_string().contains("stripe.api_base"), "{e}");
        assert!(with_base("ftp://127.0.0.1").is_err());
        assert!(with_base("http://127.0.0.1:1@evil.example").is_err());
    }

    #[test]
    fn currencies_without_cents_are_refused() {
        let e = load(&[("JOBBOARD_POSTING_CURRENCY", "JPY")], &[]).expect_err("yen");
        assert!(e.to_string().contains("posting.currency"), "{e}");
        assert!(load(&[("JOBBOARD_POSTING_CURRENCY", "EUR")], &[]).is_ok());
    }

    #[test]
    fn one_stripe_key_alone_is_an_error() {
        let e = load(&[("JOBBOARD_STRIPE_SECRET_KEY", "sk_test_1")], &[]).expect_err("one key");
        assert!(e.to_string().contains("stripe.webhook_secret"), "{e}");
        assert!(!e.to_string().contains("sk_test_1"));
    }

    #[test]
    fn rates() {
        assert_eq!(
            parse_rate("30/1m"),
            Some(Rate {
                count: 30,
                window: Duration::from_secs(60)
            })
        );
        assert_eq!(parse_rate("30/m").map(|r| r.window.as_secs()), Some(60));
        assert_eq!(parse_rate("x/1m"), None);
        assert_eq!(parse_rate("3/1w"), None);
    }

    #[test]
    fn describe_masks_secrets() {
        let c = load(
            &[
                ("JOBBOARD_STRIPE_SECRET_KEY", "sk_test_secret"),
                ("JOBBOARD_STRIPE_WEBHOOK_SECRET", "whsec_x"),
            ],
            &[],
        )
        .expect("valid");
        let text = c.describe();
        assert!(!text.contains("sk_test_secret"));
        assert!(text.contains("stripe.secret_key"));
        assert!(text.contains("********"));
    }
}
