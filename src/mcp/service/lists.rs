//! The list methods (`tools/list`, `resources/list`, `resources/templates/list`,
//! `prompts/list`) and the cursor paging every list result uses, tasks and skills included.
//!
//! The four catalog lists differ only in what they list: [`Service::list`] pages any of them
//! into its rmcp result type ([`Paged`]). A cursor is the index of the first item of its page.

use rmcp::model::{
    ErrorData, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, Prompt, Resource, ResourceTemplate, Tool,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{Reply, Service, allowed, json};
use crate::auth::Caller;
use crate::mcp::{jsonrpc, tasks};
use crate::plugin::manifest::ToolEntry;

/// How many items a list result holds before it pages with `nextCursor`.
pub(crate) const PAGE_SIZE: usize = 100;

/// The params of a list method.
#[derive(Deserialize, Default)]
pub(super) struct PageParams {
    pub(super) cursor: Option<String>,
}

/// The page of `items` that starts at `cursor`, and the cursor of the next page, if any.
pub(super) fn page<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
) -> Result<(Vec<T>, Option<String>), ErrorData> {
    let start = match cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or_else(|| ErrorData::invalid_params(format!("Invalid cursor: {c:?}"), None))?,
    };
    let end = (start + PAGE_SIZE).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items[start..end].to_vec(), next))
}

/// A list result made of one page of items.
trait Paged: Serialize {
    /// What it lists.
    type Item;
    /// The result for `items`, with `next` as its `nextCursor`; no `resultType` (a 2026-07-28
    /// reply gets it when it is decorated).
    fn of_page(items: Vec<Self::Item>, next: Option<String>) -> Self;
}

macro_rules! paged {
    ($($result:ty => $item:ty),* $(,)?) => {$(
        impl Paged for $result {
            type Item = $item;
            fn of_page(items: Vec<$item>, next: Option<String>) -> Self {
                let mut r = <$result>::with_all_items(items);
                r.result_type = None;
                r.next_cursor = next;
                r
            }
        }
    )*};
}

paged!(
    ListToolsResult => Tool,
    ListResourcesResult => Resource,
    ListResourceTemplatesResult => ResourceTemplate,
    ListPromptsResult => Prompt,
);

impl Service {
    /// One page of `all` as a list result `R`, from the request's `cursor`; `item` turns an
    /// entry of the page into what the result lists. Also returns the page itself.
    fn list<R: Paged, T: Clone>(
        params: Option<&RawValue>,
        all: &[T],
        item: impl Fn(&T) -> R::Item,
    ) -> Result<(R, Vec<T>), ErrorData> {
        let p: PageParams = jsonrpc::params(params)?;
        let (items, next) = page(all, p.cursor.as_deref())?;
        let result = R::of_page(items.iter().map(item).collect(), next);
        Ok((result, items))
    }

    /// `tools/list`: the tools `caller` may call, each with its `execution.taskSupport`.
    pub(super) fn list_tools(&self, params: Option<&RawValue>, caller: Option<&Caller>) -> Reply {
        let cat = self.registry.catalog();
        let visible: Vec<&ToolEntry> = cat
            .tools
            .iter()
            .map(|(_, e)| e)
            .filter(|e| allowed(&e.access, caller))
            .collect();
        let (r, shown) = Self::list::<ListToolsResult, _>(params, &visible, |e| e.tool.clone())?;
        let support: Vec<_> = shown.iter().map(|e| e.task_support).collect();
        Ok(tasks::wire::with_execution(&json(&r)?, &support))
    }

    /// `resources/list`.
    pub(super) fn list_resources(&self, params: Option<&RawValue>) -> Reply {
        let cat = self.registry.catalog();
        let all: Vec<&Resource> = cat.resources.iter().map(|(_, r)| r).collect();
        let (r, _) = Self::list::<ListResourcesResult, _>(params, &all, |r| (*r).clone())?;
        json(&r)
    }

    /// `resources/templates/list`.
    pub(super) fn list_resource_templates(&self, params: Option<&RawValue>) -> Reply {
        let cat = self.registry.catalog();
        let all: Vec<&ResourceTemplate> = cat.resource_templates.iter().map(|(_, t)| t).collect();
        let (r, _) = Self::list::<ListResourceTemplatesResult, _>(params, &all, |t| (*t).clone())?;
        json(&r)
    }

    /// `prompts/list`.
    pub(super) fn list_prompts(&self, params: Option<&RawValue>) -> Reply {
        let cat = self.registry.catalog();
        let all: Vec<&Prompt> = cat.prompts.iter().map(|(_, p)| p).collect();
        let (r, _) = Self::list::<ListPromptsResult, _>(params, &all, |p| (*p).clone())?;
        json(&r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ErrorCode;

    #[test]
    fn lists_page_with_cursors() {
        let items: Vec<usize> = (0..250).collect();
        let (first, next) = page(&items, None).unwrap();
        assert_eq!((first.len(), next.as_deref()), (PAGE_SIZE, Some("100")));
        let (second, next) = page(&items, next.as_deref()).unwrap();
        assert_eq!((second[0], next.as_deref()), (100, Some("200")));
        let (last, next) = page(&items, next.as_deref()).unwrap();
        assert_eq!((last.len(), next), (50, None));
        assert_eq!(
            page(&items, Some("nope")).unwrap_err().code,
            ErrorCode::INVALID_PARAMS
        );
        assert!(page(&items, Some("999")).is_err());
    }
}
