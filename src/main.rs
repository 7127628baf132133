//! The `fastmcp` binary: parse arguments, set up logging, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;
use fastmcp::cli::{Cli, Command};
use fastmcp::commands::LocalRequest;
use fastmcp::config::{self, Config, ProbeConfig, Transport};
use fastmcp::{commands, logging, server, stdio};

fn main() -> ExitCode {
    fastmcp::memory::one_malloc_arena();
    let cli = Cli::parse();
    // Plugin copies live in $TMPDIR/fastmcp-<pid>/: removed on return from here, and those of
    // processes that are gone removed now. `probe` and `new` stage no plugin.
    let _copies = (!matches!(cli.command, Command::Probe(_) | Command::New(_)))
        .then(fastmcp::plugin::library::CopiesDir::claim);
    match cli.command {
        Command::Dev(args) => dev(args),
        Command::Inspect(args) => inspect(&args),
        Command::Call(args) => call(&args),
        Command::Read(args) => local(
            &args.plugin,
            args.profile.clone(),
            Ok(LocalRequest::read(&args)),
        ),
        Command::Prompt(args) => local(
            &args.plugin,
            args.profile.clone(),
            LocalRequest::prompt(&args),
        ),
        Command::Complete(args) => local(
            &args.plugin,
            args.profile.clone(),
            LocalRequest::complete(&args),
        ),
        Command::Stdio(args) => stdio(args),
        Command::Probe(args) => match ProbeConfig::from_env_and_args(args) {
            Ok(p) => match commands::probe(&p) {
                Ok(()) => ExitCode::SUCCESS,
                Err(msg) => {
                    eprintln!("probe failed: {msg}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => usage_error(&e),
        },
        Command::New(args) => new_crate(&args),
        Command::PluginHost(args) => fastmcp::plugin::isolate::child::run(&args.spec, || {
            let filter = std::env::var("FASTMCP_LOG").unwrap_or_else(|_| "warn".into());
            logging::init_buffered(
                config::LogFormat::Pretty,
                &filter,
                fastmcp::plugin::isolate::child::LOG_BUFFER_LINES,
            )
        }),
        Command::SandboxedCall(args) => sandboxed_call(&args),
    }
}

/// `fastmcp inspect`: the plugin's manifest as a table, or as JSON with `--json`.
fn inspect(args: &fastmcp::cli::InspectArgs) -> ExitCode {
    let resolved =
        config::resolve_profile(args.profile.clone(), config::env_vars()).and_then(|p| {
            let isolate = config::resolve_isolate(args.isolate.clone(), config::env_vars());
            Ok((p, isolate?))
        });
    let (profile, isolation) = match resolved {
        Ok(v) => v,
        Err(e) => return usage_error(&e),
    };
    let _log = logging::init(config::LogFormat::Pretty, "warn");
    match commands::load_one(&args.plugin, &profile, &isolation) {
        Ok(g) => {
            if args.json {
                out(&format!("{:#}\n", commands::manifest_json(&g)));
            } else {
                out(&commands::manifest_table(&g));
            }
            ExitCode::SUCCESS
        }
        Err(e) => failure(&e),
    }
}

/// `fastmcp call`: one tool call, its result on stdout.
fn call(args: &fastmcp::cli::CallArgs) -> ExitCode {
    let parsed = config::resolve_profile(args.profile.clone(), config::env_vars())
        .and_then(|p| Ok((p, config::parse_tool_args(&args.args)?)))
        .and_then(|(p, a)| {
            let isolate = config::resolve_isolate(args.isolate.clone(), config::env_vars());
            Ok((p, a, isolate?))
        });
    let (profile, tool_args, isolation) = match parsed {
        Ok(v) => v,
        Err(e) => return usage_error(&e),
    };
    let _log = logging::init(config::LogFormat::Pretty, "warn");
    let call = commands::Call {
        plugin: &args.plugin,
        profile: &profile,
        isolation: &isolation,
    };
    tool_result(commands::call_tool(&call, &args.tool, tool_args))
}

/// `fastmcp new`: which SDK was chosen goes to stderr, what to run next to stdout.
fn new_crate(args: &fastmcp::cli::NewArgs) -> ExitCode {
    match fastmcp::scaffold::create(&args.name, args.path.as_deref(), args.sdk_path.as_deref()) {
        Ok(created) => {
            eprintln!("{}", created.sdk_note());
            print!("{}", created.next_steps());
            ExitCode::SUCCESS
        }
        Err(e) if e.is_usage() => usage_error(&e),
        Err(e) => failure(&e),
    }
}

/// `fastmcp __sandboxed-call`: the sandbox report to stderr, the call's result to stdout.
/// Logging starts after the sandbox: the policy must be applied while this is the only thread.
fn sandboxed_call(args: &fastmcp::cli::SandboxedCallArgs) -> ExitCode {
    let call = match commands::sandboxed::prepare(args) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    tool_result(call.run())
}

/// `call`'s output: the result's text, and exit 1 when it is an error result or the call
/// failed.
fn tool_result<E: std::error::Error>(result: Result<(String, bool), E>) -> ExitCode {
    match result {
        Ok((text, is_error)) => {
            out(&format!("{text}\n"));
            if is_error {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => failure(&e),
    }
}

/// `read`, `prompt` and `complete`: print the result JSON, or the error and exit 1.
fn local(
    plugin: &std::path::Path,
    profile: Option<String>,
    request: Result<LocalRequest, config::ConfigError>,
) -> ExitCode {
    let parsed =
        config::resolve_profile(profile, config::env_vars()).and_then(|p| Ok((p, request?)));
    let (profile, request) = match parsed {
        Ok(v) => v,
        Err(e) => return usage_error(&e),
    };
    let _log = logging::init(config::LogFormat::Pretty, "warn");
    match commands::local::run(plugin, &profile, &request) {
        Ok(result) => {
            out(&format!("{result:#}\n"));
            ExitCode::SUCCESS
        }
        Err(e) => failure(&e),
    }
}

/// `fastmcp stdio`: `dev` with the transport set, so a launcher that takes `--transport` for
/// itself (the MCP Inspector does) has nothing to take.
fn stdio(mut args: fastmcp::cli::DevArgs) -> ExitCode {
    if let Some(t) = args.transport.as_deref().filter(|t| *t != "stdio") {
        return usage_error(&format!(
            "invalid value {t:?} for --transport: `fastmcp stdio` serves stdio only; use `fastmcp dev --transport {t}`"
        ));
    }
    args.transport = Some("stdio".into());
    dev(args)
}

/// One I/O thread per core, and at least two: inline tool calls may take all of them but one
/// (`plugin::inline`), so with one thread nothing could run inline. On one core the two share
/// it, and the second mostly sleeps. `TOKIO_WORKER_THREADS` (tokio's own variable, which an
/// explicit count would otherwise override) still sets the number.
fn io_threads() -> usize {
    std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get().max(2)))
}

fn dev(args: fastmcp::cli::DevArgs) -> ExitCode {
    let config = match Config::from_env_and_args(args) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    let _log = logging::init(config.log_format, &config.log_filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(io_threads())
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return failure(&e),
    };
    // Inline tool calls may hold all of these threads but one (`plugin::inline`).
    fastmcp::plugin::inline::watch_runtime(runtime.handle());
    let result = runtime.block_on(async move {
        match config.transport {
            Transport::Stdio => stdio::run(config, shutdown_signal()).await,
            Transport::HttpStream => {
                let addr = format!("{}:{}", bracket(&config.host), config.port);
                let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| {
                    server::ServerError::Io(std::io::Error::new(
                        e.kind(),
                        format!("cannot listen on {addr}: {e}"),
                    ))
                })?;
                server::run(config, listener, shutdown_signal()).await
            }
        }
    });
    // Leave without tearing the runtime down: its threads never exit before the process does.
    // Inline tool calls run plugin code on them, and a retired plugin may have left
    // thread-exit destructors there that must not run once its library is closed. Nor do we
    // wait for blocking work (a plugin build, a stuck tool).
    std::mem::forget(runtime);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The server logged which calls; the code tells a supervisor that some were cut off.
        Err(e @ server::ServerError::CutOff { .. }) => {
            eprintln!("warning: {e}");
            ExitCode::from(server::EXIT_CUT_OFF)
        }
        Err(e) => failure(&e),
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Writes a command's output to stdout. A reader that went away (`| head`) is not an error
/// of ours, and `print!` would panic on it.
fn out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// A bad flag or variable: exit code 2.
fn usage_error(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(2)
}

/// A runtime failure (plugin load, bind): exit code 1, with the error chain.
fn failure(e: &dyn std::error::Error) -> ExitCode {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    eprintln!("error: {msg}");
    ExitCode::FAILURE
}
