//! The one plugin engine of a test (or bench) process. One engine with one
//! precompile cache compiles each interpreter-sized component (JavaScript,
//! Python: gigabytes of compiler memory each) once per run; an engine per
//! test module compiled each again and again.

use mailroom::plugin::{EngineSettings, PluginEngine};
use std::sync::{Arc, OnceLock};

pub fn engine() -> Arc<PluginEngine> {
    static ENGINE: OnceLock<Arc<PluginEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-plugin-cache");
            PluginEngine::new(&EngineSettings {
                cache_dir: Some(cache),
                ..Default::default()
            })
            .expect("plugin engine")
        })
        .clone()
}
