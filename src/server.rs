//! Running the server: build and load plugins, serve HTTP, reap sessions, shut down cleanly.
//!
//! [`run`] takes a bound listener and a shutdown future so tests can bind `127.0.0.1:0` and
//! drive the real server. The listener serves `/health` at once and `/ready` reports
//! `starting` until every plugin is built and loaded. `run` is a list of named steps: build
//! the app, start the background tasks (loader, reaper, graceful shutdown), serve until drained.
//!
//! - `accept`: the accept loop, the connection limit and the reserve for probes.
//! - `conn`: one connection, with its header, body and idle timeouts.
//! - `h1`: HTTP/1.1 for the requests MCP clients send, holding no buffer while a call runs.
//! - `progress`: what a connection is doing, for its timeouts.
//! - `nofile`: the open-files limit, raised at startup.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

mod accept;
mod conn;
mod gated;
mod h1;
mod nofile;
mod progress;

use crate::config::{Config, PluginSource};
use crate::http::cutoff::Cutoff;
use crate::http::{self, AppShared, AppState, Security};
use crate::mcp::mrtr::Mrtr;
use crate::mcp::tasks::{MemoryStore, Tasks};
use crate::mcp::{Service, ServiceOptions, SessionStore, Stores};
use crate::plugin::pool::{PoolOptions, QueueWaitMetric};
use crate::plugin::{PluginError, Registry, Slot, build};

/// Why the server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A plugin could not be built or loaded at startup.
    #[error(transparent)]
    Plugin(#[from] PluginError),
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    /// The server stopped, but `--shutdown-timeout` ran out first and cut calls off: each got
    /// a `server shutting down` error. `main` exits with [`EXIT_CUT_OFF`].
    #[error("the shutdown timeout cut off {calls} call(s) in flight")]
    CutOff {
        /// How many calls got the error.
        calls: usize,
    },
}

/// The exit code of a shutdown that cut calls off (documented in docs/configuration.md).
pub const EXIT_CUT_OFF: u8 = 3;

/// After the cut-off, how long cut calls get to write their error before the process exits.
const CUT_FLUSH: Duration = Duration::from_secs(1);

/// Builds crate sources and returns one slot per plugin, with the total build time. Blocking.
///
/// Cargo's output goes to stderr as it runs. When a crate's first build fails and
/// `--watch` is on, its slot is [unbuilt](Slot::unbuilt): the others serve, and the watcher
/// loads it once a rebuild succeeds (likewise when its library then fails to load: see
/// [`Slot::waiting_for_fix`]). Without `--watch` nothing would ever fix it: an error.
pub(crate) fn prepare_slots(config: &Config) -> Result<(Vec<Slot>, Duration), PluginError> {
    let mut slots = Vec::with_capacity(config.plugins.len());
    let mut build_time = Duration::ZERO;
    for source in &config.plugins {
        match source {
            PluginSource::Library(path) => slots.push(Slot::new(path.display().to_string(), path)),
            PluginSource::Crate { manifest_path } => {
                let label = manifest_path
                    .parent()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| manifest_path.display().to_string());
                tracing::info!(plugin = %label, profile = %config.profile, "building plugin crate");
                let started = std::time::Instant::now();
                let built = build::cargo_build(manifest_path, &config.profile, true);
                build_time += started.elapsed();
                match built {
                    Ok(out) => {
                        tracing::info!(
                            plugin = %label,
                            library = %out.library.display(),
                            build_ms = out.elapsed.as_secs_f64() * 1000.0,
                            "plugin built"
                        );
                        let slot = Slot::new(label, out.library).with_crate(manifest_path);
                        // A watched crate whose library does not load may be fixed by a save.
                        slots.push(if config.watch {
                            slot.waiting_for_fix()
                        } else {
                            slot
                        });
                    }
                    Err(
                        e
                        @ (build::BuildError::Failed { .. } | build::BuildError::NoLibrary { .. }),
                    ) if config.watch => {
                        // The compiler's errors were just printed; `/ready` shows them too.
                        tracing::error!(
                            plugin = %label,
                            "first build failed; serving the other plugins and waiting for a fix"
                        );
                        let errors = e.compiler_errors();
                        slots.push(Slot::unbuilt(label, manifest_path, errors));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Ok((slots, build_time))
}

/// Builds and loads every plugin into `registry`, logging what is served. Blocking.
pub(crate) fn load_plugins(config: &Config, registry: &Registry) -> Result<(), PluginError> {
    let (slots, build_time) = prepare_slots(config)?;
    let started = std::time::Instant::now();
    registry.load_all(slots)?;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    let build_ms = build_time.as_secs_f64() * 1000.0;
    let cat = registry.catalog();
    let served = registry.slots().iter().zip(&cat.generations);
    for (slot, g) in served.filter_map(|(s, g)| Some((s, g.as_ref()?))) {
        tracing::info!(
            plugin = %slot.label,
            name = %g.manifest.name,
            version = %g.manifest.version,
            path = %g.path().display(),
            tools = g.manifest.tools.len(),
            isolated = g.is_isolated(),
            "plugin loaded"
        );
    }
    match registry.waiting().len() {
        0 => tracing::info!(build_ms, load_ms, "ready"),
        waiting => tracing::warn!(
            build_ms,
            load_ms,
            waiting,
            "serving; not ready until every plugin builds and loads"
        ),
    }
    Ok(())
}

/// The service for a config (plugins not loaded yet).
pub(crate) fn service(config: &Config) -> Arc<Service> {
    let metrics = config
        .metrics
        .then(|| Arc::new(crate::metrics::Metrics::new()));
    let mut pool = PoolOptions::new(config.max_blocking_calls, config.tool_timeout);
    pool.queue_wait = metrics.clone().map(|m| -> QueueWaitMetric {
        Arc::new(move |plugin: &str| m.queue_wait_recorder(plugin))
    });
    if config.isolate != crate::plugin::isolate::Isolation::None {
        // Loudly: an operator who isolates plugins expects the sandbox to hold.
        for warning in config.sandbox.warnings(&crate::sandbox::probe()) {
            tracing::warn!("{warning}");
        }
    }
    let registry = Registry::new(config.plugins.len())
        .with_pool_options(pool)
        .with_isolation(config.isolate.clone(), config.isolate_crash_loop)
        .with_sandbox(config.sandbox.policy(std::path::Path::new("")));
    let registry = Arc::new(registry);
    let max_sessions = config.limits.max_sessions;
    let mut sessions = SessionStore::new(max_sessions);
    let mut tasks = Arc::new(Tasks::new(Arc::new(MemoryStore::default()), config.tasks));
    if let Some(url) = &config.session_store {
        tasks = Tasks::in_redis(url.expose(), config.tasks).unwrap_or(tasks);
        match crate::mcp::store::RedisStore::new(url.expose(), config.session_idle_timeout) {
            Ok(store) => {
                tracing::info!(store = %store.display, "sessions are shared through Redis");
                sessions = SessionStore::with_shared(store, max_sessions);
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot use the session store; sessions stay in memory")
            }
        }
    }
    let secret = config.state_secret.as_ref().map(|s| s.expose().as_bytes());
    let stores = Stores {
        sessions,
        tasks,
        mrtr: Mrtr::new(secret),
    };
    let options = ServiceOptions {
        stateless: config.stateless,
        tool_timeout: config.tool_timeout,
        inline_tools: config.inline_tools,
        metrics,
    };
    Arc::new(Service::new(registry, options, stores))
}

/// Serves `config` on `listener` until `shutdown` resolves (or a plugin fails to load).
///
/// The steps: build the service and the router, start the background tasks (stop signal,
/// plugin loader, session reaper, graceful shutdown), then accept connections until every one
/// has closed after the stop signal, or the shutdown timeout cuts the last calls off.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let service = service(&config);
    let cutoff = Arc::new(Cutoff::default());
    let app = app(&config, &service, &cutoff);
    log_access(&config);
    let max_connections = connection_limit(&config);
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        endpoint = %config.endpoint,
        mode = if config.stateless { "stateless" } else { "stateful" },
        max_connections,
        "listening"
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    spawn_stop_on(shutdown, stop_tx.clone());
    let load_error = spawn_loader(&config, &service, stop_tx);
    tokio::spawn(service.clone().run_updates());
    if !config.stateless {
        spawn_reaper(&service, config.session_idle_timeout);
    }
    spawn_graceful_shutdown(&service, stop_rx.clone());

    let options = accept::Options {
        timeouts: progress::Timeouts {
            header: config.limits.header_timeout,
            body: config.limits.body_timeout,
            idle: config.limits.idle_timeout,
        },
        max_connections,
        max_body: config.max_body_bytes,
    };
    let (connections, serve) =
        accept::start(listener, app, options, stop_rx.clone(), cutoff.clone());
    serve_until_drained(
        serve,
        &connections,
        stop_rx,
        config.shutdown_timeout,
        &cutoff,
    )
    .await;
    // A load failure is the reason we stopped; report it.
    if let Some(e) = load_error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(e.into());
    }
    match cutoff.cut_calls() {
        0 => Ok(()),
        calls => Err(ServerError::CutOff { calls }),
    }
}

/// The application: the HTTP router, with `/metrics` when metrics are on.
fn app(config: &Config, service: &Arc<Service>, cutoff: &Arc<Cutoff>) -> http::App {
    let state = AppState::new(AppShared {
        service: service.clone(),
        security: Arc::new(Security {
            allowed_hosts: config.allowed_hosts.clone(),
            allowed_origins: config.allowed_origins.clone(),
        }),
        max_body_bytes: config.max_body_bytes,
        stateless: config.stateless,
        auth: Arc::new(config.auth.clone()),
        cutoff: cutoff.clone(),
    });
    let app = http::router(state.clone(), &config.endpoint);
    let Some(metrics) = &service.options().metrics else {
        return http::app(app, &state, &config.endpoint);
    };
    // Weak: the service owns the metrics; a strong reference would be a cycle.
    let weak = Arc::downgrade(service);
    metrics.on_scrape(move |m| {
        if let Some(s) = weak.upgrade() {
            m.set_sessions(s.sessions().len());
            let c = s.registry().catalog();
            m.set_generations(c.served().map(|g| (g.manifest.name.as_str(), g.id)));
            m.set_blocking_calls(c.served().map(|g| {
                let u = g.pool().usage();
                let calls = crate::metrics::BlockingCalls {
                    running: u.running,
                    queued: u.queued,
                    stuck: u.stuck,
                };
                (g.manifest.name.as_str(), calls)
            }));
        }
    });
    let auth =
        (config.metrics_auth && config.auth.is_enabled()).then(|| Arc::new(config.auth.clone()));
    let app = app.merge(http::metrics_router(metrics.clone(), auth));
    http::app(app, &state, &config.endpoint)
}

/// Logs who may use the server (and warns when anyone on the network may), and fetches the
/// OAuth provider's keys in the background.
fn log_access(config: &Config) {
    tracing::info!(auth = %config.auth.describe(), metrics = config.metrics, "access");
    if let Some(oauth) = config.auth.oauth() {
        // In the background: a provider that is down must not hold the server back.
        let oauth = oauth.clone();
        tokio::spawn(async move { oauth.prefetch().await });
    }
    if !config.auth.is_enabled()
        && !matches!(config.host.as_str(), "127.0.0.1" | "::1" | "localhost")
    {
        tracing::warn!(
            host = %config.host,
            "authentication is off on a non-loopback address: anyone who can reach it can call every tool (see --api-key, --jwt-secret, --oauth-issuer)"
        );
    }
}

/// Sends the stop signal when `shutdown` resolves.
fn spawn_stop_on(shutdown: impl Future<Output = ()> + Send + 'static, stop: watch::Sender<bool>) {
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
}

/// Builds and loads the plugins on a blocking thread, then starts the watcher with `--watch`.
/// A load failure stops the server; the returned slot then holds the error.
fn spawn_loader(
    config: &Config,
    service: &Arc<Service>,
    stop: watch::Sender<bool>,
) -> Arc<Mutex<Option<PluginError>>> {
    let config = config.clone();
    let service = service.clone();
    // Set before the stop signal, so the error is there when serving ends; the loader task
    // itself may not count as finished yet by then.
    let load_error: Arc<Mutex<Option<PluginError>>> = Arc::default();
    let loader_error = load_error.clone();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || match load_plugins(&config, service.registry()) {
        Err(e) => {
            *loader_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            let _ = stop.send(true);
        }
        Ok(()) if config.watch => {
            let _enter = runtime.enter();
            match crate::watch::spawn(service.clone(), config.profile.clone()) {
                // The watcher lives as long as the process.
                Ok(w) => std::mem::forget(w),
                Err(e) => tracing::error!(error = %e, "hot reload is off"),
            }
        }
        Ok(()) => {}
    });
    load_error
}

/// Closes sessions idle for longer than `idle`, checking a few times per `idle`.
fn spawn_reaper(service: &Arc<Service>, idle: Duration) {
    let service = service.clone();
    let every = (idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(60));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let n = service.sessions().reap(idle);
            if n > 0 {
                tracing::info!(reaped = n, "idle sessions closed");
            }
        }
    });
}

/// On the stop signal, ends the streams not tied to a request: they would keep connections
/// open forever. Calls in flight are not cancelled.
fn spawn_graceful_shutdown(service: &Arc<Service>, mut stop: watch::Receiver<bool>) {
    let service = service.clone();
    tokio::spawn(async move {
        let _ = stop.wait_for(|s| *s).await;
        tracing::info!("shutting down: no new connections, finishing requests in flight");
        for s in service.sessions().all() {
            s.shut_down();
        }
        service.listeners().close_all();
    });
}

/// Runs `serve` until it ends: after the stop signal, once every connection has closed, or
/// `grace` after the stop signal, when the calls still running are cut off.
async fn serve_until_drained(
    serve: impl Future<Output = ()>,
    connections: &accept::Shared,
    mut stop_rx: watch::Receiver<bool>,
    grace: Duration,
    cutoff: &Cutoff,
) {
    tokio::pin!(serve);
    tokio::select! {
        () = &mut serve => {}
        () = async {
            let _ = stop_rx.wait_for(|s| *s).await;
            tokio::time::sleep(grace).await;
        } => {
            // Calls still running answer with an error; give them a moment to write it.
            cutoff.fire();
            let drained = tokio::time::timeout(CUT_FLUSH, &mut serve).await.is_ok();
            tracing::warn!(
                grace_ms = grace.as_millis() as u64,
                calls_cut_off = cutoff.cut_calls(),
                connections_open = if drained { 0 } else { connections.open() },
                "requests still running after the shutdown timeout; exiting anyway"
            );
        }
    }
}

/// `--max-connections`, lowered to fit the open-files limit (raised to its hard limit first).
fn connection_limit(config: &Config) -> usize {
    let wanted = config.limits.max_connections;
    let Some(limit) = nofile::raise() else {
        return wanted;
    };
    let fits = nofile::fit(wanted, limit.soft, accept::PROBE_RESERVE);
    if fits < wanted {
        tracing::warn!(
            max_connections = wanted,
            lowered_to = fits,
            open_files = limit.soft,
            "--max-connections does not fit the open-files limit; lowered (raise `ulimit -n`)"
        );
    }
    fits
}
