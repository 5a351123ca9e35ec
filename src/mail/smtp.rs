//! The `smtp` transport: lettre's SMTP client built once from `mail.smtp_url`
//! (`smtp://` plain or with `?tls=required` for STARTTLS, `smtps://` for TLS
//! from the start; `user:password@` for credentials), over rustls.
//!
//! Connections are pooled and reused; connecting and each command time out
//! after [`TIMEOUT`], so a stalled server holds the worker for no longer.
//! Errors and logs name the server by host and port only: the URL may carry
//! a password, and message bodies carry tokens.

use std::time::Duration;

use lettre::Transport;
use lettre::address::{Address, Envelope};
use lettre::message::Mailbox;
use lettre::transport::smtp::{PoolConfig, SmtpTransport};

use crate::error::AppError;

/// How long connecting, or any one SMTP command, may take.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// An SMTP client for one server.
pub struct Smtp {
    transport: SmtpTransport,
    /// `host:port`, for errors and logs.
    server: String,
    /// The URL's password as written and decoded, scrubbed from any error text.
    secrets: Vec<String>,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("server", &self.server)
            .finish()
    }
}

impl Smtp {
    /// Builds the client from `mail.smtp_url`; connects only when sending.
    pub fn new(url: &str) -> Result<Smtp, AppError> {
        let parts = UrlParts::parse(url);
        let secrets = parts.secrets();
        let builder = SmtpTransport::from_url(url)
            .map_err(|e| AppError::internal(scrub(&format!("mail.smtp_url: {e}"), &secrets)))?;
        let transport = builder
            .timeout(Some(TIMEOUT))
            .pool_config(PoolConfig::new().max_size(4))
            .build();
        tracing::info!(server = %parts.server, "mail goes out over SMTP");
        Ok(Smtp {
            transport,
            server: parts.server,
            secrets,
        })
    }

    /// Sends a message as built (`eml`) from `from` to `to`.
    pub fn send(&self, from: &Mailbox, to: &str, eml: &str) -> Result<(), String> {
        let to: Address = match to.parse::<Mailbox>() {
            Ok(mailbox) => mailbox.email,
            Err(e) => return Err(format!("recipient {to:?}: {e}")),
        };
        let envelope = Envelope::new(Some(from.email.clone()), vec![to])
            .map_err(|e| format!("envelope: {e}"))?;
        self.transport
            .send_raw(&envelope, eml.as_bytes())
            .map(|_| ())
            .map_err(|e| scrub(&format!("SMTP {}: {e}", self.server), &self.secrets))
    }
}

/// What errors and logs may show of an SMTP URL.
struct UrlParts {
    /// `host:port`, the port filled in as lettre does.
    server: String,
    /// The password, percent-encoded as written.
    password: Option<String>,
}

impl UrlParts {
    fn parse(url: &str) -> UrlParts {
        let (scheme, rest) = url.split_once("://").unwrap_or(("smtp", url));
        let (authority, tail) = match rest.find(['/', '?', '#']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((user, host)) => (Some(user), host),
            None => (None, authority),
        };
        let password = userinfo
            .and_then(|u| u.split_once(':'))
            .map(|(_, p)| p.to_string())
            .filter(|p| !p.is_empty());
        let has_port = match hostport.rfind(':') {
            Some(at) => !hostport[at..].contains(']'),
            None => false,
        };
        let server = if has_port {
            hostport.to_string()
        } else {
            let tls = tail.contains("tls=required") || tail.contains("tls=opportunistic");
            let port = match (scheme, tls) {
                ("smtps", _) => 465,
                (_, true) => 587,
                _ => 25,
            };
            format!("{hostport}:{port}")
        };
        UrlParts { server, password }
    }

    /// The password in each form it may appear.
    fn secrets(&self) -> Vec<String> {
        let Some(raw) = &self.password else {
            return Vec::new();
        };
        let mut out = vec![raw.clone()];
        let decoded = percent_decode(raw);
        if decoded != *raw {
            out.push(decoded);
        }
        out
    }
}

/// Replaces every secret in `text` with `***`.
fn scrub(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_is_host_and_port_without_credentials() {
        let cases = [
            ("smtps://user:pa%40ss@mail.example:465", "mail.example:465"),
            ("smtps://user:pass@mail.example", "mail.example:465"),
            ("smtp://mail.example:587?tls=required", "mail.example:587"),
            ("smtp://mail.example?tls=required", "mail.example:587"),
            ("smtp://localhost", "localhost:25"),
            ("smtp://u:p@[::1]:2525/ehlo.example", "[::1]:2525"),
        ];
        for (url, server) in cases {
            assert_eq!(UrlParts::parse(url).server, server, "{url}");
        }
    }

    #[test]
    fn errors_never_show_the_password() {
        let parts = UrlParts::parse("smtps://user:pa%40ss@mail.example:465");
        let secrets = parts.secrets();
        assert_eq!(secrets, ["pa%40ss", "pa@ss"]);
        assert_eq!(
            scrub("auth failed for pa@ss and pa%40ss", &secrets),
            "auth failed for *** and ***"
        );
        assert!(UrlParts::parse("smtp://host:25").secrets().is_empty());
    }

    #[test]
    fn a_client_is_built_from_each_url_form() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://host.example:587?tls=required",
            "smtps://user:secret@host.example:465",
        ] {
            let smtp = Smtp::new(url).expect("a client");
            assert!(!format!("{smtp:?}").contains("secret"));
        }
    }
}
