//! Integration tests: the real `fastmcp` binary over real HTTP on 127.0.0.1, serving real
//! plugins built from `tool-plugins/`. One test binary; each area is a module.

mod util;
mod reload;
mod reload_memory;
