//! The Docker image's contract, without a Docker engine: the final stage of `Dockerfile` is
//! parsed (`ENV`, `CMD`, `HEALTHCHECK`, `COPY`, `USER`), the image's paths are mapped to the
//! binary and plugin this build produced, and its exact command line runs with exactly its
//! environment (plus `PATH`, and `PORT` moved to a free port). The server must be ready in
//! stateless mode, answer a request whose `Host` is not loopback (behind `docker run -p` or a
//! load balancer it never is), and the `HEALTHCHECK` command must pass while it runs and fail
//! once it stopped.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, Server, plugins, text_of, tool_call};

/// Debian's default `PATH`, which the final stage's base image (`debian:*-slim`) sets.
const IMAGE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One instruction: its keyword (upper case) and the rest of the (joined) line.
#[derive(Debug, Clone)]
pub(crate) struct Instruction {
    pub(crate) keyword: String,
    pub(crate) args: String,
}

/// The instructions of a Dockerfile: comments dropped, `\` continuations joined.
pub(crate) fn instructions(text: &str) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                let (keyword, args) = current
                    .split_once(char::is_whitespace)
                    .unwrap_or((&current, ""));
                out.push(Instruction {
                    keyword: keyword.to_uppercase(),
                    args: args.trim().to_string(),
                });
                current.clear();
            }
        }
    }
    out
}

/// Splits on whitespace, honouring double quotes and backslash escapes (`ENV` syntax).
pub(crate) fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut word, mut quoted, mut escaped, mut any) = (String::new(), false, false, false);
    for c in s.chars() {
        if escaped {
            word.push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
            any = true;
        } else if c.is_whitespace() && !quoted {
            if any || !word.is_empty() {
                out.push(std::mem::take(&mut word));
                any = false;
            }
        } else {
            word.push(c);
        }
    }
    if any || !word.is_empty() {
        out.push(word);
    }
    out
}

/// `ENV` pairs, in order: `K=V K2=V2`, or the legacy `K value with spaces`.
fn env_pairs(args: &str) -> Vec<(String, String)> {
    let w = words(args);
    if !w.is_empty() && !w[0].contains('=') {
        let (key, value) = args.split_once(char::is_whitespace).expect("ENV KEY VALUE");
        return vec![(key.to_string(), value.trim().to_string())];
    }
    w.into_iter()
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("ENV KEY=VALUE");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// A JSON-array (exec form) command; panics on the shell form, which would need a shell.
fn exec_form(args: &str, what: &str) -> Vec<String> {
    serde_json::from_str(args.trim())
        .unwrap_or_else(|e| panic!("{what} must be a JSON array (exec form) ({e}): {args}"))
}

/// What the test needs from the final stage.
#[derive(Debug)]
pub(crate) struct Image {
    stages: usize,
    env: Vec<(String, String)>,
    pub(crate) cmd: Vec<String>,
    pub(crate) healthcheck: Vec<String>,
    user: Option<String>,
    expose: Vec<String>,
    /// Image path -> file this build produced, from the final stage's `COPY`s.
    pub(crate) files: HashMap<String, PathBuf>,
    copies_from_a_stage: bool,
}

/// The build outputs the image ships, by their path in the build stage.
pub(crate) fn built(source: &str) -> PathBuf {
    match Path::new(source)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap()
    {
        "fastmcp" => PathBuf::from(util::bin()),
        "fastmcp-plugin-host" => PathBuf::from(env!("CARGO_BIN_EXE_fastmcp-plugin-host")),
        "libcalculator.so" => plugins().calculator.clone(),
        other => panic!("the image ships {other:?}, which this test does not know how to build"),
    }
}

/// The final stage of the Dockerfile `text`; `built` maps the path of a file the final stage
/// copies (as written in its `COPY`) to the file on this machine.
pub(crate) fn parse_image(text: &str, built: &dyn Fn(&str) -> PathBuf) -> Image {
    let all = instructions(text);
    let froms: Vec<usize> = (0..all.len())
        .filter(|i| all[*i].keyword == "FROM")
        .collect();
    let last = *froms.last().expect("a FROM");
    let mut image = Image {
        stages: froms.len(),
        env: Vec::new(),
        cmd: Vec::new(),
        healthcheck: Vec::new(),
        user: None,
        expose: Vec::new(),
        files: HashMap::new(),
        copies_from_a_stage: false,
    };
    let mut workdir = "/".to_string();
    for ins in &all[last + 1..] {
        match ins.keyword.as_str() {
            "ENV" => image.env.extend(env_pairs(&ins.args)),
            "CMD" => image.cmd = exec_form(&ins.args, "CMD"),
            "USER" => image.user = Some(ins.args.clone()),
            "EXPOSE" => image.expose.extend(words(&ins.args)),
            "WORKDIR" => workdir = ins.args.clone(),
            "HEALTHCHECK" => {
                let (_, cmd) = ins
                    .args
                    .split_once("CMD")
                    .expect("HEALTHCHECK ... CMD [...]");
                image.healthcheck = exec_form(cmd, "HEALTHCHECK CMD");
            }
            "COPY" | "ADD" => {
                let w: Vec<String> = words(&ins.args);
                image.copies_from_a_stage |= w.iter().any(|a| a.starts_with("--from="));
                let paths: Vec<&String> = w.iter().filter(|a| !a.starts_with("--")).collect();
                let (dest, sources) = paths.split_last().expect("COPY SRC... DEST");
                for src in sources {
                    let name = Path::new(src.as_str())
                        .file_name()
                        .unwrap()
                        .to_str()
                        .unwrap();
                    let mut path = if dest.ends_with('/') {
                        format!("{dest}{name}")
                    } else {
                        dest.to_string()
                    };
                    if !path.starts_with('/') {
                        path = format!("{}/{path}", workdir.trim_end_matches('/'));
                    }
                    image.files.insert(path, built(src));
                }
            }
            _ => {}
        }
    }
    image
}

impl Image {
    /// The image's command with its paths mapped to this build's files.
    pub(crate) fn host_command(&self, argv: &[String]) -> Command {
        let program = &argv[0];
        let program = if program.contains('/') {
            program.clone()
        } else {
            // A bare name is looked up in the image's PATH.
            let path = self.env_value("PATH").unwrap_or(IMAGE_PATH);
            path.split(':')
                .map(|dir| format!("{dir}/{program}"))
                .find(|p| self.files.contains_key(p))
                .unwrap_or_else(|| panic!("{program} is not in the image's PATH ({path})"))
        };
        let map = |a: &String| match self.files.get(a) {
            Some(host) => host.to_str().unwrap().to_string(),
            None => a.clone(),
        };
        let mut cmd = Command::new(map(&program));
        cmd.args(argv[1..].iter().map(map))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// Runs the image's `CMD` in `workdir` with `PORT=port` and waits until it is ready.
    pub(crate) fn serve(&self, port: u16, workdir: &Path) -> Server {
        let mut cmd = self.host_command(&self.cmd);
        cmd.env("PORT", port.to_string()).current_dir(workdir);
        let server = util::spawn_on_port(cmd, port);
        server.wait_ready();
        server
    }

    pub(crate) fn env_value(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Runs the `HEALTHCHECK` command to completion (bounded) and returns whether it exited 0.
pub(crate) fn healthy(image: &Image, port: u16) -> bool {
    let mut cmd = image.host_command(&image.healthcheck);
    cmd.env("PORT", port.to_string());
    util::run_command(cmd, "the HEALTHCHECK command", Duration::from_secs(15))
        .status
        .success()
}

fn dockerfile() -> Image {
    let text = std::fs::read_to_string(util::root().join("Dockerfile")).expect("read Dockerfile");
    parse_image(&text, &built)
}

#[test]
fn the_image_is_multi_stage_and_runs_as_a_non_root_user() {
    let image = dockerfile();
    assert!(image.stages >= 2, "a build stage and a runtime stage");
    assert!(
        image.copies_from_a_stage,
        "the runtime stage copies the build's outputs"
    );
    let user = image.user.as_deref().expect("a USER in the final stage");
    let name = user.split(':').next().unwrap();
    assert!(!matches!(name, "root" | "0" | ""), "USER {user}");
    // What EXPOSE documents is where the server listens by default.
    let port = image.env_value("PORT").or(image.env_value("FASTMCP_PORT"));
    assert!(
        image
            .expose
            .iter()
            .any(|e| Some(e.split('/').next().unwrap()) == port),
        "EXPOSE {:?} vs PORT {port:?}",
        image.expose
    );
}

#[test]
fn the_images_command_serves_and_its_healthcheck_follows_the_server() {
    let image = dockerfile();
    assert!(
        !image.cmd.is_empty() && !image.healthcheck.is_empty(),
        "{image:?}"
    );
    let port = util::free_port();
    // WORKDIR: an empty directory, as /app is apart from the plugin.
    let workdir = tempfile::tempdir().unwrap();
    let mut server = image.serve(port, workdir.path());
    let (status, body) = util::ready(&server);
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"mode": "stateless", "ready": 1, "status": "ready", "total": 1})
    );

    // Clients reach a container by a public name or address, never by loopback.
    let call = tool_call(1, "calculate", json!({"operation": "add", "a": 2, "b": 3}));
    for host in ["mcp.example.com", "203.0.113.7:8080"] {
        let r = server.post_with(&call, &[("host", host)], None);
        assert_eq!(
            r.status(),
            200,
            "Host: {host}; is the Host allow-list open in the image?"
        );
        let v: Value = util::rpc_response(r);
        assert_eq!(text_of(&v), "Result: 5", "{v}");
    }
    assert!(
        healthy(&image, port),
        "the HEALTHCHECK fails on a ready server"
    );

    server.terminate();
    server.assert_exits(0, Duration::from_secs(15));
    assert!(
        !healthy(&image, port),
        "the HEALTHCHECK passes with no server"
    );
}
