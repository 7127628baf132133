//! The one-shot subcommands: `fastmcp inspect` (table and `--json`), `fastmcp call`, whose
//! exit code says whether the tool succeeded, and `read`, `prompt` and `complete`, which print
//! the result JSON or exit 1 with the refusal.

use std::time::Duration;

use serde_json::{Value, json};

use crate::util::{self, plugins};

const WITHIN: Duration = Duration::from_secs(30);

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn inspect_prints_the_tools_and_their_arguments() {
    let out = util::run_bin(&["inspect", path(&plugins().calculator)], &[], WITHIN);
    assert_eq!(out.code, Some(0), "{out:?}");
    let row = |name: &str| util::table_row(&out.stdout, name);
    assert!(row("calculate").contains("Perform a calculation"));
    assert!(
        row("operation").contains("add|subtract|multiply|divide"),
        "{}",
        out.stdout
    );
    assert!(row("operation").contains("required"));
    assert!(row("a").contains("number"));
    assert!(row("b").contains("The second operand"));
}

#[test]
fn inspect_json_prints_the_manifest() {
    let out = util::run_bin(
        &["inspect", "--json", path(&plugins().calculator)],
        &[],
        WITHIN,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let v: Value = serde_json::from_str(&out.stdout).expect("inspect --json prints JSON");
    assert_eq!(v["name"], "calculator");
    assert_eq!(v["tools"][0]["name"], "calculate");
    assert_eq!(v["tools"][0]["inputSchema"]["type"], "object");
}

#[test]
fn call_prints_the_result_and_exits_0() {
    let out = util::run_bin(
        &[
            "call",
            path(&plugins().calculator),
            "calculate",
            "--args",
            r#"{"operation":"add","a":2,"b":3}"#,
        ],
        &[],
        WITHIN,
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("Result: 5"), "{}", out.stdout);
}

#[test]
fn a_failing_call_exits_non_zero_with_the_message() {
    let out = util::run_bin(
        &[
            "call",
            path(&plugins().test_plugin),
            "fail",
            "--args",
            r#"{"message":"boom"}"#,
        ],
        &[],
        WITHIN,
    );
    assert_ne!(out.code, Some(0), "{out:?}");
    assert!(out.code.is_some(), "ended by a signal: {out:?}");
    assert!(out.stdout.contains("boom"), "{out:?}");

    let out = util::run_bin(
        &["call", path(&plugins().test_plugin), "no_such_tool"],
        &[],
        WITHIN,
    );
    assert_ne!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("no_such_tool"), "{out:?}");
}

#[test]
fn call_args_must_be_a_json_object() {
    let out = util::run_bin(
        &[
            "call",
            path(&plugins().calculator),
            "calculate",
            "--args",
            "[1]",
        ],
        &[],
        WITHIN,
    );
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--args"), "{out:?}");
}

#[test]
fn call_runs_as_the_local_caller_that_access_rules_never_refuse() {
    let run =
        |tool: &str| util::run_bin(&["call", path(&plugins().test_plugin), tool], &[], WITHIN);
    let secret = run("secret");
    assert_eq!(secret.code, Some(0), "{secret:?}");
    assert!(secret.stdout.contains("the secret"), "{secret:?}");
    let whoami = run("whoami");
    assert_eq!(whoami.code, Some(0), "{whoami:?}");
    assert!(whoami.stdout.contains("caller=local"), "{whoami:?}");
    assert!(
        whoami.stdout.contains("admin"),
        "every declared scope: {whoami:?}"
    );
}

/// The row of `out` whose first word is `key`, and the rows indented under it.
fn block<'a>(out: &'a str, key: &str) -> Vec<&'a str> {
    let mut lines = out
        .lines()
        .skip_while(|l| l.split_whitespace().next() != Some(key));
    let Some(head) = lines.next() else {
        panic!("no row for {key}:\n{out}")
    };
    let indent = head.len() - head.trim_start().len();
    let under = lines.take_while(|l| l.len() - l.trim_start().len() > indent);
    std::iter::once(head).chain(under).collect()
}

#[test]
fn inspect_shows_output_schemas_prompt_arguments_and_descriptions() {
    let out = util::run_bin(&["inspect", path(&plugins().test_plugin)], &[], WITHIN);
    assert_eq!(out.code, Some(0), "{out:?}");
    let structured = block(&out.stdout, "structured").join("\n");
    assert!(
        structured.contains("returns (output schema):"),
        "{structured}"
    );
    let count = structured
        .lines()
        .find(|l| l.trim_start().starts_with("count "))
        .unwrap_or_else(|| panic!("no output property `count`:\n{structured}"));
    assert!(
        count.contains("integer") && count.contains("A fixed number"),
        "{count}"
    );

    let out = util::run_bin(&["inspect", path(&plugins().conformance)], &[], WITHIN);
    assert_eq!(out.code, Some(0), "{out:?}");
    let prompt = block(&out.stdout, "test_prompt_with_arguments");
    assert!(
        prompt[0].contains("A prompt with two required arguments"),
        "{prompt:?}"
    );
    assert!(
        prompt.iter().any(|l| l.contains("arg1")
            && l.contains("required")
            && l.contains("First test argument")),
        "{prompt:?}"
    );
    let resource = block(&out.stdout, "test://static-text");
    assert!(
        resource[0].contains("A static text resource"),
        "{resource:?}"
    );
    assert!(resource[0].contains("text/plain"), "{resource:?}");
    let template = block(&out.stdout, "test://template/{id}/data");
    assert!(
        template[0].contains("Data for one id, as JSON"),
        "{template:?}"
    );
    // The SKILL.md is also a resource: look in the skills section, which comes last.
    let skills = out
        .stdout
        .split("\nSkills (2):\n")
        .nth(1)
        .expect("a skills section");
    let skill = block(skills, "skill://pdf-processing/SKILL.md");
    assert!(
        skill[0].contains("Extract text from PDF documents") && skill[0].contains("(4 files)"),
        "{skill:?}"
    );
}

fn conformance() -> &'static str {
    path(&plugins().conformance)
}

fn json_out(out: &util::Finished) -> Value {
    assert_eq!(out.code, Some(0), "{out:?}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {out:?}"))
}

#[test]
fn read_prints_a_resource_and_a_templated_one() {
    let out = util::run_bin(&["read", conformance(), "test://static-text"], &[], WITHIN);
    let v = json_out(&out);
    assert_eq!(v["contents"][0]["uri"], "test://static-text", "{v}");
    assert_eq!(
        v["contents"][0]["text"],
        "This is the content of the static text resource."
    );
    let out = util::run_bin(
        &["read", conformance(), "test://template/42/data"],
        &[],
        WITHIN,
    );
    let v = json_out(&out);
    let text = v["contents"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("Data for ID: 42"), "{v}");
}

#[test]
fn prompt_prints_the_messages_and_checks_its_arguments() {
    let out = util::run_bin(
        &[
            "prompt",
            conformance(),
            "test_prompt_with_arguments",
            "--args",
            r#"{"arg1":"a","arg2":"b"}"#,
        ],
        &[],
        WITHIN,
    );
    let v = json_out(&out);
    assert_eq!(
        v["messages"][0]["content"]["text"], "Prompt with arguments: arg1='a', arg2='b'",
        "{v}"
    );

    let missing = util::run_bin(
        &["prompt", conformance(), "test_prompt_with_arguments"],
        &[],
        WITHIN,
    );
    assert_eq!(missing.code, Some(1), "{missing:?}");
    assert!(missing.stderr.contains("arg1, arg2"), "{missing:?}");
    assert!(missing.stdout.is_empty(), "{missing:?}");

    let not_strings = util::run_bin(
        &[
            "prompt",
            conformance(),
            "test_prompt_with_arguments",
            "--args",
            r#"{"arg1":1}"#,
        ],
        &[],
        WITHIN,
    );
    assert_eq!(not_strings.code, Some(2), "{not_strings:?}");
    assert!(not_strings.stderr.contains("--args"), "{not_strings:?}");
}

#[test]
fn complete_prints_the_values_of_a_prompt_argument() {
    let out = util::run_bin(
        &[
            "complete",
            conformance(),
            "--prompt",
            "test_prompt_with_arguments",
            "arg1",
            "par",
        ],
        &[],
        WITHIN,
    );
    let v = json_out(&out);
    assert_eq!(
        v["completion"]["values"],
        json!(["paris", "park", "party"]),
        "{v}"
    );

    let out = util::run_bin(
        &[
            "complete",
            conformance(),
            "--template",
            "test://template/{id}/data",
            "id",
        ],
        &[],
        WITHIN,
    );
    assert_eq!(json_out(&out)["completion"]["values"], json!([]));

    let unknown = util::run_bin(
        &["complete", conformance(), "--prompt", "nope", "x"],
        &[],
        WITHIN,
    );
    assert_eq!(unknown.code, Some(1), "{unknown:?}");
    assert!(
        unknown.stderr.contains("Unknown prompt: nope"),
        "{unknown:?}"
    );
}

#[test]
fn read_of_an_unknown_uri_exits_1_with_the_message() {
    let out = util::run_bin(&["read", conformance(), "test://nope"], &[], WITHIN);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("test://nope"), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
}
