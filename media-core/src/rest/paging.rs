//! Paged lists: `{"value":[…],"nextLink"?}`, followed with the client's api-version.

use std::marker::PhantomData;

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::RestError;
use super::pipeline::{Call, Pipeline};

/// One page as the service writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageBody<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(default)]
    next_link: Option<String>,
}

/// Walks a paged list one request per page.
pub struct Pager<T> {
    pipeline: Pipeline,
    what: &'static str,
    api_version: &'static str,
    /// The next request's path and query; `None` once the last page was read.
    next: Option<String>,
    _items: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pager<T> {
    pub(crate) fn new(
        pipeline: Pipeline,
        what: &'static str,
        api_version: &'static str,
        first: String,
    ) -> Self {
        Self {
            pipeline,
            what,
            api_version,
            next: Some(first),
            _items: PhantomData,
        }
    }

    /// The next page's items, or `None` after the last page.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, RestError> {
        let Some(path) = self.next.take() else {
            return Ok(None);
        };
        let page: PageBody<T> = self
            .pipeline
            .send_json(&Call::new(self.what, Method::GET, path))
            .await?;
        self.next = match page.next_link.as_deref() {
            Some(link) if !link.is_empty() => Some(self.pipeline.follow_link(
                self.what,
                link,
                self.api_version,
            )?),
            _ => None,
        };
        Ok(Some(page.value))
    }

    /// Every remaining item, page after page.
    pub async fn collect_all(mut self) -> Result<Vec<T>, RestError> {
        let mut all = Vec::new();
        while let Some(items) = self.next_page().await? {
            all.extend(items);
        }
        Ok(all)
    }
}
