//! Reading the `.eml` files the `file` mail transport writes.

use std::path::Path;

#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    /// All headers, unfolded.
    pub headers: String,
    /// The plain-text part, decoded.
    pub text: String,
    /// The HTML part, decoded.
    pub html: String,
}

impl Mail {
    /// The first `{base}/path?token=…` link in the text part, as a path.
    pub fn link(&self, path: &str) -> Option<String> {
        let at = self.text.find(&format!("{path}?token="))?;
        let rest = &self.text[at..];
        let end = rest.find(|c: char| c.is_whitespace()).unwrap_or(rest.len());
        Some(rest[..end].to_string())
    }
}

pub fn read_outbox(dir: &Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| parse(&std::fs::read_to_string(p).expect("read eml")))
        .collect()
}

fn header(headers: &str, name: &str) -> String {
    headers
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_default()
}

fn unfold(headers: &str) -> String {
    headers.replace("\r\n ", " ").replace("\r\n\t", " ")
}

pub fn parse(raw: &str) -> Mail {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let headers = unfold(head);
    // A part ends at the next boundary line; a quoted-printable soft break
    // before "--" in the text (`<!=` CRLF `--`) is not one.
    let boundary = header(&headers, "Content-Type")
        .split_once("boundary=")
        .map(|(_, b)| format!("\r\n--{}", b.trim_matches('"')))
        .unwrap_or_else(|| "\r\n--".to_string());
    let part = |kind: &str| -> String {
        let Some(at) = body.find(&format!("Content-Type: {kind}")) else {
            return String::new();
        };
        let section = &body[at..];
        let (phead, pbody) = section.split_once("\r\n\r\n").unwrap_or((section, ""));
        let end = pbody.find(&boundary).unwrap_or(pbody.len());
        let content = &pbody[..end];
        let cte = header(&unfold(phead), "Content-Transfer-Encoding").to_lowercase();
        match cte.as_str() {
            "quoted-printable" => decode_qp(content),
            "base64" => decode_base64(content),
            _ => content.replace("\r\n", "\n"),
        }
    };
    Mail {
        to: header(&headers, "To"),
        subject: header(&headers, "Subject"),
        text: part("text/plain"),
        html: part("text/html"),
        headers,
    }
}

fn decode_qp(s: &str) -> String {
    let joined = s.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).replace("\r\n", "\n")
}

fn decode_base64(s: &str) -> String {
    String::from_utf8_lossy(&base64_bytes(s)).replace("\r\n", "\n")
}

/// Base64 (RFC 4648, padding and line breaks skipped) to bytes: the one decoder
/// the mail tests, the SMTP server and the XSS sweep's header decoding share.
pub fn base64_bytes(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
