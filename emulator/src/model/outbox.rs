//! The outbox: the passcodes and magic links the emulator "sent", readable through the admin API.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::base::enums::OutboxKind;
use crate::base::redact::redacted_debug;

/// A message the emulator "sent" (e-mail or SMS), readable through the outbox.
#[derive(Clone, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// App that sent it.
    pub app_id: String,
    /// Recipient identifier.
    pub identifier: String,
    /// Passcode or magic link.
    pub kind: OutboxKind,
    /// Passcode (kind `otp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp: Option<String>,
    /// Passcode id (kind `otp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otp_id: Option<String>,
    /// Full link (kind `magic_link`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic_link_url: Option<String>,
    /// Link secret (kind `magic_link`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic_link_secret: Option<String>,
    /// Link id (kind `magic_link`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub magic_link_id: Option<String>,
    /// Sent at (RFC 3339).
    pub created_at: String,
}

/// The sent messages: at most [`Outbox::PER_IDENTIFIER`] per identifier and [`Outbox::PER_APP`] per
/// app (the oldest is dropped), so memory stays bounded whatever the callers send, and reading one
/// identifier's messages costs O(its messages). Snapshotted as one array, oldest first.
#[derive(Clone, Default)]
pub struct Outbox {
    messages: BTreeMap<u64, OutboxMessage>,
    by_identifier: HashMap<String, BTreeSet<u64>>,
    by_app: HashMap<String, BTreeSet<u64>>,
    next_seq: u64,
}

impl Outbox {
    /// Messages kept per identifier.
    pub const PER_IDENTIFIER: usize = 32;
    /// Messages kept per app.
    pub const PER_APP: usize = 1000;

    /// Adds a message (dropping the oldest one of its identifier, or of its app, when either has too
    /// many).
    pub fn push(&mut self, message: OutboxMessage) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let to = self
            .by_identifier
            .entry(message.identifier.clone())
            .or_default();
        to.insert(seq);
        let oldest_to = (to.len() > Self::PER_IDENTIFIER).then(|| to.first().copied());
        let from = self.by_app.entry(message.app_id.clone()).or_default();
        from.insert(seq);
        let oldest_from = (from.len() > Self::PER_APP).then(|| from.first().copied());
        self.messages.insert(seq, message);
        for oldest in [oldest_to, oldest_from].into_iter().flatten().flatten() {
            self.remove(oldest);
        }
    }

    /// Forgets message `seq` (when it is still kept).
    fn remove(&mut self, seq: u64) {
        let Some(message) = self.messages.remove(&seq) else {
            return;
        };
        for (index, key) in [
            (&mut self.by_identifier, &message.identifier),
            (&mut self.by_app, &message.app_id),
        ] {
            if let Some(set) = index.get_mut(key) {
                set.remove(&seq);
                if set.is_empty() {
                    index.remove(key);
                }
            }
        }
    }

    /// The messages sent to `identifier` (already normalised), oldest first.
    pub fn for_identifier(
        &self,
        identifier: &str,
    ) -> impl DoubleEndedIterator<Item = &OutboxMessage> {
        self.by_identifier
            .get(identifier)
            .into_iter()
            .flat_map(|seqs| seqs.iter().filter_map(|seq| self.messages.get(seq)))
    }

    /// Every message, oldest first.
    pub fn all(&self) -> Vec<&OutboxMessage> {
        self.messages.values().collect()
    }

    /// Every message, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &OutboxMessage> + ExactSizeIterator {
        self.messages.values()
    }

    /// Number of messages kept.
    pub fn len(&self) -> usize {
        self.messages.len()
    }

    /// Whether no message is kept.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// Keeps the messages for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&OutboxMessage) -> bool) {
        let dropped: Vec<u64> = self
            .messages
            .iter()
            .filter(|(_, m)| !keep(m))
            .map(|(seq, _)| *seq)
            .collect();
        for seq in dropped {
            self.remove(seq);
        }
    }

    /// Forgets every message.
    pub fn clear(&mut self) {
        self.messages.clear();
        self.by_identifier.clear();
        self.by_app.clear();
    }
}

impl std::ops::Index<usize> for Outbox {
    type Output = OutboxMessage;

    /// The `index`-th message, oldest first (O(messages); for tests).
    fn index(&self, index: usize) -> &OutboxMessage {
        self.all()[index]
    }
}

impl Serialize for Outbox {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.all())
    }
}

impl<'de> Deserialize<'de> for Outbox {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let messages = Vec::<OutboxMessage>::deserialize(deserializer)?;
        let mut outbox = Outbox::default();
        for message in messages {
            outbox.push(message);
        }
        Ok(outbox)
    }
}

redacted_debug!(OutboxMessage {
    app_id,
    identifier,
    kind,
    otp_id,
    magic_link_id,
    created_at
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outbox_keeps_the_last_messages_of_each_identifier() {
        let message = |to: &str, n: usize| OutboxMessage {
            app_id: "a".into(),
            identifier: to.into(),
            kind: OutboxKind::Otp,
            otp: Some(format!("{n:06}")),
            otp_id: Some(format!("otp_{n}")),
            magic_link_url: None,
            magic_link_secret: None,
            magic_link_id: None,
            created_at: String::new(),
        };
        let mut outbox = Outbox::default();
        for n in 0..(Outbox::PER_IDENTIFIER + 5) {
            outbox.push(message("x@y.z", n));
        }
        outbox.push(message("other@y.z", 0));
        assert_eq!(outbox.len(), Outbox::PER_IDENTIFIER + 1);
        let kept: Vec<_> = outbox
            .for_identifier("x@y.z")
            .map(|m| m.otp_id.clone().unwrap())
            .collect();
        assert_eq!(kept.len(), Outbox::PER_IDENTIFIER);
        assert_eq!(kept[0], "otp_5");
        assert_eq!(outbox.iter().last().unwrap().identifier, "other@y.z");
        let json = serde_json::to_value(&outbox).unwrap();
        let back: Outbox = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back.len(), outbox.len());
        let mut busy = Outbox::default();
        for n in 0..(Outbox::PER_APP + 10) {
            let mut m = message(&format!("user{n}@y.z"), n);
            m.app_id = "busy".into();
            busy.push(m);
        }
        busy.push(message("x@y.z", 0));
        assert_eq!(busy.len(), Outbox::PER_APP + 1, "bounded per app");
        assert_eq!(busy.iter().next().unwrap().identifier, "user10@y.z");
        assert_eq!(busy.for_identifier("user9@y.z").count(), 0);
        busy.retain(|m| m.app_id != "busy");
        assert_eq!(busy.len(), 1);
    }
}
