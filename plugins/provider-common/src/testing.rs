//! What the provider plugins' unit tests share: `use provider_common::testing::*;`
//! brings the contract's names, the SDK traits that call the plugin as the
//! host would, the sample builders and the table checks.

pub use crate::checks::{assert_patterns_cover, info_problems};
pub use crate::{Service, mailbox, problem};
pub use mailroom_plugin_sdk::provider::{AuthMethod, ConnectionStep as Step, Security};
pub use mailroom_plugin_sdk::types::{FolderRole, Message};
pub use mailroom_plugin_sdk::{Plugin, Provider};

use mailroom_plugin_sdk::provider::ProviderInfo;

/// `S`'s info as the host receives it, after checking it is sound, that its
/// id is `id` and that the plugin's metadata names the plugin's package.
pub fn checked_info<S: Service + Provider + Plugin>(id: &str) -> ProviderInfo {
    let info = S::info();
    assert_eq!(info_problems(&info), Vec::<String>::new());
    assert_eq!(info.id, id);
    assert_eq!(S::metadata().name, S::PLUGIN);
    info
}
