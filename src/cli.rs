//! Command-line syntax: what the user typed, as clap derive structs.
//!
//! Nothing here is validated beyond its shape. Every `dev` option is an `Option<String>` so
//! that [`crate::config`] can tell "not given" from "given", merge it with the environment
//! (flags > env > defaults) and report a bad value with our own error naming the flag.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

mod requests;

pub(crate) use requests::{CompleteArgs, PromptArgs, ReadArgs};

/// The environment variables listed under the top-level `--help`.
const ENV_HELP: &str = "\
Environment (a flag beats its variable; an empty variable counts as unset):
  FASTMCP_TRANSPORT             http-stream | stdio                        [default: http-stream]
  FASTMCP_HOST                  address to listen on                       [default: 127.0.0.1]
  FASTMCP_PORT, PORT            port to listen on, 0 = ephemeral           [default: 8080]
  FASTMCP_ENDPOINT              path of the MCP endpoint                   [default: /mcp]
  FASTMCP_STATELESS             true | false                               [default: false]
  FASTMCP_ALLOWED_HOSTS         comma-separated Host names, * = any        [default: loopback]
  FASTMCP_ALLOWED_ORIGINS       comma-separated origins, * = any           [default: loopback]
  FASTMCP_TOOL_TIMEOUT          duration, e.g. 30s, 500ms, 2m              [default: 60s]
  FASTMCP_MAX_BLOCKING_CALLS    blocking calls per plugin at once, 1-4096  [default: 64]
  FASTMCP_MAX_BODY_BYTES        request body cap, e.g. 4MiB, 512KiB        [default: 4MiB]
  FASTMCP_SESSION_IDLE_TIMEOUT  idle session lifetime                      [default: 30m]
  FASTMCP_SHUTDOWN_TIMEOUT      grace period for in-flight requests        [default: 10s]
  FASTMCP_HEADER_TIMEOUT        time to send a request's headers           [default: 10s]
  FASTMCP_BODY_TIMEOUT          time to send a request's body              [default: 30s]
  FASTMCP_IDLE_TIMEOUT          keep-alive connection without a request    [default: 60s]
  FASTMCP_MAX_CONNECTIONS       connections served at once                 [default: 1024]
  FASTMCP_MAX_SESSIONS          stateful sessions held at once             [default: 10000]
  FASTMCP_MAX_TASKS             tasks held at once, all callers            [default: 10000]
  FASTMCP_MAX_TASKS_PER_CALLER  tasks one caller holds at once             [default: 100]
  FASTMCP_TASK_TTL              lifetime of a task whose client asks none  [default: 1h]
  FASTMCP_MAX_TASK_TTL          longest task lifetime granted              [default: 24h]
  FASTMCP_TASK_POLL_INTERVAL    poll interval suggested to task clients    [default: 500ms]
  FASTMCP_LOG_FORMAT            pretty | json                              [default: pretty]
  FASTMCP_LOG, RUST_LOG         log filter, e.g. info,fastmcp=debug        [default: info]
  FASTMCP_WATCH                 true | false: rebuild and reload on change [default: true]
  FASTMCP_INLINE_TOOLS          true | false: run short tools inline       [default: true]
  FASTMCP_ISOLATE               true | false | names: in child processes   [default: false]
  FASTMCP_ISOLATE_CRASH_LOOP    COUNT/DURATION crashes stop the restarts   [default: 5/30s]
  FASTMCP_PROFILE               cargo profile for plugin crates            [default: release]
  FASTMCP_STATE_SECRET          key for 2026-07-28 requestState (32+ bytes) [default: random]
  FASTMCP_API_KEY, API_KEY      API key required on the MCP endpoint       [default: none]
  FASTMCP_API_KEYS_FILE         file of id:key[:scopes] lines              [default: none]
  FASTMCP_JWT_SECRET, JWT_SECRET HS256 secret for bearer JWTs (32+ bytes)  [default: none]
  FASTMCP_JWT_ISSUER            required JWT iss                           [default: none]
  FASTMCP_JWT_AUDIENCE          required JWT aud                           [default: none]
  FASTMCP_OAUTH_ISSUER          identity provider of OAuth access tokens   [default: none]
  FASTMCP_JWKS_URL              its key set, if not found via its metadata [default: discovered]
  FASTMCP_OAUTH_AUDIENCE        the aud OAuth tokens must name             [default: public URL + endpoint]
  FASTMCP_PUBLIC_URL            where clients reach this server            [default: none]
  FASTMCP_SESSION_STORE         memory | redis://host:port/db              [default: memory]
  FASTMCP_METRICS               true | false: serve GET /metrics           [default: false]
  FASTMCP_METRICS_AUTH          /metrics needs credentials when auth is on [default: true]
  FASTMCP_PLUGIN_MEMORY_LIMIT   memory of an isolated plugin, e.g. 512MiB  [default: none]
  FASTMCP_PLUGIN_CPU_LIMIT      CPU time of one isolated call, e.g. 10s    [default: none]
  FASTMCP_PLUGIN_ALLOW_NET      true | false: isolated plugins use network [default: false]
  FASTMCP_PLUGIN_ALLOW_PATH     :-separated paths isolated plugins may use [default: none]";

/// `fastmcp`: serve MCP tools written as Rust cdylib plugins.
#[derive(Debug, Parser)]
#[command(
    name = "fastmcp",
    version,
    about = "A dev server for MCP tools written as Rust cdylib plugins",
    after_help = ENV_HELP
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once at startup; boxing would only add noise"
)]
pub enum Command {
    /// Serve one or more plugins over Streamable HTTP or stdio.
    Dev(DevArgs),
    /// Print what a plugin offers (tools, prompts, resources).
    Inspect(InspectArgs),
    /// Run one tool call without a server and print its result.
    Call(CallArgs),
    /// Read one resource without a server and print the result JSON.
    Read(ReadArgs),
    /// Get one prompt without a server and print the result JSON.
    Prompt(PromptArgs),
    /// Ask for completions of a prompt or resource-template argument and print the result JSON.
    Complete(CompleteArgs),
    /// Serve plugins over stdio: `dev --transport stdio`, with no flag for a launcher to take.
    #[command(override_usage = "fastmcp stdio [OPTIONS] <PLUGIN>...")]
    Stdio(DevArgs),
    /// GET the server's /ready; exit 0 when it answers 200, 1 otherwise (for HEALTHCHECKs).
    Probe(ProbeArgs),
    /// Write a new plugin crate (tools, a resource, a prompt, tests, README, Dockerfile).
    New(NewArgs),
    /// Hidden: apply a sandbox policy to this process, then run one tool call (tests the
    /// sandbox of isolated plugins on the real kernel).
    #[command(name = "__sandboxed-call", hide = true)]
    SandboxedCall(SandboxedCallArgs),
    /// Internal: serve one isolated plugin to the fastmcp that started this process.
    #[command(name = "__plugin-host", hide = true)]
    PluginHost(PluginHostArgs),
}

/// `fastmcp __plugin-host SPEC`: started by the host, never by a user.
#[derive(Debug, Clone, Args)]
pub struct PluginHostArgs {
    /// The startup spec (JSON) the host wrote.
    pub spec: String,
}

/// `fastmcp dev [OPTIONS] <PLUGIN>...`
///
/// `plugins` is not `required` for clap on purpose: a bare `--stateless` or `--watch` takes
/// the next word as its value (`dev --watch x.so`), and the config stage explains that better
/// than clap's "required argument missing" would.
#[derive(Debug, Clone, Default, Args)]
#[command(override_usage = "fastmcp dev [OPTIONS] <PLUGIN>...")]
pub struct DevArgs {
    /// One or more plugins to serve: a built library (.so/.dylib), a plugin crate directory, or its Cargo.toml
    #[arg(value_name = "PLUGIN")]
    pub(crate) plugins: Vec<PathBuf>,

    /// Transport: http-stream (also httpStream) or stdio [env: FASTMCP_TRANSPORT] [default: http-stream]
    #[arg(long, value_name = "TRANSPORT")]
    pub transport: Option<String>,

    /// Address to listen on [env: FASTMCP_HOST] [default: 127.0.0.1]
    #[arg(long, value_name = "HOST")]
    pub(crate) host: Option<String>,

    /// Port to listen on, 0 = any free port [env: FASTMCP_PORT, PORT] [default: 8080]
    #[arg(long, value_name = "PORT")]
    pub(crate) port: Option<String>,

    /// Path of the MCP endpoint [env: FASTMCP_ENDPOINT] [default: /mcp]
    #[arg(long, value_name = "PATH")]
    pub(crate) endpoint: Option<String>,

    /// Serve without sessions; bare --stateless means true [env: FASTMCP_STATELESS] [default: false]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) stateless: Option<String>,

    /// Comma-separated Host header names to accept, * = any [env: FASTMCP_ALLOWED_HOSTS] [default: loopback names]
    #[arg(long, value_name = "HOSTS")]
    pub(crate) allowed_hosts: Option<String>,

    /// Comma-separated origins to accept, e.g. http://localhost:3000, * = any [env: FASTMCP_ALLOWED_ORIGINS] [default: loopback origins]
    #[arg(long, value_name = "ORIGINS")]
    pub(crate) allowed_origins: Option<String>,

    /// Time limit of one tool call: 30s, 500ms, 2m or seconds [env: FASTMCP_TOOL_TIMEOUT] [default: 60s]
    #[arg(long, value_name = "DURATION")]
    pub(crate) tool_timeout: Option<String>,

    /// Most calls of one plugin that run on its worker threads at once (1-4096); more wait in a queue [env: FASTMCP_MAX_BLOCKING_CALLS] [default: 64]
    #[arg(long, value_name = "N")]
    pub(crate) max_blocking_calls: Option<String>,

    /// Largest accepted request body: bytes or 4MiB, 512KiB, 1MB [env: FASTMCP_MAX_BODY_BYTES] [default: 4MiB]
    #[arg(long, value_name = "SIZE")]
    pub(crate) max_body_bytes: Option<String>,

    /// Drop a session after this long without requests [env: FASTMCP_SESSION_IDLE_TIMEOUT] [default: 30m]
    #[arg(long, value_name = "DURATION")]
    pub(crate) session_idle_timeout: Option<String>,

    /// How long shutdown waits for in-flight requests [env: FASTMCP_SHUTDOWN_TIMEOUT] [default: 10s]
    #[arg(long, value_name = "DURATION")]
    pub(crate) shutdown_timeout: Option<String>,

    /// Close a connection whose request line and headers take longer than this to arrive [env: FASTMCP_HEADER_TIMEOUT] [default: 10s]
    #[arg(long, value_name = "DURATION")]
    pub(crate) header_timeout: Option<String>,

    /// Close a connection whose request body takes longer than this to arrive [env: FASTMCP_BODY_TIMEOUT] [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub(crate) body_timeout: Option<String>,

    /// Close a keep-alive connection with no request in flight after this; an open stream is not idle [env: FASTMCP_IDLE_TIMEOUT] [default: 60s]
    #[arg(long, value_name = "DURATION")]
    pub(crate) idle_timeout: Option<String>,

    /// Most connections served at once; more are refused, /health and /ready keep a small reserve [env: FASTMCP_MAX_CONNECTIONS] [default: 1024, lowered to fit the open-files limit]
    #[arg(long, value_name = "N")]
    pub(crate) max_connections: Option<String>,

    /// Most stateful sessions held at once; initialize past it gets 503 [env: FASTMCP_MAX_SESSIONS] [default: 10000]
    #[arg(long, value_name = "N")]
    pub(crate) max_sessions: Option<String>,

    /// Most tasks held at once, all callers together; a task past it gets -32000 [env: FASTMCP_MAX_TASKS] [default: 10000]
    #[arg(long, value_name = "N")]
    pub(crate) max_tasks: Option<String>,

    /// Most tasks one caller (or session, or all anonymous clients) holds at once; at most --max-tasks [env: FASTMCP_MAX_TASKS_PER_CALLER] [default: 100]
    #[arg(long, value_name = "N")]
    pub(crate) max_tasks_per_caller: Option<String>,

    /// Lifetime of a task whose client asks for none (always with 2026-07-28); at most --max-task-ttl [env: FASTMCP_TASK_TTL] [default: 1h]
    #[arg(long, value_name = "DURATION")]
    pub(crate) task_ttl: Option<String>,

    /// Longest task lifetime granted; a longer request is cut to it [env: FASTMCP_MAX_TASK_TTL] [default: 24h]
    #[arg(long, value_name = "DURATION")]
    pub(crate) max_task_ttl: Option<String>,

    /// The poll interval suggested to task clients (pollInterval) [env: FASTMCP_TASK_POLL_INTERVAL] [default: 500ms]
    #[arg(long, value_name = "DURATION")]
    pub(crate) task_poll_interval: Option<String>,

    /// Log format: pretty or json [env: FASTMCP_LOG_FORMAT] [default: pretty]
    #[arg(long, value_name = "FORMAT")]
    pub(crate) log_format: Option<String>,

    /// Rebuild and reload plugins when they change; bare --watch means true [env: FASTMCP_WATCH] [default: true]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) watch: Option<String>,

    /// Run tools the plugin marks inline on the thread that read the request; false sends every call to the plugin's worker threads [env: FASTMCP_INLINE_TOOLS] [default: true]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) inline_tools: Option<String>,

    /// Run plugins in supervised child processes, so a crash costs only its own calls: true (all), false (none), or a comma-separated list of plugin names (file or crate directory name); bare --isolate means true [env: FASTMCP_ISOLATE] [default: false]
    #[arg(long, value_name = "BOOL|NAMES", num_args = 0..=1, default_missing_value = "true")]
    pub isolate: Option<String>,

    /// An isolated plugin whose children crash COUNT times within DURATION is not restarted until a reload, e.g. 5/30s [env: FASTMCP_ISOLATE_CRASH_LOOP] [default: 5/30s]
    #[arg(long, value_name = "COUNT/DURATION")]
    pub(crate) isolate_crash_loop: Option<String>,

    /// Cargo profile for plugin crates; dev and debug both mean target/debug [env: FASTMCP_PROFILE] [default: release]
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Key (32+ bytes) sealing 2026-07-28 requestState; give every instance behind a load balancer the same one [env: FASTMCP_STATE_SECRET] [default: random per process]
    #[arg(long, value_name = "SECRET")]
    pub(crate) state_secret: Option<String>,

    /// Where stateful sessions live: memory, or redis://host:port/db to share them between instances [env: FASTMCP_SESSION_STORE] [default: memory]
    #[arg(long, value_name = "URL")]
    pub(crate) session_store: Option<String>,

    /// API key clients must send as x-api-key or Authorization: Bearer; prefer the variable, flags show in `ps` [env: FASTMCP_API_KEY, API_KEY]
    #[arg(long, value_name = "KEY")]
    pub(crate) api_key: Option<String>,

    /// File with one API key per line: id:key or id:key:scope1,scope2 [env: FASTMCP_API_KEYS_FILE]
    #[arg(long, value_name = "PATH")]
    pub(crate) api_keys_file: Option<String>,

    /// HS256 secret (at least 32 bytes) that bearer JWTs are signed with [env: FASTMCP_JWT_SECRET, JWT_SECRET]
    #[arg(long, value_name = "SECRET")]
    pub(crate) jwt_secret: Option<String>,

    /// The iss every JWT must have [env: FASTMCP_JWT_ISSUER]
    #[arg(long, value_name = "ISSUER")]
    pub(crate) jwt_issuer: Option<String>,

    /// A value every JWT's aud must contain [env: FASTMCP_JWT_AUDIENCE]
    #[arg(long, value_name = "AUDIENCE")]
    pub(crate) jwt_audience: Option<String>,

    /// OAuth issuer (identity provider) whose RS/PS/ES/EdDSA access tokens are accepted; its keys are found through its metadata [env: FASTMCP_OAUTH_ISSUER]
    #[arg(long, value_name = "URL")]
    pub(crate) oauth_issuer: Option<String>,

    /// The issuer's JWK set, when it is not found through the issuer's metadata; needs --oauth-issuer [env: FASTMCP_JWKS_URL]
    #[arg(long, value_name = "URL")]
    pub(crate) jwks_url: Option<String>,

    /// The resource URL OAuth tokens must name in aud (RFC 8707) [env: FASTMCP_OAUTH_AUDIENCE] [default: --public-url + endpoint]
    #[arg(long, value_name = "URL")]
    pub(crate) oauth_audience: Option<String>,

    /// Base URL clients reach this server at (scheme, host, port and any path prefix); with the endpoint it names the OAuth resource [env: FASTMCP_PUBLIC_URL]
    #[arg(long, value_name = "URL")]
    pub(crate) public_url: Option<String>,

    /// Serve Prometheus metrics at GET /metrics; bare --metrics means true [env: FASTMCP_METRICS] [default: false]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) metrics: Option<String>,

    /// /metrics needs the MCP endpoint's credentials when authentication is on [env: FASTMCP_METRICS_AUTH] [default: true]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) metrics_auth: Option<String>,

    /// Memory limit of each isolated plugin's process: 512MiB, 2GiB (at least 64MiB); a cgroup v2 where one is delegated, RLIMIT_AS otherwise [env: FASTMCP_PLUGIN_MEMORY_LIMIT] [default: none]
    #[arg(long, value_name = "SIZE")]
    pub(crate) plugin_memory_limit: Option<String>,

    /// CPU time one call of an isolated plugin may use; past it the plugin's process is killed and its calls fail [env: FASTMCP_PLUGIN_CPU_LIMIT] [default: none]
    #[arg(long, value_name = "DURATION")]
    pub(crate) plugin_cpu_limit: Option<String>,

    /// Let isolated plugins use the network; bare --plugin-allow-net means true [env: FASTMCP_PLUGIN_ALLOW_NET] [default: false]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub(crate) plugin_allow_net: Option<String>,

    /// A file or directory isolated plugins may read and write; repeat the flag for more [env: FASTMCP_PLUGIN_ALLOW_PATH, :-separated] [default: none]
    #[arg(long, value_name = "PATH")]
    pub(crate) plugin_allow_path: Vec<String>,
}

/// `fastmcp inspect [--json] [--profile P] <PLUGIN>`
#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// A built library (.so/.dylib), a plugin crate directory, or its Cargo.toml
    #[arg(value_name = "PLUGIN")]
    pub plugin: PathBuf,

    /// Print the manifest as JSON instead of a summary
    #[arg(long)]
    pub json: bool,

    /// Cargo profile when PLUGIN is a crate [env: FASTMCP_PROFILE] [default: release]
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Run the plugin in a child process, as `dev --isolate` does; bare --isolate means true [env: FASTMCP_ISOLATE] [default: false]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub isolate: Option<String>,
}

/// `fastmcp call [--profile P] <PLUGIN> <TOOL> [--args JSON]`
#[derive(Debug, Clone, Args)]
pub struct CallArgs {
    /// A built library (.so/.dylib), a plugin crate directory, or its Cargo.toml
    #[arg(value_name = "PLUGIN")]
    pub plugin: PathBuf,

    /// Name of the tool to call
    #[arg(value_name = "TOOL")]
    pub tool: String,

    /// Tool arguments as a JSON object
    #[arg(long, value_name = "JSON", default_value = "{}")]
    pub args: String,

    /// Cargo profile when PLUGIN is a crate [env: FASTMCP_PROFILE] [default: release]
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// Run the plugin in a child process, as `dev --isolate` does; bare --isolate means true [env: FASTMCP_ISOLATE] [default: false]
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub isolate: Option<String>,
}

/// `fastmcp __sandboxed-call --policy JSON <PLUGIN> <TOOL> [--args JSON]` (hidden)
#[derive(Debug, Clone, Args)]
pub struct SandboxedCallArgs {
    /// The sandbox policy as JSON (`sandbox::Policy`)
    #[arg(long, value_name = "JSON")]
    pub(crate) policy: String,

    /// What to call, as for `fastmcp call`
    #[command(flatten)]
    pub(crate) call: CallArgs,
}

/// `fastmcp probe [--url URL] [--timeout DUR]`
#[derive(Debug, Clone, Default, Args)]
pub struct ProbeArgs {
    /// URL to GET [default: http://$FASTMCP_HOST:$FASTMCP_PORT/ready, i.e. http://127.0.0.1:8080/ready]
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,

    /// Give up after this long: 5s, 500ms or seconds [default: 5s]
    #[arg(long, value_name = "DURATION")]
    pub(crate) timeout: Option<String>,
}

/// `fastmcp new <NAME> [--path DIR] [--sdk-path SDK]`
#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    /// The crate's name (also the plugin's): ASCII letters, digits, - and _
    #[arg(value_name = "NAME")]
    pub name: String,

    /// Directory to create the crate in; must not exist or be empty [default: ./NAME]
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,

    /// Depend on the fastmcp-sdk crate in this directory instead of the crates.io release [default: the SDK of the fastmcp checkout this binary was built from, if any]
    #[arg(long, value_name = "SDK")]
    pub sdk_path: Option<PathBuf>,
}

#[cfg(test)]
mod tests;
