//! A workflow whose `metadata` blocks on a `wasi:clocks` pollable that
//! never fires: admission (upload, `mailroom plugin check`) runs `metadata`,
//! and must give up at its deadline.

use mailroom_plugin_sdk::prelude::*;

#[path = "common/wait.rs"]
mod wait;
use mailroom_plugin_sdk::workflow::Event;

pub struct StalledMetadata;

impl Plugin for StalledMetadata {
    fn metadata() -> Metadata {
        wait::block_until_the_end_of_time();
        Metadata::new("stalled-metadata", "0.1.0", PluginKind::Workflow)
    }
}

impl Workflow for StalledMetadata {
    fn on_event(_event: Event) -> Result<Vec<Action>, String> {
        Ok(Vec::new())
    }
}

mailroom_plugin_sdk::export_workflow!(StalledMetadata);
