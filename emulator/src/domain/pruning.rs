//! Forgetting what has expired, so that the emulator's memory stays bounded under any load.
//!
//! Every record with a lifetime is dropped [`RETENTION_SECONDS`] after it ended (until then a late
//! request still gets the precise "expired" or "already used" answer): passcodes, magic links,
//! OAuth codes, refresh token families past their absolute lifetime together with their tokens,
//! transaction nonces, transactions, retired signing keys no longer published, unfinished social
//! flows and WebAuthn handshakes. Two caps bound what has no end of its own: a user keeps at most
//! [`MAX_FAMILIES_PER_USER`] login sessions (the oldest are forgotten, so their refresh tokens
//! stop working) and a session keeps its last [`MAX_ROTATED_PER_FAMILY`] rotated refresh tokens
//! (an older rotated token is then unknown rather than a detected reuse).
//!
//! A pass scans the collections, so [`Pruner`] runs one only after as many mutations as there
//! were live records after the previous pass (at least [`MIN_MUTATIONS_BETWEEN_PASSES`]): the cost
//! is amortised O(1) per mutation and the live set can at most double between passes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::model::app::AppRecord;

use crate::model::records::RefreshState;

use crate::model::state::EmulatorState;

/// How long a record is kept after it expired or ended.
pub const RETENTION_SECONDS: i64 = 3600;
/// Lifetime of a transaction and of the nonce its ceremony issued.
pub const TRANSACTION_LIFETIME_SECONDS: i64 = 24 * 3600;
/// Login sessions (refresh token families) kept per user.
pub const MAX_FAMILIES_PER_USER: usize = 64;
/// Rotated refresh tokens kept per session (the active one is always kept).
pub const MAX_ROTATED_PER_FAMILY: usize = 16;
/// Fewest mutations between two passes.
pub const MIN_MUTATIONS_BETWEEN_PASSES: usize = 1024;

/// Decides when a pass is due (see the module documentation).
#[derive(Debug, Default)]
pub struct Pruner {
    mutations: AtomicUsize,
    threshold: AtomicUsize,
}

impl Pruner {
    /// Counts one mutation; runs a pass over `state` when one is due.
    pub fn after_mutation(&self, state: &mut EmulatorState, now: i64) {
        let done = self.mutations.fetch_add(1, Ordering::Relaxed) + 1;
        let threshold = self
            .threshold
            .load(Ordering::Relaxed)
            .max(MIN_MUTATIONS_BETWEEN_PASSES);
        if done >= threshold {
            let live = prune(state, now);
            self.mutations.store(0, Ordering::Relaxed);
            self.threshold.store(live, Ordering::Relaxed);
        }
    }
}

/// Drops everything that expired at `now`; returns the number of records still kept.
pub fn prune(state: &mut EmulatorState, now: i64) -> usize {
    let ended = |at: i64| now >= at.saturating_add(RETENTION_SECONDS);
    let mut live = 0;
    for app in state.apps.values_mut() {
        live += prune_app(app, &ended);
    }
    state
        .social_flows
        .retain(|_, f| !ended(f.created_at.saturating_add(RETENTION_SECONDS)));
    state.handshakes.retain(|_, h| now < h.expires_at());
    live + state.social_flows.len() + state.handshakes.len() + state.outbox.len()
}

fn prune_app(app: &mut AppRecord, ended: &dyn Fn(i64) -> bool) -> usize {
    app.otps.retain(|_, o| !ended(o.expires_at));
    app.magic_links.retain(|_, l| !ended(l.expires_at));
    app.oauth_codes.retain(|_, c| !ended(c.expires_at));
    app.nonces
        .retain(|_, n| !ended(n.issued_at.saturating_add(TRANSACTION_LIFETIME_SECONDS)));
    app.transactions
        .retain(|_, t| !ended(t.created_at.saturating_add(TRANSACTION_LIFETIME_SECONDS)));
    let grace = app.config.key_grace_seconds;
    let active = app.active_key().map(|k| k.kid.clone());
    app.keys.retain(|k| {
        Some(&k.kid) == active.as_ref()
            || k.retired_at
                .is_none_or(|at| !ended(at.saturating_add(grace)))
    });

    // Sessions: past their lifetime, or beyond the newest MAX_FAMILIES_PER_USER of their user.
    app.families.retain(|_, f| !ended(f.expires_at));
    let mut by_user: HashMap<&str, Vec<(i64, &str)>> = HashMap::new();
    for (id, family) in &app.families {
        by_user
            .entry(family.user_id.as_str())
            .or_default()
            .push((family.created_at, id.as_str()));
    }
    let mut dropped: Vec<String> = Vec::new();
    for sessions in by_user.values_mut() {
        if sessions.len() > MAX_FAMILIES_PER_USER {
            sessions.sort_unstable_by(|a, b| b.cmp(a));
            dropped.extend(
                sessions[MAX_FAMILIES_PER_USER..]
                    .iter()
                    .map(|(_, id)| (*id).to_owned()),
            );
        }
    }
    for id in &dropped {
        app.families.remove(id);
    }

    // Refresh tokens: only those of kept sessions, and the last rotated ones of each.
    let families = &app.families;
    app.refresh_tokens
        .retain(|_, r| families.contains_key(&r.family_id));
    let mut rotated: HashMap<&str, Vec<(i64, &str)>> = HashMap::new();
    for (digest, record) in &app.refresh_tokens {
        if let RefreshState::Rotated { at, .. } = record.state {
            rotated
                .entry(record.family_id.as_str())
                .or_default()
                .push((at, digest.as_str()));
        }
    }
    let mut old: Vec<String> = Vec::new();
    for tokens in rotated.values_mut() {
        if tokens.len() > MAX_ROTATED_PER_FAMILY {
            tokens.sort_unstable_by(|a, b| b.cmp(a));
            old.extend(
                tokens[MAX_ROTATED_PER_FAMILY..]
                    .iter()
                    .map(|(_, d)| (*d).to_owned()),
            );
        }
    }
    for digest in &old {
        app.refresh_tokens.remove(digest);
    }
    app.otps.len()
        + app.magic_links.len()
        + app.oauth_codes.len()
        + app.nonces.len()
        + app.transactions.len()
        + app.families.len()
        + app.refresh_tokens.len()
        + app.keys.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::SigningKey;
    use crate::model::records::{FamilyRecord, OtpRecord, RefreshRecord};
    use crate::settings::app::AppConfig;

    fn app() -> AppRecord {
        AppRecord::new(AppConfig::default(), SigningKey::default_key().unwrap())
    }

    fn otp(id: &str, expires_at: i64) -> OtpRecord {
        OtpRecord {
            id: id.into(),
            code_digest: String::new(),
            key_id: String::new(),
            user_id: "u".into(),
            identifier: "a@b.co".into(),
            expires_at,
            failed_attempts: 0,
            used: false,
        }
    }

    #[test]
    fn expired_records_go_after_the_retention() {
        let mut state = EmulatorState::default();
        let mut a = app();
        a.otps.insert("old".into(), otp("old", 100));
        a.otps.insert("recent".into(), otp("recent", 1000));
        state.apps.insert("a".into(), a);
        prune(&mut state, 100 + RETENTION_SECONDS - 1);
        assert_eq!(state.apps["a"].otps.len(), 2, "kept during the retention");
        prune(&mut state, 100 + RETENTION_SECONDS);
        let otps = &state.apps["a"].otps;
        assert!(otps.contains_key("recent") && !otps.contains_key("old"));
    }

    #[test]
    fn sessions_per_user_are_capped_with_their_tokens() {
        let mut state = EmulatorState::default();
        let mut a = app();
        for i in 0..(MAX_FAMILIES_PER_USER + 3) {
            let family = format!("fam{i:03}");
            a.families.insert(
                family.clone(),
                FamilyRecord {
                    user_id: "u".into(),
                    created_at: i as i64,
                    expires_at: 1_000_000,
                    revoked: false,
                },
            );
            a.refresh_tokens.insert(
                format!("digest{i:03}"),
                RefreshRecord {
                    family_id: family,
                    user_id: "u".into(),
                    issued_at: i as i64,
                    state: RefreshState::Active,
                    rotated_pair: None,
                },
            );
        }
        state.apps.insert("a".into(), a);
        prune(&mut state, 10);
        let a = &state.apps["a"];
        assert_eq!(a.families.len(), MAX_FAMILIES_PER_USER);
        assert_eq!(a.refresh_tokens.len(), MAX_FAMILIES_PER_USER);
        assert!(!a.families.contains_key("fam000"), "the oldest sessions go");
        assert!(a
            .families
            .contains_key(&format!("fam{:03}", MAX_FAMILIES_PER_USER + 2)));
    }
}
