//! Builds every plugin in `plugins/` (its own cargo workspace) for
//! `wasm32-wasip2`, and the JavaScript and Python examples in `examples/`
//! (`EXAMPLES`), then writes `artifacts.rs` with one path constant per
//! component and the bundled plugins' bytes.
//!
//! The nested cargo gets its own target directory, `<target>/wasm-plugins`,
//! derived from `OUT_DIR`: a separate directory means a separate cargo lock
//! (no deadlock with the outer build), it survives `cargo clean -p`, and it is
//! shared by every profile of the outer build (the plugins are always built
//! with their own release profile). Environment that configures the outer
//! build for the host (flags, target, profiles, wrappers) is removed so it
//! does not leak into the wasm build; the pattern follows wasmtime's
//! `crates/test-programs/artifacts/build.rs`.
//!
//! Set `MAILROOM_SKIP_JS_PLUGIN=1` on a machine without Node.js, or
//! `MAILROOM_SKIP_PY_PLUGIN=1` on one without Python's venv: the Rust plugins
//! still build and `JS_CLASSIFIER` or `PY_CLASSIFIER` is an empty string.

// A build script reports a failure by panicking with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const WASM_TARGET: &str = "wasm32-wasip2";

/// A plugin example in another language, built by its own script.
struct Example {
    /// `examples/<name>`; its build writes `dist/<name>.wasm`.
    name: &'static str,
    /// The path constant `artifacts.rs` gives it, and what it says of it.
    constant: &'static str,
    about: &'static str,
    language: &'static str,
    /// Set to build without it.
    skip: &'static str,
    /// What the build reads, relative to the example (besides `wit/`).
    inputs: &'static [&'static str],
    /// Tools that must run (`program`, `args`), and how to install them.
    tools: &'static [(&'static str, &'static [&'static str])],
    install_hint: &'static str,
    /// When its dependencies are installed and unchanged, a quicker build
    /// than `build.sh`: (the dependency files, the folder they install
    /// into, the command).
    quick: Option<(
        &'static [&'static str],
        &'static str,
        &'static [&'static str],
    )>,
}

const JS_EXAMPLE: Example = Example {
    name: "js-classifier",
    constant: "JS_CLASSIFIER",
    about: "The JavaScript example (`examples/js-classifier`), built with componentize-js",
    language: "JavaScript",
    skip: "MAILROOM_SKIP_JS_PLUGIN",
    inputs: &[
        "package.json",
        "package-lock.json",
        "build.mjs",
        "build.sh",
        "src",
    ],
    tools: &[("node", &["--version"]), ("npm", &["--version"])],
    install_hint: "Install Node.js 18 or newer with npm (Debian/Ubuntu: `apt-get install nodejs npm`)",
    quick: Some((
        &["package.json", "package-lock.json"],
        "node_modules",
        &["node", "build.mjs"],
    )),
};

/// What the Python examples share: the tool and where it is pinned.
const PY_INPUTS: &[&str] = &[
    "build.sh",
    "src",
    "../componentize-py.sh",
    "../componentize-py.txt",
];
const PY_TOOLS: &[(&str, &[&str])] = &[("python3", &["-m", "venv", "--help"])];
const PY_HINT: &str = "Install Python 3.9 or newer with venv (Debian/Ubuntu: `apt-get install python3-venv`); \
                       the build installs componentize-py from PyPI";

const PY_EXAMPLE: Example = Example {
    name: "py-classifier",
    constant: "PY_CLASSIFIER",
    about: "The Python example classifier (`examples/py-classifier`), built with componentize-py",
    language: "Python",
    skip: "MAILROOM_SKIP_PY_PLUGIN",
    // ../componentize-py.sh keeps its venv fresh itself.
    inputs: PY_INPUTS,
    tools: PY_TOOLS,
    install_hint: PY_HINT,
    quick: None,
};

const PY_WORKFLOW_EXAMPLE: Example = Example {
    name: "py-workflow",
    constant: "PY_WORKFLOW",
    about: "The Python example workflow (`examples/py-workflow`), built with componentize-py",
    ..PY_EXAMPLE
};

/// The examples in other languages, built in this order.
const EXAMPLES: &[&Example] = &[&JS_EXAMPLE, &PY_EXAMPLE, &PY_WORKFLOW_EXAMPLE];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .join("../..")
        .canonicalize()
        .expect("repository root");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let wasm_target_dir = outer_target_dir(&out_dir).join("wasm-plugins");
    fs::create_dir_all(&wasm_target_dir).expect("create the wasm target dir");

    watch_sources(&root);
    check_wasm_target();

    let artifacts = build_rust_plugins(&root.join("plugins"), &wasm_target_dir);

    let examples: Vec<(&Example, Option<PathBuf>)> = EXAMPLES
        .iter()
        .map(|&example| (example, build_example(&root, &wasm_target_dir, example)))
        .collect();

    fs::write(
        out_dir.join("artifacts.rs"),
        generate(&artifacts, &examples),
    )
    .expect("write artifacts.rs");
}

/// `<target>/<profile>/build/<pkg>-<hash>/out`, or with `--target`
/// `<target>/<triple>/<profile>/build/…`: the outer target directory.
fn outer_target_dir(out_dir: &Path) -> PathBuf {
    let build = out_dir
        .ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "build"))
        .unwrap_or_else(|| panic!("unexpected OUT_DIR layout: {}", out_dir.display()));
    let mut dir = build.parent().and_then(Path::parent).expect("target dir");
    if let Ok(triple) = env::var("TARGET")
        && dir.file_name().is_some_and(|n| *n == *triple)
    {
        dir = dir.parent().expect("target dir");
    }
    dir.to_path_buf()
}

/// Rebuild when the plugins, the contract or the JS example change. Only
/// source folders are watched: `plugins/target` (a hand build) must not
/// trigger rebuilds. The paths are written relative to this package: this
/// package's fingerprint does not depend on where the checkout is, so with
/// absolute paths a target dir shared by two checkouts watched the first
/// one's files and kept its stale plugins for the other.
fn watch_sources(root: &Path) {
    let watch = |path: PathBuf| {
        if path.exists() {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            println!("cargo:rerun-if-changed=../../{}", relative.display());
        }
    };
    watch(root.join("wit"));
    let plugins = root.join("plugins");
    watch(plugins.join("Cargo.toml"));
    watch(plugins.join("Cargo.lock"));
    watch(plugins.join(".cargo/config.toml"));
    let mut members: Vec<PathBuf> = fs::read_dir(&plugins)
        .expect("read plugins/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    members.sort();
    for member in members {
        for part in ["Cargo.toml", "src", "examples", "build.rs"] {
            watch(member.join(part));
        }
    }
    for example in EXAMPLES {
        for part in example.inputs {
            watch(root.join("examples").join(example.name).join(part));
        }
    }
}

/// A nested cargo with the outer build's host configuration removed.
fn cargo() -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_BUILD_")
            || key.starts_with("CARGO_TARGET_")
            || key.starts_with("CARGO_ENCODED_")
        {
            cmd.env_remove(key);
        }
    }
    for key in [
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
    ] {
        cmd.env_remove(key);
    }
    cmd
}

fn rustc() -> Command {
    Command::new(env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
}

/// Whether the standard library for `wasm32-wasip2` is installed for the
/// compiler of this build.
fn wasm_target_installed() -> bool {
    let libdir = rustc()
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    libdir.as_ref().is_some_and(|dir| {
        fs::read_dir(dir).is_ok_and(|mut entries| {
            entries.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
        })
    })
}

/// Installs the wasm target with rustup when it is missing (a fresh clone
/// builds without a manual step); stops with what to do only when that fails.
/// rustup installs it for this build's toolchain: its proxy set
/// `RUSTUP_TOOLCHAIN`, which the child inherits.
fn check_wasm_target() {
    if wasm_target_installed() {
        return;
    }
    eprintln!(
        "the Rust target `{WASM_TARGET}` is missing: running `rustup target add {WASM_TARGET}`"
    );
    let why = match Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .output()
    {
        Ok(o) if o.status.success() && wasm_target_installed() => {
            println!("cargo:warning=installed the Rust target `{WASM_TARGET}` with rustup");
            return;
        }
        Ok(o) if o.status.success() => {
            "rustup installed it, but the compiler of this build does not see it".to_string()
        }
        Ok(o) => format!(
            "`rustup target add {WASM_TARGET}` failed:\n{}",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "rustup is not on PATH".to_string(),
        Err(e) => format!("rustup could not be run: {e}"),
    };
    panic!(
        "\n\nThe Rust target `{WASM_TARGET}` is not installed, so the plugins in plugins/ cannot be built: {why}\n\
         Install it for the toolchain in rust-toolchain.toml (with rustup: `rustup target add {WASM_TARGET}`; \
         otherwise your distribution's standard library package for {WASM_TARGET}) and build again.\n\n"
    );
}

/// One component built from `plugins/`.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Artifact {
    /// The package name of a bundled plugin, the example's name of a test plugin.
    name: String,
    wasm: PathBuf,
    /// A bundled plugin's package version (what its metadata reports).
    bundled_version: Option<String>,
}

/// The version in a Cargo package id: `path+file:///p/x#name@1.2.3` or
/// `path+file:///p/name#1.2.3` (the package id specification).
fn package_version(package_id: &str) -> Option<String> {
    let (_, fragment) = package_id.rsplit_once('#')?;
    let version = fragment.rsplit_once('@').map_or(fragment, |(_, v)| v);
    Some(version.to_owned())
}

/// Builds `plugins/` and returns every component: the workspace's `cdylib`
/// libraries (the bundled plugins) and `cdylib` examples (the test plugins).
fn build_rust_plugins(plugins: &Path, target_dir: &Path) -> Vec<Artifact> {
    let mut cmd = cargo();
    cmd.current_dir(plugins)
        .args(["build", "--release", "--workspace", "--lib", "--examples"])
        .args([
            "--target",
            WASM_TARGET,
            "--message-format=json-render-diagnostics",
        ])
        .env("CARGO_TARGET_DIR", target_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    eprintln!("running: {cmd:?}");
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo for plugins/: {e}"));
    if !output.status.success() {
        panic!(
            "building the plugins in {} failed (see the errors above)",
            plugins.display()
        );
    }
    let mut artifacts = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let target = &msg["target"];
        let is_cdylib = target["crate_types"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t == "cdylib"));
        if !is_cdylib {
            continue;
        }
        let bundled = target["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "cdylib"));
        // A library target is named after its package with `-` turned into
        // `_`; give bundled plugins back their package name.
        let raw_name = target["name"].as_str().expect("target name");
        let name = if bundled {
            raw_name.replace('_', "-")
        } else {
            raw_name.to_string()
        };
        let wasm = msg["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".wasm"))
            .unwrap_or_else(|| panic!("no .wasm for {name}"));
        let bundled_version = bundled.then(|| {
            msg["package_id"]
                .as_str()
                .and_then(package_version)
                .unwrap_or_else(|| panic!("no package version for {name}: {}", msg["package_id"]))
        });
        artifacts.push(Artifact {
            name,
            wasm: PathBuf::from(wasm),
            bundled_version,
        });
    }
    artifacts.sort();
    assert!(
        artifacts.iter().any(|a| a.bundled_version.is_some()),
        "no plugin was built in {}",
        plugins.display()
    );
    artifacts
}

/// Builds an example unless its skip variable is set; the path of a copy of
/// its component in `target_dir`. Rebuilt only when its inputs or the
/// contract changed (a fingerprint, not mtimes: a fresh checkout has new ones).
fn build_example(root: &Path, target_dir: &Path, example: &Example) -> Option<PathBuf> {
    let skip = example.skip;
    println!("cargo:rerun-if-env-changed={skip}");
    if env::var_os(skip).is_some_and(|v| !v.is_empty() && v != "0") {
        println!(
            "cargo:warning={skip} is set: the {} example plugin is not built",
            example.language
        );
        return None;
    }
    let name = example.name;
    let dir = root.join("examples").join(name);
    let built = dir.join(format!("dist/{name}.wasm"));
    let copy = target_dir.join(format!("{name}.wasm"));
    let stamp_path = target_dir.join(format!("{name}.stamp"));
    let deps_stamp_path = target_dir.join(format!("{name}-deps.stamp"));
    let mut inputs: Vec<PathBuf> = example.inputs.iter().map(|i| dir.join(i)).collect();
    inputs.push(root.join("wit"));
    let stamp = fingerprint(&inputs);
    let fresh = |path: &Path, expected: &str| fs::read_to_string(path).is_ok_and(|s| s == expected);
    if copy.is_file() && fresh(&stamp_path, &stamp) {
        return Some(copy);
    }
    for (tool, args) in example.tools {
        let found = Command::new(tool)
            .args(*args)
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            panic!(
                "\n\n`{tool}` was not found: it is needed to build the {} example plugin in {}.\n\
                 {}, or set {skip}=1 to build without it.\n\n",
                example.language,
                dir.display(),
                example.install_hint
            );
        }
    }
    fs::create_dir_all(dir.join("dist")).expect("create dist/");
    // Two builds of the host (a test and a clippy run) may run this at once.
    let lock = fs::File::create(dir.join("dist/.build.lock")).expect("create the build lock");
    lock.lock().expect("lock the example's build");

    let deps_stamp = example
        .quick
        .map(|(deps, _, _)| fingerprint(&deps.iter().map(|d| dir.join(d)).collect::<Vec<_>>()));
    let quick = example.quick.filter(|(_, installed, _)| {
        dir.join(installed).is_dir()
            && deps_stamp
                .as_deref()
                .is_some_and(|s| fresh(&deps_stamp_path, s))
    });
    let mut cmd = match quick {
        Some((_, _, [program, args @ ..])) => {
            let mut quick = Command::new(program);
            quick.args(args);
            quick
        }
        _ => {
            let mut bash = Command::new("bash");
            bash.arg("build.sh");
            bash
        }
    };
    cmd.current_dir(&dir)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit());
    eprintln!("running: {cmd:?}");
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot build {}: {e}", dir.display()));
    if !status.success() || !built.is_file() {
        panic!(
            "building the {} example plugin failed (see the output above); try {}/build.sh",
            example.language,
            dir.display()
        );
    }
    if let Some(deps_stamp) = deps_stamp {
        fs::write(&deps_stamp_path, deps_stamp).expect("write the deps stamp");
    }
    fs::copy(&built, &copy).unwrap_or_else(|e| panic!("copy {name}.wasm: {e}"));
    fs::write(&stamp_path, stamp).expect("write the example's stamp");
    Some(copy)
}

/// FNV-1a over the paths and contents of `paths` (folders recursively, in
/// name order): stable across runs, unlike mtimes after a fresh checkout.
fn fingerprint(paths: &[PathBuf]) -> String {
    fn walk(path: &Path, hash: &mut u64) {
        let mut feed = |bytes: &[u8]| {
            for b in bytes {
                *hash = (*hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
            }
        };
        feed(path.to_string_lossy().as_bytes());
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(path)
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path())
                .collect();
            entries.sort();
            for entry in entries {
                walk(&entry, hash);
            }
        } else if let Ok(bytes) = fs::read(path) {
            feed(&bytes);
        }
    }
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for path in paths {
        walk(path, &mut hash);
    }
    format!("{hash:016x}")
}

/// `infinite-loop` → `INFINITE_LOOP`.
fn constant_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn generate(artifacts: &[Artifact], examples: &[(&Example, Option<PathBuf>)]) -> String {
    let mut code = String::new();
    let mut names = BTreeMap::new();
    for a in artifacts {
        let constant = constant_name(&a.name);
        if let Some(previous) = names.insert(constant.clone(), &a.name) {
            panic!(
                "plugins `{previous}` and `{}` would both be called {constant}",
                a.name
            );
        }
        let kind = if a.bundled_version.is_some() {
            "Bundled plugin"
        } else {
            "Test plugin"
        };
        code += &format!(
            "/// {kind} `{}`: path of its component.\npub const {constant}: &str = {:?};\n",
            a.name,
            a.wasm.display().to_string()
        );
    }
    for (example, built) in examples {
        code += &format!(
            "/// {}\n/// (empty when built with `{}`).\npub const {}: &str = {:?};\n",
            example.about,
            example.skip,
            example.constant,
            built
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    code +=
        "/// The bundled plugins, compiled in: installed into new orgs and by `mailroom demo`.\n";
    code += "pub static BUNDLED: &[Bundled] = &[\n";
    for a in artifacts {
        if let Some(version) = &a.bundled_version {
            code += &format!(
                "    Bundled {{ package: {:?}, version: {version:?}, bytes: include_bytes!({:?}) }},\n",
                a.name,
                a.wasm.display().to_string()
            );
        }
    }
    code += "];\n";
    code
}
