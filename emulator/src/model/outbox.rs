//! The outbox: the passcodes and magic links the emulator "sent", readable through the admin API.

use std::collections::{HashMap, VecDeque};

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

/// The sent messages, by recipient: at most [`Outbox::PER_IDENTIFIER`] per identifier (the oldest
/// is dropped), so memory stays bounded and reading one identifier's messages costs O(its messages).
/// Snapshotted as one array, oldest first.
#[derive(Clone, Default)]
pub struct Outbox {
    queues: HashMap<String, VecDeque<(u64, OutboxMessage)>>,
    next_seq: u64,
    len: usize,
}

impl Outbox {
    /// Messages kept per identifier.
    pub const PER_IDENTIFIER: usize = 32;

    /// Adds a message (dropping the identifier's oldest one when it has too many).
    pub fn push(&mut self, message: OutboxMessage) {
        let queue = self.queues.entry(message.identifier.clone()).or_default();
        if queue.len() >= Self::PER_IDENTIFIER {
            queue.pop_front();
        } else {
            self.len += 1;
        }
        queue.push_back((self.next_seq, message));
        self.next_seq += 1;
    }

    /// The messages sent to `identifier` (already normalised), oldest first.
    pub fn for_identifier(
        &self,
        identifier: &str,
    ) -> impl DoubleEndedIterator<Item = &OutboxMessage> {
        self.queues
            .get(identifier)
            .into_iter()
            .flat_map(|q| q.iter().map(|(_, m)| m))
    }

    /// Every message, oldest first.
    pub fn all(&self) -> Vec<&OutboxMessage> {
        let mut all: Vec<&(u64, OutboxMessage)> = self.queues.values().flatten().collect();
        all.sort_unstable_by_key(|(seq, _)| *seq);
        all.into_iter().map(|(_, m)| m).collect()
    }

    /// Every message, oldest first.
    pub fn iter(&self) -> std::vec::IntoIter<&OutboxMessage> {
        self.all().into_iter()
    }

    /// Number of messages kept.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no message is kept.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Keeps the messages for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&OutboxMessage) -> bool) {
        for queue in self.queues.values_mut() {
            queue.retain(|(_, m)| keep(m));
        }
        self.queues.retain(|_, q| !q.is_empty());
        self.len = self.queues.values().map(VecDeque::len).sum();
    }

    /// Forgets every message.
    pub fn clear(&mut self) {
        self.queues.clear();
        self.len = 0;
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
        let back: Outbox = serde_json::from_value(json).unwrap();
        assert_eq!(back.len(), outbox.len());
    }
}
