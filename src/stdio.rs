//! The stdio transport: newline-delimited JSON-RPC on stdin/stdout, one implicit session.
//!
//! Stdout carries only protocol messages. Before serving, the process's file descriptor 1 is
//! moved to a private descriptor for the protocol and fd 1 is pointed at stderr, so a plugin
//! that prints cannot corrupt the stream.
//!
//! Every request's messages and answers share one bounded channel to the writer thread
//! ([`OUTBOUND_CAPACITY`]): when the client reads stdout slowly the writer blocks, the channel
//! fills and tools wait in their sink, so nothing is dropped and memory stays bounded. A tool's
//! messages are queued before its answer, so the client reads them in that order.

use std::io::{BufWriter, Write};
use std::os::fd::FromRawFd;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use crate::config::Config;
use crate::mcp::jsonrpc::{self, Incoming};
use crate::mcp::protocol::LATEST_HANDSHAKE;
use crate::mcp::sink::{Drops, OUTBOUND_CAPACITY, Outbound, OutboundTx};
use crate::mcp::state::ProtocolState;
use crate::mcp::{RequestCtx, Service, Session};
use crate::server::{ServerError, load_plugins, service};

/// Takes stdout for the protocol and sends everything else written to fd 1 to stderr.
fn take_stdout() -> std::io::Result<std::fs::File> {
    // SAFETY: dup/dup2 on the process's standard descriptors; we own the new descriptor `fd`
    // and hand it to exactly one `File`.
    unsafe {
        let fd = libc::dup(1);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::dup2(2, 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(std::fs::File::from_raw_fd(fd))
    }
}

/// Serves the configured plugins over stdio until stdin closes or `shutdown` resolves; calls in
/// flight get `shutdown_timeout` to finish.
pub async fn run(
    config: Config,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), ServerError> {
    let mut out = take_stdout()?;
    let service = service(&config);
    {
        let service = service.clone();
        let config = config.clone();
        tokio::task::spawn_blocking(move || load_plugins(&config, service.registry()))
            .await
            .map_err(|e| ServerError::Io(std::io::Error::other(e)))??;
    }
    tokio::spawn(service.clone().run_updates());
    // Hot reload works here too; the watcher lives until we return.
    let _watch = watch(&config, &service);
    // One implicit session for the whole connection; named so cancellations can find its calls.
    let session = Arc::new(Session::new("stdio".into(), LATEST_HANDSHAKE));
    let (tx, rx) = mpsc::channel::<Outbound>(OUTBOUND_CAPACITY);
    let writer = std::thread::spawn(move || write_lines(rx, &mut out));
    forward_standalone(&session, tx.clone());
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let line = tokio::select! {
            line = lines.next_line() => match line? {
                Some(line) => line,
                None => {
                    tracing::info!("stdin closed; finishing requests in flight");
                    break;
                }
            },
            () = &mut shutdown => {
                tracing::info!("shutting down: finishing requests in flight");
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        handle_line(&line, &service, &session, &tx).await;
    }
    // Calls in flight finish (within the grace); only requests waiting on the client fail.
    session.shut_down();
    drop(tx);
    // In-flight requests hold senders; give them the shutdown grace to finish.
    let deadline = tokio::time::Instant::now() + config.shutdown_timeout;
    let joined = tokio::task::spawn_blocking(move || writer.join());
    let _ = tokio::time::timeout_at(deadline, joined).await;
    Ok(())
}

/// The file watcher for hot reload, if `--watch` asked for it and it could start.
fn watch(config: &Config, service: &Arc<Service>) -> Option<crate::watch::Watch> {
    if !config.watch {
        return None;
    }
    match crate::watch::spawn(service.clone(), config.profile.clone()) {
        Ok(w) => Some(w),
        Err(e) => {
            tracing::error!(error = %e, "hot reload is off");
            None
        }
    }
}

/// What belongs to no request (a task's progress and status, after its `tools/call` was
/// answered) goes out on stdout too, in turn with the rest.
fn forward_standalone(session: &Session, out: mpsc::Sender<Outbound>) {
    let (loose_tx, mut loose) = tokio::sync::mpsc::unbounded_channel::<String>();
    session.set_standalone(loose_tx);
    tokio::spawn(async move {
        while let Some(message) = loose.recv().await {
            if out.send(Outbound::Message(message)).await.is_err() {
                return;
            }
        }
    });
}

/// Handles one line from stdin: a request is answered from its own task, so a slow tool does
/// not hold up the next line.
async fn handle_line(
    line: &str,
    service: &Arc<Service>,
    session: &Arc<Session>,
    tx: &mpsc::Sender<Outbound>,
) {
    match jsonrpc::parse(line.as_bytes()) {
        Err(e) => {
            let (id, err) = e.to_error();
            let _ = tx
                .send(Outbound::Message(jsonrpc::error(id.as_ref(), &err)))
                .await;
        }
        Ok(Incoming::Notification { method, params }) => {
            service.handle_notification(&method, params, Some(session));
        }
        Ok(Incoming::Response { id, outcome }) => {
            session.answer(&id, outcome);
        }
        Ok(Incoming::Request { id, method, params }) => {
            let method = method.into_owned();
            let params = params.map(|p| p.to_owned());
            let cancel = Arc::new(AtomicBool::new(false));
            let drops = Drops::new(service.options().metrics.clone());
            let ctx = RequestCtx {
                protocol: ProtocolState::Session(session.clone()),
                outbound: Some(OutboundTx::new(tx.clone(), cancel.clone(), drops)),
                cancel,
                caller: None,
            };
            let service = service.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                let reply = service
                    .handle_request(&id, &method, params.as_deref(), &ctx)
                    .await
                    .response;
                // After everything the tool's sink queued; waits while stdout is full.
                let _ = tx.send(Outbound::Message(reply)).await;
            });
        }
    }
}

/// The writer thread: one line per message, flushed whenever the queue runs empty (not per
/// line, so a tool's burst of messages costs few writes).
fn write_lines(mut rx: mpsc::Receiver<Outbound>, out: &mut std::fs::File) {
    let mut out = BufWriter::new(out);
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        while let Some(msg) = next {
            if let Outbound::Message(line) = msg
                && out
                    .write_all(line.as_bytes())
                    .and_then(|()| out.write_all(b"\n"))
                    .is_err()
            {
                return;
            }
            next = rx.try_recv().ok();
        }
        if out.flush().is_err() {
            return;
        }
    }
}
