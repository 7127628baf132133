//! A fastmcp plugin serving everything the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`, `scripts/conformance.sh`) calls, under the exact names
//! it expects: tools returning every content type, logging, progress, errors, sampling,
//! elicitation (with SEP-1034 defaults and SEP-1330 enums), a hand-written JSON Schema 2020-12,
//! SSE polling, `Mcp-Param-*` headers; static, binary, templated and subscribable resources;
//! prompts with arguments, embedded resources and images; an argument completion; and for
//! protocol 2026-07-28 the multi round-trip tools and prompt and the stateless diagnostics; and
//! the skills of `skills/` (the skills extension, SEP-2640), embedded with `skills!`.
//!
//! # Layout
//! - `tools`: the tools, except elicitation; `elicitation`: the three elicitation tools.
//! - `mrtr`: the `input-required-result-*` tools and prompt (2026-07-28).
//! - `stateless`: the diagnostic tools of `server-stateless` (2026-07-28).
//! - `resources`, `prompts`: resources, the template, prompts and the completion.
//! - `assets`: the PNG and WAV samples.

mod assets;
mod elicitation;
mod mrtr;
mod prompts;
mod resources;
mod stateless;
mod tasks;
mod tools;

use elicitation::{
    test_elicitation, test_elicitation_sep1034_defaults, test_elicitation_sep1330_enums,
};
use mrtr::{
    input_required_resource, test_input_required_result_capabilities,
    test_input_required_result_elicitation, test_input_required_result_list_roots,
    test_input_required_result_multi_round, test_input_required_result_multiple_inputs,
    test_input_required_result_prompt, test_input_required_result_request_state,
    test_input_required_result_sampling, test_input_required_result_tampered_state,
};
use prompts::{
    complete_arg1, test_prompt_with_arguments, test_prompt_with_embedded_resource,
    test_prompt_with_image, test_simple_prompt,
};
use resources::{static_binary, static_text, template_data, watched_resource};
use stateless::{test_logging_tool, test_missing_capability, test_streaming_elicitation};
use tools::{
    json_schema_2020_12_tool, test_audio_content, test_custom_headers, test_embedded_resource,
    test_error_handling, test_image_content, test_multiple_content_types, test_reconnection,
    test_sampling, test_simple_text, test_tool_with_logging, test_tool_with_progress,
};

fastmcp_sdk::export_plugin! {
    name: "conformance",
    version: env!("CARGO_PKG_VERSION"),
    tools: [
        test_simple_text, test_image_content, test_audio_content, test_embedded_resource,
        test_multiple_content_types, test_tool_with_logging, test_error_handling,
        test_tool_with_progress, test_sampling, test_elicitation,
        test_elicitation_sep1034_defaults, test_elicitation_sep1330_enums,
        json_schema_2020_12_tool, test_reconnection, test_custom_headers,
        test_input_required_result_elicitation, test_input_required_result_sampling,
        test_input_required_result_list_roots, test_input_required_result_request_state,
        test_input_required_result_multiple_inputs, test_input_required_result_multi_round,
        test_input_required_result_tampered_state, test_input_required_result_capabilities,
        test_missing_capability, test_logging_tool, test_streaming_elicitation,
        tasks::greet, tasks::slow_compute, tasks::failing_job, tasks::protocol_error_job,
        tasks::confirm_delete, tasks::multi_input, tasks::test_tool_with_task,
    ],
    resources: [static_text, static_binary, watched_resource, input_required_resource],
    resource_templates: [template_data],
    prompts: [
        test_simple_prompt, test_prompt_with_arguments, test_prompt_with_embedded_resource,
        test_prompt_with_image, test_input_required_result_prompt,
    ],
    completions: [complete_arg1],
    skills: fastmcp_sdk::skills!("skills"),
    subscribe: true,
}

#[cfg(test)]
mod tests;
