//! Email: messages with a plain-text and an HTML part rendered from
//! `templates/email/`, built by lettre and handed to the configured transport.
//!
//! `file` (the default) writes each message as an `.eml` file to
//! `data_dir/outbox/`, named so they sort in the order sent; `log` writes a line
//! per message (recipient and subject only: bodies carry tokens). SMTP, and
//! sending through the task queue, arrive with the background tasks.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use serde::Serialize;

use crate::config::{Config, MailTransport};
use crate::error::AppError;
use crate::web::templates::Templates;

/// Where mail goes.
#[derive(Debug)]
pub struct Mailer {
    transport: MailTransport,
    from: Mailbox,
    outbox: PathBuf,
    /// The domain for Message-IDs: the host of `base_url`.
    domain: String,
    sequence: AtomicU64,
}

/// One message to send.
#[derive(Debug)]
pub struct Email<'a, C: Serialize> {
    pub to: &'a str,
    pub subject: &'a str,
    /// `templates/email/{template}.txt` and `.html`.
    pub template: &'a str,
    pub context: C,
}

impl Mailer {
    pub fn new(config: &Config) -> Result<Mailer, AppError> {
        let from: Mailbox = config
            .mail
            .from
            .parse()
            .map_err(|e| AppError::internal(format!("mail.from: {e}")))?;
        if config.mail.transport == MailTransport::Smtp {
            tracing::warn!(
                "mail.transport = smtp is not wired up in this version yet: \
                 messages are written to the outbox folder instead"
            );
        }
        let domain = config
            .base_url
            .split("://")
            .nth(1)
            .unwrap_or("localhost")
            .split(['/', ':'])
            .next()
            .unwrap_or("localhost")
            .to_string();
        Ok(Mailer {
            transport: config.mail.transport,
            from,
            outbox: config.data_dir.join("outbox"),
            domain,
            sequence: AtomicU64::new(0),
        })
    }

    /// The folder the `file` transport writes to.
    pub fn outbox(&self) -> &std::path::Path {
        &self.outbox
    }

    /// Renders and builds a message dated `now`.
    pub fn build<C: Serialize>(
        &self,
        templates: &Templates,
        email: &Email<'_, C>,
        now: i64,
    ) -> Result<Message, AppError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| AppError::internal(format!("recipient {:?}: {e}", email.to)))?;
        let text = templates.render(&format!("email/{}.txt", email.template), &email.context)?;
        let html = templates.render(&format!("email/{}.html", email.template), &email.context)?;
        let date = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.max(0) as u64);
        let id = crate::crypto::hex(&crate::crypto::random_bytes::<12>()?);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject)
            .date(date)
            .message_id(Some(format!("<{id}@{}>", self.domain)))
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| AppError::internal(format!("building an email: {e}")))
    }

    /// Builds and sends a message. A failure is logged and returned; callers
    /// on a request path usually log it and go on.
    pub async fn send<C: Serialize>(
        &self,
        templates: &Templates,
        email: Email<'_, C>,
        now: i64,
    ) -> Result<(), AppError> {
        let message = self.build(templates, &email, now)?;
        match self.transport {
            MailTransport::Log => {
                tracing::info!(
                    to = email.to,
                    subject = email.subject,
                    "email (log transport)"
                );
                Ok(())
            }
            MailTransport::File | MailTransport::Smtp => {
                let seq = self.sequence.fetch_add(1, Ordering::Relaxed);
                let name = format!("{now}-{:06}-{}.eml", seq, std::process::id());
                let dir = self.outbox.clone();
                let bytes = message.formatted();
                tokio::task::spawn_blocking(move || write_atomically(&dir, &name, &bytes))
                    .await
                    .map_err(|e| AppError::internal(format!("outbox: {e}")))?
                    .map_err(|e| AppError::internal(format!("outbox: {e}")))
            }
        }
    }
}

/// Writes `dir/name` whole or not at all: a reader never sees half a message.
fn write_atomically(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))
}
