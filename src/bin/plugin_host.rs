//! `fastmcp-plugin-host`: the process an isolated plugin runs in (`--isolate`). The host
//! starts it as `fastmcp-plugin-host SPEC` from beside its own executable; it serves one
//! plugin with [`child::run`], as `fastmcp __plugin-host SPEC` does.
//!
//! `fastmcp-plugin-host --build-id` prints what the host compares with its own build before it
//! uses this binary ([`exe`]).
//!
//! Why a binary of its own: an idle child's memory is mostly the pages of its executable that
//! it maps, and this one links only the child's side (no HTTP server, CLI parser, session
//! store or HTTP client), so it maps a fraction of what `fastmcp` would
//! (docs/performance.md, "Isolated plugins").

use std::process::ExitCode;

use fastmcp::config::LogFormat;
use fastmcp::plugin::isolate::{child, exe};
use fastmcp::plugin::library::CopiesDir;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(spec), None) = (args.next(), args.next()) else {
        eprintln!(
            "fastmcp-plugin-host: started by fastmcp for an isolated plugin, with one argument \
             (its startup spec); not meant to be run by hand"
        );
        return ExitCode::from(2);
    };
    if spec == exe::BUILD_FLAG {
        // The host asks before it uses this binary: are we from its build?
        println!("{}", exe::build());
        return ExitCode::SUCCESS;
    }
    // The child stages its copy of the library in $TMPDIR/fastmcp-<pid>/, removed on return.
    let _copies = CopiesDir::claim();
    child::run(&spec, || {
        let filter = std::env::var("FASTMCP_LOG").unwrap_or_else(|_| "warn".into());
        fastmcp::logging::init_buffered(LogFormat::Pretty, &filter, child::LOG_BUFFER_LINES)
    })
}
