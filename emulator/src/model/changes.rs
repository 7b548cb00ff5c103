//! The model's changes as rows for the state file: what changed since the last drain (or
//! everything, for a new file), and records read back from their rows. See [`crate::store`].

use serde::Serialize;

use crate::jwt::SigningKey;
use crate::model::app::AppRecord;
use crate::model::state::EmulatorState;
use crate::model::tracking::{Changes, Table};
use crate::settings::app::AppConfig;

impl AppRecord {
    /// Appends the settings and keys, as stored (an [`AppHeader`](crate::model::app::AppHeader)), to `out`.
    fn put_header(&self, app: &str, out: &mut Changes) {
        #[derive(Serialize)]
        struct Header<'a> {
            config: &'a AppConfig,
            keys: &'a [SigningKey],
            refresh_key: &'a str,
        }
        let header = Header {
            config: &self.config,
            keys: &self.keys[..],
            refresh_key: &self.refresh_key,
        };
        out.put(app, "app", "", &header);
    }

    /// Appends the changes since the last call (see [`Table::drain_changes`]): the settings and
    /// keys when either changed, then the tables' records; keeps the identifier index current.
    fn drain_changes(&mut self, app: &str, serialize: bool, out: &mut Changes) {
        // Both flags are taken (no short circuit).
        let header_changed = self.config.take_changed() | self.keys.take_changed();
        if serialize && header_changed {
            self.put_header(app, out);
        }
        self.users.drain_changes(app, "users", serialize, out);
        self.devices.drain_changes(app, "devices", serialize, out);
        self.magic_links
            .drain_changes(app, "magic_links", serialize, out);
        self.otps.drain_changes(app, "otps", serialize, out);
        self.refresh_tokens
            .drain_changes(app, "refresh_tokens", serialize, out);
        self.families.drain_changes(app, "families", serialize, out);
        self.oauth_codes
            .drain_changes(app, "oauth_codes", serialize, out);
        self.nonces.drain_changes(app, "nonces", serialize, out);
        self.transactions
            .drain_changes(app, "transactions", serialize, out);
        self.api_keys.drain_changes(app, "api_keys", serialize, out);
    }

    fn all_changes(&self, app: &str, out: &mut Changes) {
        self.put_header(app, out);
        self.users.all_changes(app, "users", out);
        self.devices.all_changes(app, "devices", out);
        self.magic_links.all_changes(app, "magic_links", out);
        self.otps.all_changes(app, "otps", out);
        self.refresh_tokens.all_changes(app, "refresh_tokens", out);
        self.families.all_changes(app, "families", out);
        self.oauth_codes.all_changes(app, "oauth_codes", out);
        self.nonces.all_changes(app, "nonces", out);
        self.transactions.all_changes(app, "transactions", out);
        self.api_keys.all_changes(app, "api_keys", out);
    }

    /// Puts one stored record into its table (when loading a store).
    pub fn load_record(&mut self, kind: &str, key: String, json: &[u8]) -> anyhow::Result<()> {
        fn put<V: serde::de::DeserializeOwned>(
            t: &mut Table<V>,
            key: String,
            json: &[u8],
        ) -> anyhow::Result<()> {
            t.insert(key, serde_json::from_slice(json)?);
            Ok(())
        }
        match kind {
            "users" => put(&mut self.users, key, json),
            "devices" => put(&mut self.devices, key, json),
            "magic_links" => put(&mut self.magic_links, key, json),
            "otps" => put(&mut self.otps, key, json),
            "refresh_tokens" => put(&mut self.refresh_tokens, key, json),
            "families" => put(&mut self.families, key, json),
            "oauth_codes" => put(&mut self.oauth_codes, key, json),
            "nonces" => put(&mut self.nonces, key, json),
            "transactions" => put(&mut self.transactions, key, json),
            "api_keys" => put(&mut self.api_keys, key, json),
            other => Err(anyhow::anyhow!("unknown record kind {other:?}")),
        }
    }
}

impl EmulatorState {
    /// Changes since the last call, in write order: per app its settings (when they changed) and
    /// records, then the rest. Without `serialize` they are only forgotten. Costs O(apps + changes).
    pub fn drain_changes(&mut self, serialize: bool) -> Changes {
        let mut out = Changes::default();
        self.drain_changes_into(serialize, &mut out);
        out
    }

    /// [`EmulatorState::drain_changes`], appending to `out`.
    pub fn drain_changes_into(&mut self, serialize: bool, out: &mut Changes) {
        for (id, app) in self.apps.iter_mut() {
            app.drain_changes(id, serialize, out);
        }
        self.social_flows
            .drain_changes("", "social_flows", serialize, out);
        if self.fake_provider_secret.take_changed() && serialize {
            self.put_provider_secret(out);
        }
    }

    fn put_provider_secret(&self, out: &mut Changes) {
        out.put_bytes(
            "",
            "meta",
            "fake_provider_secret",
            self.fake_provider_secret.as_bytes(),
        );
    }

    /// Everything, as changes (the first write of a new store).
    pub fn all_changes(&self) -> Changes {
        let mut out = Changes::default();
        for (id, app) in &self.apps {
            app.all_changes(id, &mut out);
        }
        self.social_flows.all_changes("", "social_flows", &mut out);
        self.put_provider_secret(&mut out);
        out
    }
}
