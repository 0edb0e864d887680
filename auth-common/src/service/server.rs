//! The one way both services serve HTTP: the listener, the middleware chain, the shared
//! app data, the worker and blocking-thread sizing, and the run loop.
//!
//! A service builds its own state once, then hands [`Server::start`] a `configure`
//! closure that registers that state and its routes; everything around it is here, so a
//! middleware or an extractor limit is changed in one place for both.
//!
//! Shutdown: on `SIGTERM` (or `SIGINT`) `/health/ready` turns 503 at once while requests
//! are still served for `drain` (`SHUTDOWN_DRAIN_SECS`), so a load balancer or Kubernetes
//! takes the instance out of rotation before it stops accepting; then the server stops
//! gracefully (requests in flight finish, 30 s at most), [`Server::run_until_stopped`]
//! returns and the service's background tasks are aborted.

use std::net::{SocketAddr, TcpListener};

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::service::cors::cors;
use crate::service::health::Readiness;
use crate::service::http::extractor_configs::{form_config, json_config, path_config, query_config};
use crate::service::http::json_errors::json_errors;
use crate::service::http::security_headers::security_headers;
use crate::service::observability::metrics::Metrics;
use crate::service::observability::middleware::observe;
use crate::token::verifier::Verifier;

/// How many threads a server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threads {
    /// Async workers, each with its own event loop.
    pub workers: usize,
    /// Blocking threads per worker (`web::block`: queries, password hashes).
    pub blocking_per_worker: usize,
}

impl Threads {
    /// The threads for a server beside a pool of `connections` database connections.
    ///
    /// One worker per core, as actix does by default. Each worker has its own blocking pool
    /// (512 threads by default), and every query runs there. But a query needs a pooled
    /// connection: more threads than connections only queue on the pool's lock, and each
    /// surplus thread is another one to wake and switch to, which is what the posts page's
    /// profile showed (`docs/benchmarks.md`). So each worker gets its share of the
    /// connections, plus `extra` threads for blocking work that needs none (password hashing).
    pub fn beside_pool(connections: u32, extra: usize) -> Self {
        let workers = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self { workers, blocking_per_worker: (connections as usize).div_ceil(workers) + extra }
    }
}

/// What differs between the services' servers.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// The service's name, for the start-up log line.
    pub name: &'static str,
    /// Browser origins allowed cross-origin (`CORS_ALLOWED_ORIGINS`).
    pub cors_allowed_origins: Vec<String>,
    /// The largest JSON or form body accepted, in bytes; larger ones get 413.
    pub body_limit: usize,
    /// Worker and blocking-thread counts.
    pub threads: Threads,
    /// How long readiness answers 503 before a stop (`SHUTDOWN_DRAIN_SECS`).
    pub drain: std::time::Duration,
}

/// The app data every service registers, made once and shared by all workers.
#[derive(Clone)]
pub struct SharedData {
    /// The metric registry `/metrics` renders and the middleware records into.
    pub metrics: web::Data<Metrics>,
    /// The verifier the `Caller` extractor uses.
    pub verifier: web::Data<Verifier>,
    /// The checks behind `/health/ready`.
    pub readiness: web::Data<Readiness>,
}

/// A started server: listening, and serving once awaited.
pub struct Server {
    port: u16,
    server: actix_web::dev::Server,
    background: Vec<tokio::task::JoinHandle<()>>,
    readiness: web::Data<Readiness>,
    drain: std::time::Duration,
}

impl Server {
    /// Binds `addr`; port 0 picks a free port (read it back with [`Server::port`]).
    pub fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
        TcpListener::bind(addr).with_context(|| format!("BIND_ADDR: cannot listen on {addr}"))
    }

    /// Starts serving on `listener`: every app gets the shared middleware chain,
    /// extractor configurations and `shared` data, then `configure` adds the service's
    /// own state and routes. `config` is logged with the address (its `Debug` must hide
    /// secrets).
    pub fn start<F>(
        listener: TcpListener,
        settings: ServerSettings,
        shared: SharedData,
        config: &dyn std::fmt::Debug,
        configure: F,
    ) -> anyhow::Result<Self>
    where
        F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
    {
        let address = listener.local_addr().context("reading the bound address")?;
        log::info!("{} listening on {address} ({config:?})", settings.name);
        let ServerSettings { cors_allowed_origins, body_limit, threads, drain, .. } = settings;
        let readiness = shared.readiness.clone();
        // Outermost last: `observe` sees every response, the JSON error rewrite included.
        let server = HttpServer::new(move || {
            App::new()
                .wrap(cors(&cors_allowed_origins))
                .wrap(json_errors())
                .wrap(security_headers())
                .wrap(from_fn(observe))
                .app_data(shared.metrics.clone())
                .app_data(shared.verifier.clone())
                .app_data(shared.readiness.clone())
                .app_data(json_config(body_limit))
                .app_data(form_config(body_limit))
                .app_data(query_config())
                .app_data(path_config())
                .configure(configure.clone())
        })
        .workers(threads.workers)
        .worker_max_blocking_threads(threads.blocking_per_worker)
        // The signals are ours (`run_until_stopped`), so readiness can turn first.
        .disable_signals()
        .listen(listener)?
        .run();
        Ok(Self { port: address.port(), server, background: Vec::new(), readiness, drain })
    }

    /// Ties a background task (a key reloader, a JWKS refresher) to this server: it is
    /// aborted when the server stops.
    pub fn with_background(mut self, task: tokio::task::JoinHandle<()>) -> Self {
        self.background.push(task);
        self
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until the process is told to stop (see the module docs), then aborts the
    /// background tasks.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (handle, readiness, drain) = (self.server.handle(), self.readiness.clone(), self.drain);
        let stopper = tokio::spawn(async move {
            let signal = stop_signal().await;
            readiness.start_draining();
            log::info!("{signal}: readiness is 503 now; draining for {} s, then stopping", drain.as_secs());
            tokio::time::sleep(drain).await;
            handle.stop(true).await;
        });
        let result = self.server.await;
        stopper.abort();
        for task in &self.background {
            task.abort();
        }
        result
    }
}

/// Waits for `SIGTERM` or `SIGINT`; names the one that came.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        },
        // No signal handling (cannot happen on Unix): never stop by signal.
        _ => std::future::pending().await,
    }
}
