//! The one-shot subcommands: `inspect`, `call`, `read`, `prompt`, `complete` and `probe`.
//!
//! - `local`: one MCP request to a plugin through the host's service, without a server.
//! - `sandboxed`: the hidden `__sandboxed-call`: `call` inside an isolated plugin's sandbox.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::config::{PluginSource, ProbeConfig};
use crate::plugin::isolate::{self, CrashLoop, Isolation};
use crate::plugin::pool::PoolOptions;
use crate::plugin::{Generation, PluginError, build};

pub mod local;
pub mod sandboxed;

pub use local::{LocalRequest, RequestError};

/// Builds (for a crate) and loads one plugin outside any server, in a child process when
/// `isolation` covers it. Blocking.
pub fn load_one(
    plugin: &std::path::Path,
    profile: &str,
    isolation: &Isolation,
) -> Result<Arc<Generation>, PluginError> {
    let library = library_of(plugin, profile)?;
    if isolation.covers(&plugin.display().to_string(), &library) {
        let staged = crate::plugin::library::stage(&library)?;
        let options = PoolOptions::default();
        let label = plugin.display().to_string();
        let how = isolate::Isolated {
            pool: &options,
            crash_loop: CrashLoop::default(),
            sandbox: &crate::sandbox::Policy::new(""),
        };
        return isolate::load(staged, 1, &label, &how);
    }
    Generation::load(&library, 1)
}

/// The plugin a one-shot command runs, and how.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// A library or a crate.
    pub plugin: &'a std::path::Path,
    /// Cargo profile for a crate.
    pub profile: &'a str,
    /// Whether it runs in a child process.
    pub isolation: &'a Isolation,
}

/// The library a plugin argument names, built first when it is a crate. Blocking.
fn library_of(plugin: &std::path::Path, profile: &str) -> Result<PathBuf, PluginError> {
    Ok(match PluginSource::from_arg(plugin) {
        PluginSource::Library(p) => p,
        PluginSource::Crate { manifest_path } => {
            build::cargo_build(&manifest_path, profile, true)?.library
        }
    })
}

/// The manifest as the JSON `inspect --json` prints.
pub fn manifest_json(g: &Generation) -> Value {
    let m = &g.manifest;
    let tools: Vec<Value> = m
        .tools
        .iter()
        .map(|t| {
            let mut v = serde_json::to_value(&t.tool).unwrap_or(Value::Null);
            if t.access.authenticated || !t.access.scopes.is_empty() {
                v["access"] =
                    json!({"authenticated": t.access.authenticated, "scopes": t.access.scopes});
            }
            v
        })
        .collect();
    json!({
        "name": m.name,
        "version": m.version,
        "sdk": m.sdk,
        "path": g.path(),
        "tools": tools,
        "resources": m.resources,
        "resourceTemplates": m.resource_templates,
        "prompts": m.prompts,
        "skills": m.skills.iter().map(|s| &s.entry).collect::<Vec<_>>(),
    })
}

/// The human-readable summary of `inspect`: every tool with its arguments and output schema,
/// every resource and template with its description, every prompt with its arguments, every
/// skill with its description and file count.
pub fn manifest_table(g: &Generation) -> String {
    let m = &g.manifest;
    let mut out = format!(
        "{} {} ({})\n{}\n",
        m.name,
        m.version,
        m.sdk.as_deref().unwrap_or("unknown sdk"),
        g.path().display()
    );
    out.push_str(&format!("\nTools ({}):\n", m.tools.len()));
    for t in &m.tools {
        let desc = t.tool.description.as_deref().unwrap_or("");
        out.push_str(&format!("  {:<24} {}\n", t.tool.name, first_line(desc)));
        property_rows(&mut out, &t.tool.input_schema, "      ");
        if let Some(schema) = &t.tool.output_schema {
            out.push_str("      returns (output schema):\n");
            property_rows(&mut out, schema, "        ");
        }
        if t.access.authenticated || !t.access.scopes.is_empty() {
            out.push_str(&format!(
                "      (requires authentication; scopes: {:?})\n",
                t.access.scopes
            ));
        }
    }
    section(
        &mut out,
        "Resources",
        m.resources.iter().map(|r| {
            let text = described(&r.name, r.mime_type.as_deref(), r.description.as_deref());
            (r.uri.clone(), text, Vec::new())
        }),
    );
    section(
        &mut out,
        "Resource templates",
        m.resource_templates.iter().map(|t| {
            let text = described(&t.name, t.mime_type.as_deref(), t.description.as_deref());
            (t.uri_template.clone(), text, Vec::new())
        }),
    );
    section(
        &mut out,
        "Prompts",
        m.prompts.iter().map(|p| {
            let args = p.arguments.iter().flatten().map(|a| {
                let req = if a.required == Some(true) {
                    "required"
                } else {
                    "optional"
                };
                let d = a.description.as_deref().unwrap_or("");
                format!("      {:<20} {req:<9} {d}\n", a.name)
            });
            let desc = first_line(p.description.as_deref().unwrap_or("")).to_string();
            (p.name.clone(), desc, args.collect())
        }),
    );
    section(
        &mut out,
        "Skills",
        m.skills.iter().map(|s| {
            let desc = s.entry["frontmatter"]["description"].as_str().unwrap_or("");
            let files = s.entry["resources"].as_array().map_or(0, Vec::len);
            let text = format!("{} ({files} files)", first_line(desc));
            (s.uri.clone(), text, Vec::new())
        }),
    );
    out
}

/// Appends a section of rows (key, text, lines under it), or nothing when it is empty.
fn section(
    out: &mut String,
    label: &str,
    items: impl ExactSizeIterator<Item = (String, String, Vec<String>)>,
) {
    if items.len() == 0 {
        return;
    }
    out.push_str(&format!("\n{label} ({}):\n", items.len()));
    for (key, text, lines) in items {
        out.push_str(&format!("  {key:<40} {text}\n"));
        lines.iter().for_each(|l| out.push_str(l));
    }
}

/// `name (mime): description`, leaving out what is missing.
fn described(name: &str, mime: Option<&str>, description: Option<&str>) -> String {
    let mut text = name.to_string();
    if let Some(mime) = mime {
        text.push_str(&format!(" ({mime})"));
    }
    if let Some(d) = description.map(first_line).filter(|d| !d.is_empty()) {
        text.push_str(&format!(": {d}"));
    }
    text
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// One row per property of an object schema: name, type, required or not, description.
fn property_rows(out: &mut String, schema: &serde_json::Map<String, Value>, indent: &str) {
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, p) in props {
        let ty = describe_type(resolve_ref(schema, p));
        let req = if required.contains(&name.as_str()) {
            "required"
        } else {
            "optional"
        };
        let d = p.get("description").and_then(Value::as_str).unwrap_or("");
        out.push_str(&format!("{indent}{name:<20} {ty:<28} {req:<9} {d}\n"));
    }
}

/// The schema `p` points to when it is a local `{"$ref": "#/$defs/Name"}` of `root` (how
/// schemars writes enums and nested structs), else `p` itself.
fn resolve_ref<'a>(root: &'a serde_json::Map<String, Value>, p: &'a Value) -> &'a Value {
    p.get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/"))
        .and_then(|path| {
            let mut parts = path.split('/');
            let mut node = root.get(parts.next()?)?;
            for part in parts {
                node = node.get(part)?;
            }
            Some(node)
        })
        .unwrap_or(p)
}

fn describe_type(p: &Value) -> String {
    if let Some(e) = p.get("enum").and_then(Value::as_array) {
        let vals: Vec<String> = e
            .iter()
            .map(|v| v.as_str().map_or(v.to_string(), str::to_string))
            .collect();
        return vals.join("|");
    }
    match p.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("|"),
        _ if p.get("$ref").is_some() => "object".into(),
        _ => "any".into(),
    }
}

/// Runs `tool` of the plugin at `plugin` once with `args`, through the same tool-call path the
/// servers use (`local::send`). Returns the printed result and whether it is an error.
/// Blocking.
pub fn call_tool(
    call: &Call<'_>,
    tool: &str,
    args: serde_json::Map<String, Value>,
) -> Result<(String, bool), PluginError> {
    let params = json!({"name": tool, "arguments": args});
    let reply = local::send(call, "tools/call", params)?;
    Ok(match (reply.get("result"), reply.get("error")) {
        (Some(result), _) => (
            serde_json::to_string_pretty(result).unwrap_or_default(),
            result
                .get("isError")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
        (None, Some(e)) => (
            format!(
                "error {}: {}",
                e["code"],
                e["message"].as_str().unwrap_or("")
            ),
            true,
        ),
        (None, None) => ("the call failed without a reply".into(), true),
    })
}

/// GETs the probe URL; `Ok` when the server answered 200.
pub fn probe(p: &ProbeConfig) -> Result<(), String> {
    let addr = (p.host.as_str(), p.port)
        .to_socket_addrs()
        .map_err(|e| format!("{}: cannot resolve: {e}", p.url))?
        .next()
        .ok_or_else(|| format!("{}: no address", p.url))?;
    let mut stream = TcpStream::connect_timeout(&addr, p.timeout)
        .map_err(|e| format!("{}: cannot connect: {e}", p.url))?;
    let _ = stream.set_read_timeout(Some(p.timeout));
    let _ = stream.set_write_timeout(Some(p.timeout));
    let host = if p.host.contains(':') {
        format!("[{}]", p.host)
    } else {
        p.host.clone()
    };
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {host}:{}\r\nConnection: close\r\nUser-Agent: fastmcp-probe\r\n\r\n",
        p.path, p.port
    );
    stream
        .write_all(req.as_bytes())
        .map_err(|e| format!("{}: {e}", p.url))?;
    let mut buf = Vec::new();
    let _ = stream.take(64 * 1024).read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let status_line = text.lines().next().unwrap_or("");
    let code = status_line.split_whitespace().nth(1).unwrap_or("");
    if code == "200" {
        Ok(())
    } else if status_line.is_empty() {
        Err(format!("{}: no answer", p.url))
    } else {
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("").trim();
        Err(format!("{}: {status_line} {body}", p.url))
    }
}
