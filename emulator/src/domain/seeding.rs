//! The state an emulator starts with: its configured apps (each with its own signing key), merged
//! into the state read from the state file when there is one, and the seed users.

use crate::base::random::random_secret;
use crate::domain::accounts::create_user;
use crate::jwt::SigningKey;
use crate::model::app::AppRecord;
use crate::model::state::EmulatorState;
use crate::settings::app::AppConfig;
use crate::settings::seed::SeedUser;

/// A new state serving `apps`, with a fresh secret for the fake identity provider.
pub fn new_state(apps: Vec<AppConfig>) -> anyhow::Result<EmulatorState> {
    let mut state = EmulatorState {
        fake_provider_secret: random_secret(32).into(),
        ..EmulatorState::default()
    };
    for app in apps {
        app.validate()?;
        anyhow::ensure!(
            !state.apps.contains_key(&app.id),
            "app id {} is configured twice",
            app.id
        );
        // Each app signs with its own key; the first one takes the process-wide key (generating RSA
        // keys is slow, and most emulators serve one app).
        let key = if state.apps.is_empty() {
            SigningKey::default_key()?
        } else {
            SigningKey::generate()?
        };
        state.apps.insert(app.id.clone(), AppRecord::new(app, key));
    }
    Ok(state)
}

/// The state read from a state file, serving `apps`: the configuration is the source of truth for
/// app settings, so configured apps get their current settings (keeping keys, users and sessions)
/// and new ones are created.
pub fn adopt_loaded_state(
    mut state: EmulatorState,
    apps: Vec<AppConfig>,
) -> anyhow::Result<EmulatorState> {
    anyhow::ensure!(!state.apps.is_empty(), "state file has no apps");
    if state.fake_provider_secret.is_empty() {
        *state.fake_provider_secret = random_secret(32);
    }
    for app in apps {
        app.validate()?;
        match state.apps.get_mut(&app.id) {
            Some(existing) => *existing.config = app,
            None => {
                let record = AppRecord::new(app.clone(), SigningKey::generate()?);
                state.apps.insert(app.id, record);
            }
        }
    }
    Ok(state)
}

/// Creates the seed users of a configuration (skipping identifiers that already exist, as after a
/// restart with a state file).
pub fn seed_users(state: &mut EmulatorState, users: &[SeedUser], now: i64) -> anyhow::Result<()> {
    let default_app = state.apps.keys().next().cloned();
    for seed in users {
        let app_id = seed
            .app_id
            .clone()
            .or_else(|| default_app.clone())
            .ok_or_else(|| anyhow::anyhow!("no app to seed"))?;
        let app = state
            .apps
            .get_mut(&app_id)
            .ok_or_else(|| anyhow::anyhow!("seed user for unknown app {app_id}"))?;
        if app.find_user_by_identifier(&seed.user.identifier).is_some() {
            continue;
        }
        create_user(app, &seed.user, now)
            .map_err(|e| anyhow::anyhow!("seed user of app {app_id}: {}", e.message))?;
    }
    Ok(())
}
