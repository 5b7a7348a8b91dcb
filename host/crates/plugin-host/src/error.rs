//! What can go wrong with a plugin, in words an admin or plugin author can act on.
//!
//! Admission errors (the component is refused at upload) and invocation
//! errors (one call failed) share one type so the caller can log, count and
//! report them the same way; [`PluginError::counts_against_plugin`] says which
//! ones are the plugin's fault and feed auto-disable.

use serde::Serialize;

#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginError {
    #[error("the file is not a WebAssembly component: {0}")]
    InvalidComponent(String),

    #[error(
        "the component implements no world of a contract version this host supports \
         (supported versions: {versions}; worlds: {known}); it exports [{exports}] and \
         imports [{imports}]",
        exports = .exports.join(", "),
        imports = .imports.join(", ")
    )]
    UnknownWorld {
        /// The supported contract versions, e.g. `0.1.0, 0.2.0`.
        versions: String,
        known: String,
        exports: Vec<String>,
        imports: Vec<String>,
    },

    #[error(
        "the component imports interfaces the host does not grant: {}; \
         a plugin may import only mailroom:plugin/host, mailroom:plugin/types and WASI 0.2",
        .0.join(", ")
    )]
    UngrantedImports(Vec<String>),

    #[error("the component's metadata is not acceptable: {0}")]
    InvalidMetadata(String),

    #[error("the plugin trapped: {0}")]
    Trap(String),

    #[error("the plugin ran past its deadline of {0} ms and was stopped")]
    DeadlineExceeded(u64),

    #[error("the plugin tried to use more than its memory limit of {0} bytes and was stopped")]
    MemoryLimit(u64),

    #[error("the plugin's output ({size} bytes) is larger than the limit of {limit} bytes")]
    OutputTooLarge { size: u64, limit: u64 },

    #[error("the plugin returned invalid output: {0}")]
    InvalidOutput(String),

    #[error("the plugin reported an error: {0}")]
    Reported(String),

    #[error("the input ({size} bytes) is larger than this plugin's input limit of {limit} bytes")]
    InputTooLarge { size: u64, limit: u64 },

    #[error("the host is at its limit of concurrent plugin instances; try again shortly")]
    Busy,

    #[error("plugin host error: {0}")]
    Host(String),
}

/// A stable, machine-readable name of an error's kind, for metrics and the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginErrorKind {
    InvalidComponent,
    UnknownWorld,
    UngrantedImport,
    InvalidMetadata,
    Trap,
    DeadlineExceeded,
    MemoryLimit,
    OutputTooLarge,
    InvalidOutput,
    Reported,
    InputTooLarge,
    Busy,
    Host,
}

impl PluginErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidComponent => "invalid_component",
            Self::UnknownWorld => "unknown_world",
            Self::UngrantedImport => "ungranted_import",
            Self::InvalidMetadata => "invalid_metadata",
            Self::Trap => "trap",
            Self::DeadlineExceeded => "deadline_exceeded",
            Self::MemoryLimit => "memory_limit",
            Self::OutputTooLarge => "output_too_large",
            Self::InvalidOutput => "invalid_output",
            Self::Reported => "reported",
            Self::InputTooLarge => "input_too_large",
            Self::Busy => "busy",
            Self::Host => "host",
        }
    }
}

impl PluginError {
    pub fn kind(&self) -> PluginErrorKind {
        match self {
            Self::InvalidComponent(_) => PluginErrorKind::InvalidComponent,
            Self::UnknownWorld { .. } => PluginErrorKind::UnknownWorld,
            Self::UngrantedImports(_) => PluginErrorKind::UngrantedImport,
            Self::InvalidMetadata(_) => PluginErrorKind::InvalidMetadata,
            Self::Trap(_) => PluginErrorKind::Trap,
            Self::DeadlineExceeded(_) => PluginErrorKind::DeadlineExceeded,
            Self::MemoryLimit(_) => PluginErrorKind::MemoryLimit,
            Self::OutputTooLarge { .. } => PluginErrorKind::OutputTooLarge,
            Self::InvalidOutput(_) => PluginErrorKind::InvalidOutput,
            Self::Reported(_) => PluginErrorKind::Reported,
            Self::InputTooLarge { .. } => PluginErrorKind::InputTooLarge,
            Self::Busy => PluginErrorKind::Busy,
            Self::Host(_) => PluginErrorKind::Host,
        }
    }

    /// Whether this failure is the plugin's doing (and so counts towards
    /// auto-disabling it), as opposed to the host refusing work or failing itself.
    pub fn counts_against_plugin(&self) -> bool {
        matches!(
            self.kind(),
            PluginErrorKind::Trap
                | PluginErrorKind::DeadlineExceeded
                | PluginErrorKind::MemoryLimit
                | PluginErrorKind::OutputTooLarge
                | PluginErrorKind::InvalidOutput
                | PluginErrorKind::Reported
        )
    }
}

/// `text` cut to at most `max` bytes (on a character boundary) with `…`
/// where it was cut: what a plugin said, bounded before it reaches an
/// error message.
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The last `max` bytes of `text` (on a character boundary), with `…` in
/// front where it was cut: the end of a log is where a panic message is.
pub fn shorten_to_tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_keeps_whole_characters_at_the_cut_end() {
        assert_eq!(shorten("héllo", 2), "h…");
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten_to_tail("héllo", 4), "…llo");
        assert_eq!(shorten_to_tail("panic: at the end", 10), "…at the end");
    }
}
