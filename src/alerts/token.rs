//! Links in alert emails carry `{id}.{signature}`: the HMAC of the alert's id
//! and the link's purpose under the board's key. Nothing is stored, and a
//! link for one purpose or alert does not work for another.

use crate::crypto::{SiteKey, constant_time_eq, hex};

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Confirm,
    Unsubscribe,
    /// See and change every alert of the same address.
    Manage,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Confirm => "confirm",
            Purpose::Unsubscribe => "unsubscribe",
            Purpose::Manage => "manage",
        }
    }
}

fn signature(keys: &SiteKey, purpose: Purpose, id: i64) -> String {
    hex(&keys.sign(format!("alert:{}:{id}", purpose.as_str()).as_bytes()))
}

/// The token for an alert's link.
pub fn make(keys: &SiteKey, purpose: Purpose, id: i64) -> String {
    format!("{id}.{}", signature(keys, purpose, id))
}

/// The alert a token names, when its signature is right for `purpose`.
pub fn check(keys: &SiteKey, purpose: Purpose, token: &str) -> Option<i64> {
    let (id, given) = token.split_once('.')?;
    let id: i64 = id.parse().ok().filter(|n| *n > 0)?;
    let expected = signature(keys, purpose, id);
    constant_time_eq(expected.as_bytes(), given.as_bytes()).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_works_for_its_purpose_and_alert_only() {
        let dir = tempfile::tempdir().expect("dir");
        let keys = SiteKey::load_or_create(dir.path()).expect("key");
        let t = make(&keys, Purpose::Unsubscribe, 42);
        assert_eq!(check(&keys, Purpose::Unsubscribe, &t), Some(42));
        assert_eq!(check(&keys, Purpose::Manage, &t), None);
        let other = t.replacen("42.", "43.", 1);
        assert_eq!(check(&keys, Purpose::Unsubscribe, &other), None);
        assert_eq!(check(&keys, Purpose::Unsubscribe, "42"), None);
        assert_eq!(check(&keys, Purpose::Unsubscribe, "x.y"), None);
    }
}
