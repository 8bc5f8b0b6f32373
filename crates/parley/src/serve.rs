//! `parley serve`: the API, the job workers and the webhook delivery engine in one process, with bootstrap on an empty
//! store and graceful shutdown on SIGINT/SIGTERM (stop accepting, finish requests and
//! running jobs within `server.shutdown_grace`, close the store).

use std::time::Duration;

use anyhow::Context;
use parley_app::tenancy::BootstrapRequest;
use parley_http::AppState;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::wiring;

pub async fn run(config: Config) -> anyhow::Result<()> {
    wiring::init_logging(&config);
    let store = wiring::open_store(&config, true).await?;
    let app = wiring::app(&config, store.clone()).await?;
    let first_start = bootstrap(&config, &app).await?;
    app.schedule_housekeeping()
        .await
        .context("scheduling housekeeping")?;
    app.schedule_sftp_inboxes()
        .await
        .context("scheduling the SFTP inbox poll")?;

    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("installing the metrics recorder")?;
    parley_app::telemetry::describe();
    let state = AppState {
        app: app.clone(),
        metrics: Some(metrics),
        secure_cookies: config.secure_cookies,
        trusted_proxies: config.trusted_proxies.clone().into(),
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let address = listener.local_addr()?;
    // Tests and scripts read this line to find the port when listening on port 0.
    say(&format!("Parley is listening on http://{address}"));
    if first_start {
        say(&format!(
            "  Sign in at http://{address}/ with that email and password; scripts exchange the API key \
             for a token at POST http://{address}/api/v1/auth/token."
        ));
    }

    let cancel = CancellationToken::new();
    // Set when another process rotates the master key: this one stops rather than seal
    // anything more with a key the store no longer uses.
    let rotated = CancellationToken::new();
    let sampler = {
        let (app, cancel, rotated) = (app.clone(), cancel.clone(), rotated.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(parley_app::telemetry::SAMPLE_EVERY);
            loop {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    _ = every.tick() => {
                        app.sample_metrics().await;
                        if let Ok(false) = app.master_key_is_current().await {
                            tracing::error!("the store's master key was rotated by another process: stopping; start again with the new key");
                            rotated.cancel();
                            break;
                        }
                    }
                }
            }
        })
    };
    let runner = app.job_runner(config.workers, config.job_lease);
    let workers = tokio::spawn(runner.start(cancel.clone()));
    let webhooks = app.start_webhook_delivery(cancel.clone());
    let sends = app.start_sends(cancel.clone());
    let live = app.start_live_feed(cancel.clone());
    let campaigns = app.start_campaigns(cancel.clone());
    let server = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            axum::serve(listener, parley_http::service(state))
                .with_graceful_shutdown(cancel.cancelled_owned())
                .await
        })
    };

    tokio::select! {
        () = shutdown_signal() => {}
        () = rotated.cancelled() => {}
    }
    tracing::info!("shutting down: finishing in-flight requests and jobs");
    cancel.cancel();
    let grace = config.shutdown_grace;
    let finished = tokio::time::timeout(grace, async {
        let _ = server.await;
        let _ = workers.await;
        let _ = sends.await;
        let _ = live.await;
        let _ = campaigns.await;
        let _ = sampler.await;
        webhooks.stopped().await;
    })
    .await;
    if finished.is_err() {
        tracing::warn!(grace = ?grace, "shutdown grace period ended with work still running; it will resume after restart");
    }
    tokio::time::timeout(Duration::from_secs(5), store.close())
        .await
        .ok();
    if rotated.is_cancelled() {
        anyhow::bail!(
            "stopped: the store's master key was rotated by another process; start again with the new key"
        );
    }
    Ok(())
}

/// Prints a line on standard output without failing when no one reads it any more (a
/// service manager or a parent that closed the pipe must not stop the server).
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// Creates the first organization and owner on an empty store and prints how to sign in;
/// whether it did.
async fn bootstrap(config: &Config, app: &parley_app::App) -> anyhow::Result<bool> {
    let password = parley_app::auth::new_password()?;
    let request = BootstrapRequest {
        organization_name: config.bootstrap_organization.clone(),
        owner_email: config.bootstrap_email.clone(),
        owner_password: password.clone(),
    };
    if let Some(done) = app
        .bootstrap(request)
        .await
        .context("bootstrapping the empty store")?
    {
        say(&format!(
            "First start: created the organization {:?} ({}).",
            config.bootstrap_organization, done.organization
        ));
        say(&format!(
            "  Sign in as {} with the password: {password}",
            done.owner.email
        ));
        say(&format!("  API key id: {}", done.api_key.key.id));
        say(&format!("  API key secret: {}", done.api_key.secret));
        say("  These secrets are shown once; store them now.");
        return Ok(true);
    }
    Ok(false)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
