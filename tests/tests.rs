//! Integration tests: the real `fastmcp` binary over real HTTP on 127.0.0.1, serving real
//! plugins built from `tool-plugins/`. One test binary; each area is a module.

mod util;

mod async_abi;
mod async_tools;
mod auth;
mod backpressure;
mod blocking;
mod c_header;
mod c_plugin;
mod commands;
mod config_cli;
mod conformance_plugin;
mod docker;
mod fetch_plugin;
mod hardening;
mod health;
mod http_stateful;
mod http_stateless;
mod inline;
mod inline_context;
mod io_isolation;
mod limits;
mod malformed;
mod metrics;
mod modern;
mod plugin_replies;
mod plugins_load;
mod redis_store;
mod reload;
mod reload_async;
mod reload_memory;
mod scale_out;
mod sdk_client;
mod security;
mod shutdown;
mod stdio;
mod streaming;
mod tasks;
mod tasks_owners;
mod tasks_redis;
mod tasks_stdio;
mod tools;
