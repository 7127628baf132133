//! The syntax of `read`, `prompt` and `complete`: one MCP request to a plugin without a server.

use std::path::PathBuf;

use clap::Args;

/// `fastmcp read [--profile P] <PLUGIN> <URI>`
#[derive(Debug, Clone, Args)]
pub struct ReadArgs {
    /// A built library (.so/.dylib), a plugin crate directory, or its Cargo.toml
    #[arg(value_name = "PLUGIN")]
    pub plugin: PathBuf,

    /// URI of the resource: a static resource's, or one a resource template matches
    #[arg(value_name = "URI")]
    pub(crate) uri: String,

    /// Cargo profile when PLUGIN is a crate [env: FASTMCP_PROFILE] [default: release]
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
}

/// `fastmcp prompt [--profile P] <PLUGIN> <NAME> [--args JSON]`
#[derive(Debug, Clone, Args)]
pub struct PromptArgs {
    /// A built library (.so/.dylib), a plugin crate directory, or its Cargo.toml
    #[arg(value_name = "PLUGIN")]
    pub plugin: PathBuf,

    /// Name of the prompt
    #[arg(value_name = "NAME")]
    pub(crate) name: String,

    /// Prompt arguments as a JSON object of strings
    #[arg(long, value_name = "JSON", default_value = "{}")]
    pub(crate) args: String,

    /// Cargo profile when PLUGIN is a crate [env: FASTMCP_PROFILE] [default: release]
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
}

/// `fastmcp complete [--profile P] <PLUGIN> (--prompt NAME | --template URI) <ARGUMENT> [VALUE]`
#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("reference").required(true).args(["prompt", "template"])))]
pub struct CompleteArgs {
    /// A built library (.so/.dylib), a plugin crate directory, or its Cargo.toml
    #[arg(value_name = "PLUGIN")]
    pub plugin: PathBuf,

    /// Complete an argument of this prompt
    #[arg(long, value_name = "NAME")]
    pub(crate) prompt: Option<String>,

    /// Complete a variable of this resource template (its URI template, as `inspect` shows it)
    #[arg(long, value_name = "URI_TEMPLATE")]
    pub(crate) template: Option<String>,

    /// The argument (or template variable) to complete
    #[arg(value_name = "ARGUMENT")]
    pub(crate) argument: String,

    /// What has been typed so far
    #[arg(value_name = "VALUE", default_value = "")]
    pub(crate) value: String,

    /// Values of the other arguments, as a JSON object of strings
    #[arg(long, value_name = "JSON")]
    pub(crate) context: Option<String>,

    /// Cargo profile when PLUGIN is a crate [env: FASTMCP_PROFILE] [default: release]
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
}

#[cfg(test)]
mod tests {
    use crate::cli::{Cli, Command};
    use clap::{CommandFactory, Parser};
    use std::path::PathBuf;

    fn parse(argv: &[&str]) -> Command {
        Cli::try_parse_from(argv).expect("argv parses").command
    }

    #[test]
    fn read_prompt_complete_stdio() {
        match parse(&["fastmcp", "read", "p.so", "test://static-text"]) {
            Command::Read(a) => assert_eq!(a.uri, "test://static-text"),
            other => panic!("{other:?}"),
        }
        match parse(&[
            "fastmcp",
            "prompt",
            "p.so",
            "greet",
            "--args",
            r#"{"a":"b"}"#,
        ]) {
            Command::Prompt(a) => assert_eq!(
                (a.name.as_str(), a.args.as_str()),
                ("greet", r#"{"a":"b"}"#)
            ),
            other => panic!("{other:?}"),
        }
        match parse(&[
            "fastmcp", "complete", "p.so", "--prompt", "greet", "arg1", "pa",
        ]) {
            Command::Complete(a) => {
                assert_eq!(a.prompt.as_deref(), Some("greet"));
                assert_eq!((a.argument.as_str(), a.value.as_str()), ("arg1", "pa"));
            }
            other => panic!("{other:?}"),
        }
        // One reference, not none and not both.
        assert!(Cli::try_parse_from(["fastmcp", "complete", "p.so", "arg1"]).is_err());
        assert!(
            Cli::try_parse_from([
                "fastmcp",
                "complete",
                "p.so",
                "--prompt",
                "a",
                "--template",
                "t://{x}",
                "x"
            ])
            .is_err()
        );
        match parse(&["fastmcp", "stdio", "a.so", "--watch=false"]) {
            Command::Stdio(a) => {
                assert_eq!(a.plugins, [PathBuf::from("a.so")]);
                assert_eq!(a.watch.as_deref(), Some("false"));
            }
            other => panic!("{other:?}"),
        }
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("stdio")
            .unwrap()
            .render_help()
            .to_string();
        assert!(
            help.contains("fastmcp stdio [OPTIONS] <PLUGIN>..."),
            "{help}"
        );
    }
}
