//! Email: messages with a plain-text and an HTML part rendered from
//! `templates/email/`, built by lettre and handed to the configured transport.
//!
//! Every message goes through the task queue (a `mail` task), so a failed
//! delivery is retried and none is lost to a restart. `file` (the default)
//! writes each message as an `.eml` file to `data_dir/outbox/`, named by its
//! task so they sort in the order queued; `log` writes a line per message
//! (recipient and subject only: bodies carry tokens); `smtp` hands the message
//! as built to the server in `mail.smtp_url` (see [`smtp`]).

mod smtp;

use std::path::PathBuf;

use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use serde::Serialize;

use crate::config::{Config, MailTransport};
use crate::error::AppError;
use crate::web::templates::Templates;

/// Where mail goes.
#[derive(Debug)]
pub struct Mailer {
    transport: MailTransport,
    /// The SMTP client, when `transport` is `smtp`.
    smtp: Option<smtp::Smtp>,
    from: Mailbox,
    outbox: PathBuf,
    /// The domain for Message-IDs: the host of `base_url`.
    domain: String,
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
    /// Sets up the configured transport: for `smtp`, the client and its
    /// connection pool (nothing connects until the first message).
    pub fn new(config: &Config) -> Result<Mailer, AppError> {
        let from: Mailbox = config
            .mail
            .from
            .parse()
            .map_err(|e| AppError::internal(format!("mail.from: {e}")))?;
        let smtp = match (&config.mail.transport, &config.mail.smtp_url) {
            (MailTransport::Smtp, Some(url)) => Some(smtp::Smtp::new(url)?),
            (MailTransport::Smtp, None) => {
                return Err(AppError::internal(
                    "mail.smtp_url is required when mail.transport is smtp",
                ));
            }
            _ => None,
        };
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
            smtp,
            from,
            outbox: config.data_dir.join("outbox"),
            domain,
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
        headers: &[(&'static str, String)],
    ) -> Result<Message, AppError> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| AppError::internal(format!("recipient {:?}: {e}", email.to)))?;
        let text = templates.render(&format!("email/{}.txt", email.template), &email.context)?;
        let html = templates.render(&format!("email/{}.html", email.template), &email.context)?;
        let date = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.max(0) as u64);
        let id = crate::crypto::hex(&crate::crypto::random_bytes::<12>()?);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject)
            .date(date)
            .message_id(Some(format!("<{id}@{}>", self.domain)));
        for (name, value) in headers {
            builder = builder.raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(name),
                value.clone(),
            ));
        }
        builder
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| AppError::internal(format!("building an email: {e}")))
    }

    /// Builds a message and queues it for delivery by the background worker
    /// (in the caller's transaction, so it goes out exactly when the change it
    /// tells of is committed).
    pub fn queue<C: Serialize>(
        &self,
        conn: &rusqlite::Connection,
        templates: &Templates,
        email: &Email<'_, C>,
        now: i64,
    ) -> Result<i64, AppError> {
        let payload = self.payload(templates, email, now)?;
        queue_payload(conn, &payload, now)
    }

    /// The `mail` task's payload for a message: recipient, subject and the
    /// whole message as sent.
    pub fn payload<C: Serialize>(
        &self,
        templates: &Templates,
        email: &Email<'_, C>,
        now: i64,
    ) -> Result<serde_json::Value, AppError> {
        self.payload_with_headers(templates, email, now, &[])
    }

    /// As [`Mailer::payload`], with extra headers (an alert's
    /// `List-Unsubscribe` and `List-Unsubscribe-Post`, RFC 8058).
    pub fn payload_with_headers<C: Serialize>(
        &self,
        templates: &Templates,
        email: &Email<'_, C>,
        now: i64,
        headers: &[(&'static str, String)],
    ) -> Result<serde_json::Value, AppError> {
        let message = self.build(templates, email, now, headers)?;
        let eml = String::from_utf8(message.formatted())
            .map_err(|_| AppError::internal("a built email is not UTF-8"))?;
        Ok(serde_json::json!({ "to": email.to, "subject": email.subject, "eml": eml }))
    }

    /// Delivers a queued message (the `mail` task). `id` names it, so
    /// delivering it again replaces the same outbox file. An error (an SMTP
    /// server down or refusing) leaves the task to be retried; its text names
    /// the server by host and port only, never the URL's password.
    pub fn deliver(&self, id: i64, to: &str, subject: &str, eml: &str) -> Result<(), String> {
        match self.transport {
            MailTransport::Log => {
                tracing::info!(%to, %subject, "email (log transport)");
                Ok(())
            }
            MailTransport::Smtp => match &self.smtp {
                Some(smtp) => smtp.send(&self.from, to, eml),
                None => Err("mail.transport is smtp but no SMTP client was set up".into()),
            },
            MailTransport::File => {
                write_atomically(&self.outbox, &format!("{id:010}.eml"), eml.as_bytes())
                    .map_err(|e| format!("outbox {}: {e}", self.outbox.display()))
            }
        }
    }
}

/// Queues a built message (see [`Mailer::payload`]).
pub fn queue_payload(
    conn: &rusqlite::Connection,
    payload: &serde_json::Value,
    now: i64,
) -> Result<i64, AppError> {
    crate::tasks::queue::enqueue(conn, "mail", payload, now, None, now)?
        .ok_or_else(|| AppError::internal("the mail task was not queued"))
}

/// Writes `dir/name` whole or not at all: a reader never sees half a message.
fn write_atomically(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))
}
