use super::*;
use serde_json::json;

fn fm(yaml: &str) -> Result<Value, String> {
    parse(&format!("---\n{yaml}---\n# Body\n")).map(Value::Object)
}

#[test]
fn reads_the_fields_of_a_skill() {
    let v = fm(
        "name: pdf-processing\ndescription: Extract, fill, and assemble PDFs\n\
                license: Apache-2.0\nmetadata:\n  version: \"1.0\"\n  author: 'O''Brien'\n",
    )
    .unwrap();
    assert_eq!(
        v,
        json!({"name": "pdf-processing", "description": "Extract, fill, and assemble PDFs",
               "license": "Apache-2.0", "metadata": {"version": "1.0", "author": "O'Brien"}})
    );
}

#[test]
fn plain_scalars_resolve_by_the_core_schema() {
    let v = fm("a: 1.0\nb: 42\nc: true\nd: ~\ne: 0x1F\nf: 1e3\ng: v1.2\nh: -7\ni: .5\n").unwrap();
    assert_eq!(
        v,
        json!({"a": 1.0, "b": 42, "c": true, "d": null, "e": 31, "f": 1000.0,
               "g": "v1.2", "h": -7, "i": 0.5})
    );
}

#[test]
fn lists_comments_and_block_scalars() {
    let v = fm("# comment\ntags:\n  - a\n  - \"b c\"\nmore:\n- x\n\
                description: >\n  one\n  two\n\n  three\nbody: |-\n  keep\n  lines\n\
                note: text # trailing\n")
    .unwrap();
    assert_eq!(
        v,
        json!({"tags": ["a", "b c"], "more": ["x"], "description": "one two\nthree\n",
               "body": "keep\nlines", "note": "text"})
    );
}

#[test]
fn refuses_what_it_cannot_read_exactly() {
    for bad in [
        "name: [a, b]\n",
        "name: &x a\n",
        "name: a\n  continued\n",
        "name: \"open\n",
        "name: a: b\n",
        "name: a\nname: b\n",
        "list:\n  - a: b\n",
    ] {
        assert!(fm(bad).is_err(), "accepted {bad:?}");
    }
    assert!(parse("# no frontmatter\n").is_err());
    assert!(parse("---\nname: a\n").is_err());
}

#[test]
fn name_and_description_are_required() {
    let map = parse("---\nname: x\n---\n").unwrap();
    assert_eq!(
        required(&map).unwrap_err(),
        "its frontmatter has no `description`"
    );
    let map = parse("---\nname: x\ndescription: 3\n---\n").unwrap();
    assert!(required(&map).unwrap_err().contains("not a string"));
    let map = parse("---\nname: x\ndescription: d\n---\n").unwrap();
    assert_eq!(required(&map).unwrap(), ("x", "d"));
}
