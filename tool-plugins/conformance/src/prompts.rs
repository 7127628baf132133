//! The suite's prompts, and the completion of `test_prompt_with_arguments`' `arg1`.

use fastmcp_sdk::prelude::*;

use crate::assets::PNG;

/// A simple prompt without arguments
#[prompt]
pub fn test_simple_prompt() -> &'static str {
    "This is a simple prompt for testing."
}

#[derive(Deserialize, JsonSchema)]
pub struct ArgumentsArgs {
    /// First test argument
    pub arg1: String,
    /// Second test argument
    pub arg2: String,
}

/// A prompt with two required arguments
#[prompt]
pub fn test_prompt_with_arguments(args: ArgumentsArgs) -> String {
    format!(
        "Prompt with arguments: arg1='{}', arg2='{}'",
        args.arg1, args.arg2
    )
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbeddedArgs {
    /// URI of the resource to embed
    pub resource_uri: String,
}

/// A prompt with an embedded resource
#[prompt]
pub fn test_prompt_with_embedded_resource(args: EmbeddedArgs) -> Vec<PromptMessage> {
    let text = "Embedded resource content for testing.";
    vec![
        PromptMessage::user(ResourceContent::text(args.resource_uri, "text/plain", text)),
        PromptMessage::user("Please process the embedded resource above."),
    ]
}

/// A prompt with an image
#[prompt]
pub fn test_prompt_with_image() -> Vec<PromptMessage> {
    vec![
        PromptMessage::user(Content::image(PNG, "image/png")),
        PromptMessage::user("Please analyze the image above."),
    ]
}

/// Suggests values for `arg1` of `test_prompt_with_arguments`
#[completion(prompt = "test_prompt_with_arguments", argument = "arg1")]
pub fn complete_arg1(request: CompletionRequest) -> Vec<String> {
    request.filter(["paris", "park", "party"])
}
