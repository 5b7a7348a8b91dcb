//! Server settings (`mailroom-config`: the model, its layers and checks),
//! and what the binary derives from them for the layers that cannot depend
//! on the config crate's consumers: the plugin registry's and the sync
//! scheduler's settings.

pub use mailroom_config::*;
use mailroom_plugin_host::budget::CpuBudget;
use mailroom_plugin_host::registry::RegistrySettings;
use mailroom_sync::scheduler::SchedulerSettings;
use mailroom_sync::watch::WatchSettings;
use std::time::Duration;

/// The plugin registry's settings derived from `settings`.
pub fn registry_settings(settings: &Settings) -> RegistrySettings {
    RegistrySettings {
        failure_threshold: settings.plugins.failure_threshold,
        default_limits: settings.plugin_limits(),
        max_component_bytes: settings.limits.plugin_upload_bytes as u64,
        cpu_budget: (settings.plugins.cpu_seconds_per_minute > 0).then(|| {
            CpuBudget::per_minute(Duration::from_secs(settings.plugins.cpu_seconds_per_minute))
        }),
        ..RegistrySettings::default()
    }
}

/// The sync scheduler's settings derived from `settings`.
pub fn scheduler_settings(settings: &Settings) -> SchedulerSettings {
    SchedulerSettings {
        push: settings.sync.push,
        watch: WatchSettings {
            poll_interval: Duration::from_secs(settings.sync.poll_seconds),
            ..WatchSettings::default()
        },
        ..SchedulerSettings::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mailroom_plugin_host::Limits;

    #[test]
    fn sync_settings_reach_the_scheduler() {
        let s = Settings::from_toml("[sync]\npush = false\npoll_seconds = 30\n").expect("toml");
        let scheduler = scheduler_settings(&s);
        assert!(!scheduler.push);
        assert_eq!(scheduler.watch.poll_interval, Duration::from_secs(30));
    }

    #[test]
    fn plugin_settings_reach_the_registry() {
        let defaults = registry_settings(&Settings::default());
        assert_eq!(defaults.default_limits, Limits::default());
        assert_eq!(
            defaults.failure_threshold,
            RegistrySettings::default().failure_threshold
        );
        let s = Settings::from_toml(
            "[plugins]\nmemory_mib = 64\nfailure_threshold = 2\n[limits]\nplugin_upload_bytes = 1000\n",
        )
        .expect("toml");
        let r = registry_settings(&s);
        assert_eq!(r.default_limits.memory_bytes, 64 << 20);
        assert_eq!(r.failure_threshold, 2);
        assert_eq!(r.max_component_bytes, 1000);
        assert_eq!(
            defaults.cpu_budget,
            Some(CpuBudget::per_minute(Duration::from_secs(60)))
        );
        let s = Settings::from_toml("[plugins]\ncpu_seconds_per_minute = 0\n").expect("toml");
        assert_eq!(registry_settings(&s).cpu_budget, None);
    }
}
