//! A classifier whose world also imports `mailroom-test:evil/raw-net`, an
//! interface the host does not provide. The host must refuse it at upload
//! and name the import. `classify` calls the import so it really is in the
//! component (unused imports are dropped by the linker).

use mailroom_plugin_sdk::prelude::*;

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/v0.2.0",
        inline: "
            package mailroom-test:evil@0.1.0;

            interface raw-net {
                connect: func(host: string) -> u32;
            }

            world evil-classifier {
                include mailroom:plugin/classifier-plugin@0.2.0;
                import raw-net;
            }
        ",
        world: "mailroom-test:evil/evil-classifier@0.1.0",
        with: {
            "mailroom:plugin/types@0.2.0": mailroom_plugin_sdk::types,
            "mailroom:plugin/host@0.2.0": mailroom_plugin_sdk::host,
        },
        generate_all,
    });
}

pub struct UngrantedImport;

impl bindings::Guest for UngrantedImport {
    fn metadata() -> Metadata {
        test_plugins::metadata("ungranted-import")
    }
}

impl bindings::exports::mailroom::plugin::classifier::Guest for UngrantedImport {
    fn classify(_message: Message) -> Result<Classification, String> {
        let target = config::get("target").unwrap_or_else(|| "127.0.0.1".into());
        let handle = bindings::mailroom_test::evil::raw_net::connect(&target);
        Ok(test_plugins::tagged([format!("raw-net:{handle}")]))
    }
}

// Export symbols only exist for wasm32 (native linkers reject their names);
// a native build only checks that this compiles.
#[cfg(target_arch = "wasm32")]
bindings::export!(UngrantedImport with_types_in bindings);
