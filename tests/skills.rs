//! The skills extension (SEP-2640) against the real binary: the conformance plugin's skills
//! (`tool-plugins/conformance/skills/`) listed, fetched, browsed and read over HTTP in both
//! protocol eras, the capability only where skills are served, the errors for unknown skills,
//! directories and cursors, long lists and directories paged with cursors, a plugin crate whose
//! skills are edited (and added to) while it is served, and two plugins shipping one skill name.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::modern::{body, send};
use crate::util::{self, Server, plugins, rpc};

const EXTENSION: &str = "io.modelcontextprotocol/skills";

/// The conformance plugin's skills directory: what the server must serve, byte for byte.
fn fixture(path: &str) -> PathBuf {
    util::root()
        .join("tool-plugins/conformance/skills")
        .join(path)
}

/// A 2026-07-28 request; returns the JSON-RPC response.
fn modern(server: &Server, method: &str, params: Value) -> Value {
    let (status, v) = body(send(server, 1, method, params, &[]));
    assert!(status == 200 || v.get("error").is_some(), "{status}: {v}");
    v
}

/// `skills/list` in a handshake-era session.
fn list(server: &Server, session: &str, params: Value) -> Value {
    server.call(&rpc(2, "skills/list", params), Some(session))
}

#[test]
fn skills_are_listed_fetched_and_read_as_their_files() {
    let server = util::serve(&plugins().conformance, &[]);
    let session = server.initialize();
    let init = server.call(
        &rpc(1, "initialize", util::initialize_params("2025-11-25")),
        None,
    );
    assert_eq!(
        init["result"]["capabilities"]["extensions"][EXTENSION],
        json!({"directoryRead": true}),
        "{init}"
    );

    let listed = list(&server, &session, json!({}));
    let skills = listed["result"]["skills"].as_array().expect("skills");
    let uris: Vec<&str> = skills.iter().map(|s| s["uri"].as_str().unwrap()).collect();
    assert_eq!(
        uris,
        [
            "skill://pdf-processing/SKILL.md",
            "skill://release-notes/SKILL.md"
        ]
    );
    assert!(listed["result"].get("nextCursor").is_none(), "{listed}");

    for skill in skills {
        let name = skill["frontmatter"]["name"].as_str().unwrap();
        for file in skill["resources"].as_array().unwrap() {
            let uri = file["uri"].as_str().unwrap();
            let path = uri.strip_prefix(&format!("skill://{name}/")).unwrap();
            let on_disk = std::fs::read_to_string(fixture(&format!("{name}/{path}"))).unwrap();
            assert_eq!(file["size"], on_disk.len(), "{uri}");
            assert!(
                file["digest"].as_str().unwrap().starts_with("sha256:"),
                "{file}"
            );
            let read = server.call(
                &rpc(3, "resources/read", json!({"uri": uri})),
                Some(&session),
            );
            let contents = &read["result"]["contents"][0];
            assert_eq!(contents["text"], on_disk.as_str(), "{read}");
            assert_eq!(contents["uri"], uri);
        }
        let got = server.call(
            &rpc(4, "skills/get", json!({"uri": skill["uri"]})),
            Some(&session),
        );
        assert_eq!(&got["result"]["skill"], skill, "{got}");
    }
    let pdf = &skills[0];
    assert_eq!(pdf["frontmatter"]["metadata"]["version"], "1.0");
    assert_eq!(pdf["frontmatter"]["license"], "Apache-2.0");

    // The SKILL.md resource is listed with the frontmatter's name and description.
    let resources = server.call(&rpc(5, "resources/list", json!({})), Some(&session));
    let skill_md = resources["result"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["uri"] == "skill://pdf-processing/SKILL.md")
        .cloned()
        .expect("SKILL.md in resources/list");
    assert_eq!(skill_md["name"], "pdf-processing");
    assert_eq!(skill_md["description"], pdf["frontmatter"]["description"]);
    assert_eq!(skill_md["mimeType"], "text/markdown");
}

#[test]
fn unknown_skills_directories_and_cursors_are_invalid_params() {
    let server = util::serve(&plugins().conformance, &[]);
    let session = server.initialize();
    let call = |method: &str, params: Value| server.call(&rpc(9, method, params), Some(&session));

    let unknown = call(
        "skills/get",
        json!({"uri": "skill://no-such-skill/SKILL.md"}),
    );
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    let message = unknown["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("skill://no-such-skill/SKILL.md"),
        "{message}"
    );

    let file = call(
        "resources/directory/read",
        json!({"uri": "skill://pdf-processing/SKILL.md"}),
    );
    assert_eq!(file["error"]["code"], -32602, "{file}");
    assert!(
        file["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a directory"),
        "{file}"
    );
    let missing = call(
        "resources/directory/read",
        json!({"uri": "skill://pdf-processing/nope"}),
    );
    assert_eq!(missing["error"]["code"], -32602, "{missing}");
    let no_uri = call("skills/get", json!({}));
    assert_eq!(no_uri["error"]["code"], -32602, "{no_uri}");

    let cursor = list(&server, &session, json!({"cursor": "not-a-cursor"}));
    assert_eq!(cursor["error"]["code"], -32602, "{cursor}");
    // A cursor at the end of the list is a valid empty page.
    let end = list(&server, &session, json!({"cursor": "2"}));
    assert_eq!(end["result"]["skills"], json!([]), "{end}");
    let past = list(&server, &session, json!({"cursor": "3"}));
    assert_eq!(past["error"]["code"], -32602, "{past}");
}

#[test]
fn directories_are_browsed_one_level_at_a_time() {
    let server = util::serve(&plugins().conformance, &["--stateless"]);
    let children = |uri: &str| -> Vec<(String, String)> {
        let r = modern(&server, "resources/directory/read", json!({"uri": uri}));
        r["result"]["resources"]
            .as_array()
            .unwrap_or_else(|| panic!("{r}"))
            .iter()
            .map(|c| {
                let mime = c["mimeType"].as_str().unwrap_or_default().to_string();
                (c["uri"].as_str().unwrap().to_string(), mime)
            })
            .collect()
    };
    let dir = "inode/directory".to_string();
    let md = "text/markdown".to_string();
    assert_eq!(
        children("skill://pdf-processing"),
        [
            ("skill://pdf-processing/SKILL.md".into(), md.clone()),
            ("skill://pdf-processing/references".into(), dir.clone()),
            ("skill://pdf-processing/templates".into(), dir.clone()),
        ]
    );
    assert_eq!(
        children("skill://pdf-processing/templates"),
        [
            (
                "skill://pdf-processing/templates/invoice.md".into(),
                md.clone()
            ),
            ("skill://pdf-processing/templates/regional".into(), dir),
        ]
    );
    assert_eq!(
        children("skill://pdf-processing/templates/regional"),
        [(
            "skill://pdf-processing/templates/regional/eu-invoice.md".into(),
            md
        )]
    );
    assert!(fixture("pdf-processing/templates/regional/eu-invoice.md").is_file());
}

#[test]
fn the_2026_era_announces_the_extension_and_caches_skill_results() {
    let server = util::serve(&plugins().conformance, &["--stateless"]);
    let discover = modern(&server, "server/discover", json!({}));
    let extensions = &discover["result"]["capabilities"]["extensions"];
    assert_eq!(
        extensions[EXTENSION],
        json!({"directoryRead": true}),
        "{discover}"
    );
    assert!(discover["result"]["capabilities"]["resources"].is_object());

    for (method, params) in [
        ("skills/list", json!({})),
        (
            "skills/get",
            json!({"uri": "skill://release-notes/SKILL.md"}),
        ),
    ] {
        let r = modern(&server, method, params);
        let result = &r["result"];
        assert_eq!(result["resultType"], "complete", "{r}");
        assert!(
            result["ttlMs"].is_u64() && result["cacheScope"].is_string(),
            "{r}"
        );
        assert!(result.get("nextCursor").is_none(), "{r}");
    }
    let unknown = modern(
        &server,
        "skills/get",
        json!({"uri": "skill://gone/SKILL.md"}),
    );
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
}

#[test]
fn a_server_without_skills_does_not_announce_the_extension() {
    let server = util::serve(&plugins().calculator, &["--stateless"]);
    let discover = modern(&server, "server/discover", json!({}));
    let caps = &discover["result"]["capabilities"];
    assert!(
        caps.get("extensions")
            .is_some_and(|e| e.get(EXTENSION).is_none()),
        "{discover}"
    );
    let listed = modern(&server, "skills/list", json!({}));
    assert_eq!(listed["result"]["skills"], json!([]), "{listed}");
    let get = modern(&server, "skills/get", json!({"uri": "skill://x/SKILL.md"}));
    assert_eq!(get["error"]["code"], -32602, "{get}");
}

/// A plugin crate named `name` in `dir` serving the skills under its `skills/`, with the
/// `build.rs` the SDK's documentation recommends so that added files are seen too.
fn skills_crate(dir: &Path, name: &str, skill: &str, description: &str) -> PathBuf {
    let source = format!(
        "fastmcp_sdk::export_plugin! {{\n    name: \"{name}\",\n    version: \"0.1.0\",\n    \
         skills: fastmcp_sdk::skills!(\"skills\"),\n}}\n"
    );
    let krate = util::plugin_crate(dir, name, &source);
    std::fs::write(
        krate.join("build.rs"),
        "fn main() { println!(\"cargo:rerun-if-changed=skills\"); }\n",
    )
    .unwrap();
    write_skill(&krate, skill, description);
    krate
}

fn write_skill(krate: &Path, skill: &str, description: &str) {
    let dir = krate.join("skills").join(skill);
    std::fs::create_dir_all(&dir).unwrap();
    let text = format!("---\nname: {skill}\ndescription: {description}\n---\n\n# {skill}\n");
    std::fs::write(dir.join("SKILL.md"), text).unwrap();
}

#[test]
fn an_edited_skill_is_served_after_the_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let krate = skills_crate(dir.path(), "skills_hot", "hot-skill", "First version");
    let target = util::crates_target_dir();
    let server = util::spawn(
        &[krate.to_str().unwrap(), "--profile", "dev", "--stateless"],
        &[("CARGO_TARGET_DIR", &target)],
    );
    // The first build may compile the SDK's dependencies: allow for a slow machine.
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline && util::ready(&server).0 != 200 {
        std::thread::sleep(Duration::from_millis(100));
    }
    let uri = "skill://hot-skill/SKILL.md";
    let get = || modern(&server, "skills/get", json!({"uri": uri}));
    let first = get();
    assert_eq!(
        first["result"]["skill"]["frontmatter"]["description"], "First version",
        "{first}"
    );

    write_skill(&krate, "hot-skill", "Second version");
    let served = util::eventually(Duration::from_secs(180), || {
        get()["result"]["skill"]["frontmatter"]["description"] == "Second version"
    });
    assert!(
        served,
        "the edit was not served; log:\n{}",
        server.log_text()
    );
    let second = get();
    let digest = |v: &Value| v["result"]["skill"]["resources"][0]["digest"].clone();
    assert_ne!(digest(&first), digest(&second));
    let read = modern(&server, "resources/read", json!({"uri": uri}));
    let text = read["result"]["contents"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("description: Second version"), "{read}");

    // A new file appears once the build script sees the directory change.
    let notes = krate.join("skills/hot-skill/notes.md");
    std::fs::write(&notes, "extra notes\n").unwrap();
    let added = util::eventually(Duration::from_secs(180), || {
        let files = get()["result"]["skill"]["resources"].clone();
        files.as_array().is_some_and(|f| f.len() == 2)
    });
    assert!(
        added,
        "the new file was not served; log:\n{}",
        server.log_text()
    );
    let read = modern(
        &server,
        "resources/read",
        json!({"uri": "skill://hot-skill/notes.md"}),
    );
    assert_eq!(
        read["result"]["contents"][0]["text"], "extra notes\n",
        "{read}"
    );
}

/// Builds `krate` (named `name`) with cargo; returns its library.
fn build(krate: &Path, name: &str) -> PathBuf {
    let target = util::crates_target_dir();
    let mut cargo = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()));
    cargo
        .args(["build", "--manifest-path"])
        .arg(krate.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target);
    let built = util::run_command(cargo, "cargo build", Duration::from_secs(300));
    assert_eq!(built.code, Some(0), "{}", built.stderr);
    Path::new(&target).join(format!("debug/lib{name}.so"))
}

#[test]
fn long_lists_and_directories_page_with_cursors() {
    let dir = tempfile::tempdir().unwrap();
    let krate = skills_crate(dir.path(), "skills_many", "skill-000", "The first");
    for i in 1..105 {
        write_skill(&krate, &format!("skill-{i:03}"), &format!("Number {i}"));
    }
    let files = krate.join("skills/skill-000/many");
    std::fs::create_dir_all(&files).unwrap();
    for i in 0..130 {
        std::fs::write(files.join(format!("f{i:03}.txt")), format!("file {i}\n")).unwrap();
    }
    let server = util::serve(&build(&krate, "skills_many"), &["--stateless"]);

    // Follow nextCursor to the end (bounded), collecting what each page holds.
    let pages = |method: &str, key: &str, params: Value| -> Vec<Vec<String>> {
        let mut pages = Vec::new();
        let mut params = params;
        for _ in 0..10 {
            let r = modern(&server, method, params.clone());
            let items = r["result"][key].as_array().unwrap_or_else(|| panic!("{r}"));
            pages.push(
                items
                    .iter()
                    .map(|i| i["uri"].as_str().unwrap().to_string())
                    .collect(),
            );
            match r["result"]["nextCursor"].as_str() {
                Some(cursor) => params["cursor"] = json!(cursor),
                None => return pages,
            }
        }
        panic!("more than 10 pages of {method}");
    };
    let skills = pages("skills/list", "skills", json!({}));
    assert_eq!(skills.iter().map(Vec::len).collect::<Vec<_>>(), [100, 5]);
    let all: std::collections::BTreeSet<_> = skills.concat().into_iter().collect();
    assert_eq!(all.len(), 105, "every skill exactly once");
    assert!(all.contains("skill://skill-104/SKILL.md"));

    let children = pages(
        "resources/directory/read",
        "resources",
        json!({"uri": "skill://skill-000/many"}),
    );
    assert_eq!(children.iter().map(Vec::len).collect::<Vec<_>>(), [100, 30]);
    assert_eq!(children[1][29], "skill://skill-000/many/f129.txt");
    let entry = modern(
        &server,
        "skills/get",
        json!({"uri": "skill://skill-000/SKILL.md"}),
    );
    let listed = entry["result"]["skill"]["resources"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(listed, 131, "a skill's files are never split: {entry}");
}

#[test]
fn two_plugins_with_one_skill_name_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let krate = skills_crate(dir.path(), "skills_dup", "release-notes", "Another one");
    let library = build(&krate, "skills_dup");
    let conformance = plugins().conformance.to_str().unwrap();
    let run = util::run_bin(
        &[
            "dev",
            conformance,
            library.to_str().unwrap(),
            "--port",
            "0",
            "--watch=false",
        ],
        &[],
        Duration::from_secs(60),
    );
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stderr.contains("duplicate skill `release-notes`"),
        "{}",
        run.stderr
    );
}
