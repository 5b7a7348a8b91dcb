//! The contract as the host sees a component: which world of which version
//! it implements (read from its exports), and whether everything it imports
//! is something the host grants. Admission asks here before anything runs.

use super::PluginKind;
use super::bindings;
use super::error::PluginError;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Contract versions the host accepts, oldest first: the one list in
/// `wit/versions.rs`, shared with the SDK.
pub const KNOWN_VERSIONS: &[&str] = bindings::SUPPORTED_CONTRACT_VERSIONS;

/// WASI 0.2 interfaces the host links (all of `wasi:cli/imports`, and
/// `wasi:http`'s client side), with an empty context behind them: they
/// exist so components built with std, componentize-py or componentize-js
/// link, and they grant nothing. `wasi:http` sends only to the hosts an
/// admin granted the plugin (`outbound`).
const WASI_INTERFACES: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/types",
    "wasi:filesystem/preopens",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:sockets/network",
    "wasi:sockets/instance-network",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
    "wasi:sockets/ip-name-lookup",
    "wasi:http/types",
    "wasi:http/outgoing-handler",
];

/// Names a component imports and exports, as the component model spells them
/// (e.g. `mailroom:plugin/host@0.1.0`, `metadata`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ComponentShape {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

impl ComponentShape {
    /// The component's own (top-level) import and export names, read from
    /// its bytes without compiling it; `Err` says why they cannot be read.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        use wasmparser::{ComponentExternalKind, ComponentTypeRef, Parser, Payload};
        let unreadable = |e: wasmparser::BinaryReaderError| format!("it cannot be read: {e}");
        let mut shape = Self {
            imports: Vec::new(),
            exports: Vec::new(),
        };
        // Nested modules and components come inline, each up to its `End`.
        let mut depth = 0usize;
        for payload in Parser::new(0).parse_all(bytes) {
            match payload.map_err(unreadable)? {
                Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
                Payload::End(_) => depth = depth.saturating_sub(1),
                // A type a world `use`s is imported (and exported) by name,
                // e.g. `metadata`; it is no capability, and wasmtime's view
                // of the component (`of`) leaves it out too.
                Payload::ComponentImportSection(imports) if depth == 0 => {
                    for import in imports {
                        let import = import.map_err(unreadable)?;
                        if !matches!(import.ty, ComponentTypeRef::Type(_)) {
                            shape.imports.push(import.name.name.to_owned());
                        }
                    }
                }
                Payload::ComponentExportSection(exports) if depth == 0 => {
                    for export in exports {
                        let export = export.map_err(unreadable)?;
                        if export.kind != ComponentExternalKind::Type {
                            shape.exports.push(export.name.name.to_owned());
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(shape)
    }

    pub fn of(engine: &Engine, component: &Component) -> Self {
        let ty = component.component_type();
        Self {
            imports: ty
                .imports(engine)
                .map(|(name, _)| name.to_owned())
                .collect(),
            exports: ty
                .exports(engine)
                .map(|(name, _)| name.to_owned())
                .collect(),
        }
    }
}

/// The world a component implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct World {
    pub version: &'static str,
    pub kind: PluginKind,
}

impl World {
    /// The name of the interface a world of this kind exports, e.g. `mailroom:plugin/classifier@0.1.0`.
    pub fn export_name(self) -> String {
        format!("mailroom:plugin/{}@{}", self.kind.as_str(), self.version)
    }

    pub fn name(self) -> String {
        format!(
            "mailroom:plugin/{}-plugin@{}",
            self.kind.as_str(),
            self.version
        )
    }
}

/// Finds the one known world whose exports the component has: its kind and
/// contract version. Its `mailroom:plugin` imports must be of that version.
pub fn detect_world(shape: &ComponentShape) -> Result<World, PluginError> {
    let world = detect_export(shape)?;
    let mixed: Vec<&str> = shape
        .imports
        .iter()
        .filter(|name| name.starts_with("mailroom:plugin/"))
        .filter(|name| name.split_once('@').map(|(_, v)| v) != Some(world.version))
        .map(String::as_str)
        .collect();
    if !mixed.is_empty() {
        return Err(PluginError::InvalidComponent(format!(
            "it exports {} (contract {}) but imports {}; a plugin is built against one              contract version, and its imports must be of the same version",
            world.export_name(),
            world.version,
            mixed.join(", ")
        )));
    }
    Ok(world)
}

fn detect_export(shape: &ComponentShape) -> Result<World, PluginError> {
    let has_metadata = shape.exports.iter().any(|e| e == "metadata");
    let mut found = Vec::new();
    for &version in KNOWN_VERSIONS.iter().rev() {
        for kind in PluginKind::ALL {
            let world = World { version, kind };
            if shape.exports.contains(&world.export_name()) {
                found.push(world);
            }
        }
    }
    match found.as_slice() {
        [world] if has_metadata => Ok(*world),
        [world] => Err(PluginError::InvalidComponent(format!(
            "it exports {} but not the `metadata` function every plugin world exports",
            world.export_name()
        ))),
        [] => Err(unknown_world(shape)),
        several => Err(PluginError::InvalidComponent(format!(
            "it exports several plugin interfaces ({}); a plugin implements exactly one kind",
            several
                .iter()
                .map(|w| w.export_name())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn unknown_world(shape: &ComponentShape) -> PluginError {
    let known = KNOWN_VERSIONS
        .iter()
        .flat_map(|&version| PluginKind::ALL.map(|kind| World { version, kind }.name()))
        .collect::<Vec<_>>()
        .join(", ");
    PluginError::UnknownWorld {
        versions: KNOWN_VERSIONS.join(", "),
        known,
        exports: shape.exports.clone(),
        imports: shape.imports.clone(),
    }
}

/// Every import the host does not grant, by its full name. Empty means admissible.
pub fn ungranted_imports(shape: &ComponentShape) -> Vec<String> {
    shape
        .imports
        .iter()
        .filter(|name| !is_granted(name))
        .cloned()
        .collect()
}

fn is_granted(import: &str) -> bool {
    let (interface, version) = import.split_once('@').unwrap_or((import, ""));
    match interface {
        "mailroom:plugin/host" | "mailroom:plugin/types" => KNOWN_VERSIONS.contains(&version),
        // wasmtime links WASI 0.2.x semver-compatibly: any 0.2 patch release works.
        wasi if WASI_INTERFACES.contains(&wasi) => version.starts_with("0.2."),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(imports: &[&str], exports: &[&str]) -> ComponentShape {
        ComponentShape {
            imports: imports.iter().map(|s| s.to_string()).collect(),
            exports: exports.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn detects_the_classifier_world() {
        let s = shape(&[], &["metadata", "mailroom:plugin/classifier@0.1.0"]);
        assert_eq!(
            detect_world(&s).unwrap(),
            World {
                version: "0.1.0",
                kind: PluginKind::Classifier
            }
        );
    }

    #[test]
    fn an_unknown_version_is_named_in_the_error() {
        let s = shape(
            &["mailroom:plugin/host@9.0.0"],
            &["metadata", "mailroom:plugin/classifier@9.0.0"],
        );
        let err = detect_world(&s).unwrap_err().to_string();
        assert!(err.contains("mailroom:plugin/classifier@9.0.0"), "{err}");
        assert!(
            err.contains("mailroom:plugin/classifier-plugin@0.1.0"),
            "{err}"
        );
        assert!(err.contains("mailroom:plugin/host@9.0.0"), "{err}");
        assert!(err.contains("0.1.0, 0.2.0"), "{err}");
    }

    #[test]
    fn detects_the_version_of_each_world() {
        for &version in KNOWN_VERSIONS {
            let host = format!("mailroom:plugin/host@{version}");
            let export = format!("mailroom:plugin/workflow@{version}");
            let s = shape(&[host.as_str()], &["metadata", export.as_str()]);
            assert_eq!(
                detect_world(&s).unwrap(),
                World {
                    version,
                    kind: PluginKind::Workflow
                }
            );
        }
    }

    #[test]
    fn a_component_mixing_contract_versions_is_refused() {
        let s = shape(
            &["mailroom:plugin/host@0.1.0", "mailroom:plugin/types@0.2.0"],
            &["metadata", "mailroom:plugin/classifier@0.2.0"],
        );
        let err = detect_world(&s).unwrap_err().to_string();
        assert!(err.contains("mailroom:plugin/host@0.1.0"), "{err}");
        assert!(!err.contains("types@0.2.0"), "{err}");
    }

    #[test]
    fn grants_the_contract_and_wasi_only() {
        let s = shape(
            &[
                "mailroom:plugin/host@0.1.0",
                "wasi:io/streams@0.2.6",
                "wasi:http/outgoing-handler@0.2.6",
                "wasi:http/incoming-handler@0.2.6",
                "wasi:io/streams@0.3.0",
                "evil:net/raw@0.1.0",
            ],
            &[],
        );
        assert_eq!(
            ungranted_imports(&s),
            vec![
                "wasi:http/incoming-handler@0.2.6",
                "wasi:io/streams@0.3.0",
                "evil:net/raw@0.1.0"
            ]
        );
    }
}
