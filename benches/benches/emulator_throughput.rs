//! Emulator throughput against its bound. 64 concurrent clients (each with its own connection
//! pool and user) repeat complete flows against the emulator in this process, sharing its cores:
//!
//! - OTP login: `POST /login/otp`, read the passcode from the in-process outbox,
//!   `POST /otp/activate` (one RS256 signature per flow);
//! - refresh: `POST /tokens` with the current refresh token (one signature per flow);
//! - passkey login: `login/webauthn/start`, a soft authenticator's assertion (ECDSA, in this
//!   process too), `login/webauthn/finish` (one signature per flow).
//!
//! The bound is the rate at which aws-lc-rs signs RS256 tokens on 2 cores, with the emulator's own
//! signer, measured in the same run, alternating with the flows: each round measures the sign rate
//! and then each flow for `--secs` seconds (default 3); `--rounds` rounds (default 3); medians are
//! reported. Goal: OTP login flows/s >= 0.4x the 2-core sign rate.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use passage_auth_client::{types, Client, ClientBuilder, RetryPolicy, SecretValue};
use passage_benches::{
    arg, flows_per_second, median, otp_sign_in, passkey_login, passkey_register, report, sign_rate,
    Figure, TestKey,
};
use passage_e2e::authenticator::SoftAuthenticator;
use passage_emulator::{Emulator, EmulatorConfig};

const CLIENTS: usize = 64;

fn client(base: &str) -> Client {
    ClientBuilder::new()
        .base_url(base)
        .retry_policy(RetryPolicy::none())
        .build()
        .expect("client")
}

fn main() {
    let window = Duration::from_secs_f64(arg("--secs").unwrap_or(3.0));
    let rounds: usize = arg("--rounds").unwrap_or(3);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let emulator = Arc::new(
        rt.block_on(Emulator::start(EmulatorConfig::default()))
            .expect("emulator"),
    );
    let app_id: Arc<str> = emulator.default_app_id().into();
    let base = emulator.base_url();
    let auth_origin = rt.block_on(async {
        client(&base)
            .get_app()
            .app_id(&*app_id)
            .send()
            .await
            .expect("get_app")
            .into_inner()
            .app
            .auth_origin
    });

    // Set-up (not timed): 64 passcode users with their refresh tokens, 64 passkey users.
    type Refreshing = Mutex<SecretValue>;
    let mut otp_users = Vec::new();
    let mut refreshing: Vec<Refreshing> = Vec::new();
    let mut passkey_users = Vec::new();
    let mut refresh_clients = Vec::new();
    for i in 0..CLIENTS {
        let c = client(&base);
        let identifier = format!("user{i}@bench.test");
        rt.block_on(otp_sign_in(&c, &emulator, &app_id, &identifier, true));
        otp_users.push((c, identifier));
        // Refreshing users of their own: a user keeps only its newest sessions, and the OTP
        // logins above open a new one each time.
        let c = client(&base);
        let identifier = format!("refresh{i}@bench.test");
        let auth = rt.block_on(otp_sign_in(&c, &emulator, &app_id, &identifier, true));
        refreshing.push(Mutex::new(auth.refresh_token.expect("refresh token")));
        refresh_clients.push(c);
        let c = client(&base);
        let identifier = format!("passkey{i}@bench.test");
        let mut authenticator = SoftAuthenticator::new(&auth_origin);
        let user_id = rt.block_on(passkey_register(
            &c,
            &app_id,
            &identifier,
            &mut authenticator,
        ));
        passkey_users.push((
            c,
            identifier,
            user_id,
            tokio::sync::Mutex::new(authenticator),
        ));
    }
    let otp_users = Arc::new(otp_users);
    let refreshing = Arc::new((refresh_clients, refreshing));
    let passkey_users = Arc::new(passkey_users);
    let signer = TestKey::generate().signer().clone();

    let (mut signs, mut otp, mut refresh, mut passkey) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        signs.push(sign_rate(&signer, 2, window));
        let (users, emulator, id) = (otp_users.clone(), emulator.clone(), app_id.clone());
        otp.push(rt.block_on(flows_per_second(CLIENTS, window, move |k| {
            let (users, emulator, id) = (users.clone(), emulator.clone(), id.clone());
            async move {
                let (c, identifier) = &users[k];
                otp_sign_in(c, &emulator, &id, identifier, false).await;
            }
        })));
        let (state, id) = (refreshing.clone(), app_id.clone());
        refresh.push(rt.block_on(flows_per_second(CLIENTS, window, move |k| {
            let (state, id) = (state.clone(), id.clone());
            async move {
                let (users, tokens) = &*state;
                let current = tokens[k].lock().expect("token").clone();
                let auth: types::AuthResult = users[k]
                    .refresh_auth_token()
                    .app_id(&*id)
                    .body(types::RefreshAuthTokenRequest::builder().refresh_token(current))
                    .send()
                    .await
                    .expect("refresh")
                    .into_inner()
                    .auth_result;
                *tokens[k].lock().expect("token") = auth.refresh_token.expect("rotated");
            }
        })));
        let (users, id) = (passkey_users.clone(), app_id.clone());
        passkey.push(rt.block_on(flows_per_second(CLIENTS, window, move |k| {
            let (users, id) = (users.clone(), id.clone());
            async move {
                let (c, identifier, user_id, authenticator) = &users[k];
                let mut authenticator = authenticator.lock().await;
                passkey_login(c, &id, identifier, user_id, &mut authenticator).await;
            }
        })));
        println!(
            "round {round}: sign rate (2 cores) {:.0}/s; flows/s: OTP login {:.0}, refresh {:.0}, passkey login {:.0}",
            signs[round], otp[round], refresh[round], passkey[round]
        );
    }
    let ratios: Vec<f64> = otp.iter().zip(&signs).map(|(o, s)| o / s).collect();
    let (sign, ratio) = (median(&signs), median(&ratios));
    report(&Figure {
        key: "emulator.otp",
        what: "Emulator (in process), 64 concurrent clients: OTP login flows/s (`login/otp`, outbox read, `otp/activate`) vs the aws-lc-rs RS256 sign rate on 2 cores, same run",
        measured: format!("{:.0} flows/s = {ratio:.2}x", median(&otp)),
        bound: format!("{sign:.0} signs/s; goal >= 0.4x"),
        met: Some(ratio >= 0.4),
    });
    report(&Figure {
        key: "emulator.refresh",
        what: "Same, refresh flows/s (`POST /tokens`, rotation)",
        measured: format!(
            "{:.0} flows/s = {:.2}x",
            median(&refresh),
            median(&refresh) / sign
        ),
        bound: format!("{sign:.0} signs/s"),
        met: None,
    });
    report(&Figure {
        key: "emulator.passkey",
        what: "Same, passkey login flows/s (`login/webauthn/start`, soft authenticator in process, `login/webauthn/finish`)",
        measured: format!(
            "{:.0} flows/s = {:.2}x",
            median(&passkey),
            median(&passkey) / sign
        ),
        bound: format!("{sign:.0} signs/s"),
        met: None,
    });
}
