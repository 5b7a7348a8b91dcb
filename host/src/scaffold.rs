//! Plugin projects for authors (`mailroom plugin new`): writes a project in
//! Rust, JavaScript or Python for one plugin kind that builds with one
//! command into a component the host accepts.
//!
//! Everything a project needs travels inside the binary, so it builds away
//! from this repository: the current contract's WIT files, a sample input,
//! and for Rust a copy of the SDK (`plugins/sdk`, which is not on crates.io).
//! The templates are plain files under `host/templates/plugin/`; the few
//! words that differ per project are `{{placeholders}}` replaced here.

use mailroom_plugin_host::PluginKind;
use std::fmt;
use std::path::{Path, PathBuf};

/// The languages a project can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Language {
    Rust,
    Js,
    Python,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::Rust, Language::Js, Language::Python];

    fn display_name(self) -> &'static str {
        match self {
            Language::Rust => "Rust",
            Language::Js => "JavaScript",
            Language::Python => "Python",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::Rust => "rust",
            Language::Js => "js",
            Language::Python => "python",
        })
    }
}

/// Why a project was not written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error(
        "`{0}` cannot name a plugin project: use 1–64 characters of a-z, 0-9 and `-`, \
         starting with a letter (it becomes the plugin's, the package's and the file's name)"
    )]
    InvalidName(String),
    #[error("{} already exists and is not empty: choose another name or --dir", .0.display())]
    NotEmpty(PathBuf),
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A project written to disk, and how to build and try it.
#[derive(Debug)]
pub struct Project {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// The one command that builds it, run in `dir`.
    pub build: &'static str,
    /// The component the build writes, relative to `dir`.
    pub wasm: String,
    /// `mailroom plugin run …` on the project's sample input, run in `dir`.
    pub run: String,
}

/// The contract version the templates, the WIT files below and the SDK are
/// written against (checked against `wit/versions.rs` by a test).
const CONTRACT: &str = "0.2.0";

/// The current contract's WIT files, written to `wit/v0.2.0/`.
const WIT: &[(&str, &str)] = &[
    ("types.wit", include_str!("../../wit/v0.2.0/types.wit")),
    (
        "classifier.wit",
        include_str!("../../wit/v0.2.0/classifier.wit"),
    ),
    (
        "workflow.wit",
        include_str!("../../wit/v0.2.0/workflow.wit"),
    ),
    (
        "provider.wit",
        include_str!("../../wit/v0.2.0/provider.wit"),
    ),
    (
        "filter-importer.wit",
        include_str!("../../wit/v0.2.0/filter-importer.wit"),
    ),
];

/// The Rust SDK's sources, written to `vendor/mailroom-plugin-sdk/src/`. It
/// finds the WIT files at `../../wit` and `versions.rs` at `../../../wit`,
/// as in this repository, so the project puts them at the same distance.
const SDK: &[(&str, &str)] = &[
    ("lib.rs", include_str!("../../plugins/sdk/src/lib.rs")),
    (
        "bindings.rs",
        include_str!("../../plugins/sdk/src/bindings.rs"),
    ),
    ("config.rs", include_str!("../../plugins/sdk/src/config.rs")),
    ("kv.rs", include_str!("../../plugins/sdk/src/kv.rs")),
    ("log.rs", include_str!("../../plugins/sdk/src/log.rs")),
    (
        "message.rs",
        include_str!("../../plugins/sdk/src/message.rs"),
    ),
    ("rules.rs", include_str!("../../plugins/sdk/src/rules.rs")),
    ("time.rs", include_str!("../../plugins/sdk/src/time.rs")),
    (
        "types_ext.rs",
        include_str!("../../plugins/sdk/src/types_ext.rs"),
    ),
];

macro_rules! template {
    ($path:literal) => {
        include_str!(concat!("../templates/plugin/", $path))
    };
}

/// The plugin code of each language and kind, written as the project's main source.
fn source(language: Language, kind: PluginKind) -> &'static str {
    match (language, kind) {
        (Language::Rust, PluginKind::Classifier) => template!("rust/src/classifier.rs"),
        (Language::Rust, PluginKind::Workflow) => template!("rust/src/workflow.rs"),
        (Language::Rust, PluginKind::Provider) => template!("rust/src/provider.rs"),
        (Language::Rust, PluginKind::FilterImporter) => template!("rust/src/filter-importer.rs"),
        (Language::Js, PluginKind::Classifier) => template!("js/src/classifier.js"),
        (Language::Js, PluginKind::Workflow) => template!("js/src/workflow.js"),
        (Language::Js, PluginKind::Provider) => template!("js/src/provider.js"),
        (Language::Js, PluginKind::FilterImporter) => template!("js/src/filter-importer.js"),
        (Language::Python, PluginKind::Classifier) => template!("python/src/classifier.py"),
        (Language::Python, PluginKind::Workflow) => template!("python/src/workflow.py"),
        (Language::Python, PluginKind::Provider) => template!("python/src/provider.py"),
        (Language::Python, PluginKind::FilterImporter) => {
            template!("python/src/filter_importer.py")
        }
    }
}

/// What differs per language: its files, main source path, build and output.
struct Toolchain {
    source_path: &'static str,
    files: &'static [(&'static str, &'static str)],
    gitignore: &'static str,
    build: &'static str,
    prerequisites: &'static str,
}

fn toolchain(language: Language) -> Toolchain {
    match language {
        Language::Rust => Toolchain {
            source_path: "src/lib.rs",
            files: &[
                ("Cargo.toml", template!("rust/Cargo.toml")),
                ("rust-toolchain.toml", template!("rust/rust-toolchain.toml")),
                (
                    "vendor/mailroom-plugin-sdk/Cargo.toml",
                    template!("rust/sdk-Cargo.toml"),
                ),
                ("wit/versions.rs", include_str!("../../wit/versions.rs")),
            ],
            gitignore: template!("rust/gitignore"),
            build: "cargo build --release --target wasm32-wasip2",
            prerequisites: "Rust 1.85 or later through rustup (`rust-toolchain.toml` \
                            makes it add the wasm32-wasip2 target on the first build)",
        },
        Language::Js => Toolchain {
            source_path: "src/plugin.js",
            files: &[
                ("package.json", template!("js/package.json")),
                ("build.mjs", template!("js/build.mjs")),
            ],
            gitignore: template!("js/gitignore"),
            build: "npm install && npm run build",
            prerequisites: "Node.js 18 or later and npm; the build installs \
                            componentize-js from npm",
        },
        Language::Python => Toolchain {
            source_path: "src/app.py",
            files: &[
                ("requirements.txt", template!("python/requirements.txt")),
                ("build.sh", template!("python/build.sh")),
            ],
            gitignore: template!("python/gitignore"),
            build: "./build.sh",
            prerequisites: "Python 3.9 or later with venv (Debian: `apt-get install \
                            python3-venv`); the build installs componentize-py from PyPI \
                            into .venv/",
        },
    }
}

/// The component a build writes, relative to the project.
fn wasm_path(language: Language, name: &str) -> String {
    match language {
        // Cargo names a cdylib after the package with `-` turned into `_`.
        Language::Rust => format!(
            "target/wasm32-wasip2/release/{}.wasm",
            name.replace('-', "_")
        ),
        Language::Js | Language::Python => format!("dist/{name}.wasm"),
    }
}

/// `mailroom plugin run` on the sample input of a kind.
fn run_command(kind: PluginKind, wasm: &str) -> String {
    let input = match kind {
        PluginKind::Classifier | PluginKind::Workflow => "--eml samples/message.eml",
        PluginKind::Provider => "--mailbox \"INBOX/Sent Items\"",
        PluginKind::FilterImporter => "--filter samples/filters.txt",
    };
    format!("mailroom plugin run {wasm} {input}")
}

/// Checks a project name: also a cargo package, an npm package and a file name.
pub fn check_name(name: &str) -> Result<(), ScaffoldError> {
    let valid = (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(ScaffoldError::InvalidName(name.chars().take(80).collect()))
    }
}

/// Writes a new project for a `kind` plugin called `name` in `language` into
/// `dir`, which must not exist or be empty.
pub fn create(
    dir: &Path,
    language: Language,
    kind: PluginKind,
    name: &str,
) -> Result<Project, ScaffoldError> {
    check_name(name)?;
    let is_empty = |d: &Path| std::fs::read_dir(d).map_or(true, |mut e| e.next().is_none());
    if dir.exists() && (!dir.is_dir() || !is_empty(dir)) {
        return Err(ScaffoldError::NotEmpty(dir.to_path_buf()));
    }
    let toolchain = toolchain(language);
    let wasm = wasm_path(language, name);
    let run = run_command(kind, &wasm);
    let world = format!("{kind}-plugin");
    let fill = |text: &str| {
        text.replace("{{name}}", name)
            .replace("{{kind}}", kind.as_str())
            .replace("{{world}}", &world)
            .replace("{{contract}}", CONTRACT)
            .replace("{{language}}", language.display_name())
            .replace("{{source}}", toolchain.source_path)
            .replace("{{prerequisites}}", toolchain.prerequisites)
            .replace("{{build}}", toolchain.build)
            .replace("{{wasm}}", &wasm)
            .replace("{{run}}", &run)
            .replace("{{sdk_version}}", env!("CARGO_PKG_VERSION"))
    };

    let mut files: Vec<(String, String)> = vec![
        ("README.md".into(), fill(template!("common/README.md"))),
        (".gitignore".into(), toolchain.gitignore.into()),
        (toolchain.source_path.into(), fill(source(language, kind))),
    ];
    files.extend(
        toolchain
            .files
            .iter()
            .map(|(path, text)| ((*path).to_string(), fill(text))),
    );
    // The contract as released: never templated.
    files.extend(
        WIT.iter()
            .map(|(file, text)| (format!("wit/v{CONTRACT}/{file}"), (*text).to_string())),
    );
    if language == Language::Rust {
        files.extend(SDK.iter().map(|(file, text)| {
            (
                format!("vendor/mailroom-plugin-sdk/src/{file}"),
                (*text).to_string(),
            )
        }));
    }
    files.push(match kind {
        PluginKind::FilterImporter => (
            "samples/filters.txt".into(),
            template!("common/samples/filters.txt").into(),
        ),
        _ => (
            "samples/message.eml".into(),
            template!("common/samples/message.eml").into(),
        ),
    });

    let mut written = Vec::with_capacity(files.len());
    for (relative, text) in files {
        let path = dir.join(&relative);
        write(&path, &text)?;
        written.push(path);
    }
    if language == Language::Python {
        make_executable(&dir.join("build.sh"))?;
    }
    Ok(Project {
        dir: dir.to_path_buf(),
        files: written,
        build: toolchain.build,
        wasm,
        run,
    })
}

fn write(path: &Path, text: &str) -> Result<(), ScaffoldError> {
    let io = |source| ScaffoldError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), ScaffoldError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(|source| {
        ScaffoldError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<(), ScaffoldError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_use_the_current_contract_and_the_sdks_wit_bindgen() {
        assert_eq!(CONTRACT, mailroom_plugin_host::bindings::CONTRACT_VERSION);
        let sdk_manifest = template!("rust/sdk-Cargo.toml");
        let plugins_manifest = include_str!("../../plugins/Cargo.toml");
        let version = |text: &str| {
            text.lines()
                .find(|l| l.starts_with("wit-bindgen = "))
                .and_then(|l| l.split('"').nth(1))
                .map(str::to_owned)
        };
        assert!(version(plugins_manifest).is_some());
        assert_eq!(version(sdk_manifest), version(plugins_manifest));
    }

    #[test]
    fn names_must_serve_as_package_and_file_names() {
        for good in ["a", "acme-tagger", "x2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "Acme", "2x", "a_b", "a.b", "-a", "a-", "../x", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert!(check_name(&"a".repeat(65)).is_err());
    }

    #[test]
    fn every_placeholder_is_filled_in_every_project() {
        let root = std::env::temp_dir().join(format!("mailroom-scaffold-{}", std::process::id()));
        for language in Language::ALL {
            for kind in PluginKind::ALL {
                let dir = root.join(format!("{language}-{kind}"));
                let project = create(&dir, language, kind, "acme-x").expect("written");
                for file in &project.files {
                    let text = std::fs::read_to_string(file).expect("readable");
                    assert!(
                        !text.contains("{{"),
                        "{} keeps a placeholder",
                        file.display()
                    );
                }
                assert!(matches!(
                    create(&dir, language, kind, "acme-x"),
                    Err(ScaffoldError::NotEmpty(_))
                ));
            }
        }
        let _ = std::fs::remove_dir_all(root);
    }
}
