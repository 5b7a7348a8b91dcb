//! Checks every provider plugin's unit tests run on its own data, so a
//! mistake in a table (an upper-case fragment that can never match, a preset
//! without TLS, an OAuth2 method without endpoints) fails `cargo test`
//! rather than a customer's connection.

use crate::diagnose::{Pattern, which_pattern};
use mailroom_plugin_sdk::provider::{
    AuthMethod, ConnectionProblem, ProviderInfo, Security, ServerPreset,
};

/// What is wrong with `info`; empty when nothing is.
pub fn info_problems(info: &ProviderInfo) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            problems.push(what);
        }
    };
    check(
        !info.id.is_empty() && info.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
        format!("id {:?} is not a lower-case word", info.id),
    );
    check(!info.name.is_empty(), "no name".into());
    for domain in &info.domains {
        check(
            domain.contains('.') && *domain == domain.to_ascii_lowercase() && !domain.contains('@'),
            format!("domain {domain:?} is not a lower-case domain name"),
        );
    }
    let presets: [(&str, &Option<ServerPreset>); 3] = [
        ("imap", &info.imap),
        ("pop3", &info.pop3),
        ("smtp", &info.smtp),
    ];
    for (protocol, preset) in presets {
        if let Some(p) = preset {
            check(
                !p.host.is_empty() && !p.host.contains(char::is_whitespace),
                format!("{protocol} host {:?}", p.host),
            );
            check(p.port != 0, format!("{protocol} port 0"));
            check(
                p.security != Security::None,
                format!("{protocol} preset {} without TLS", p.host),
            );
        }
    }
    check(
        !info.auth_methods.is_empty(),
        "no authentication method".into(),
    );
    let oauth = info.auth_methods.contains(&AuthMethod::Oauth2);
    check(
        oauth == info.oauth2.is_some(),
        "OAuth2 endpoints exactly when OAuth2 is an auth method".into(),
    );
    if let Some(o) = &info.oauth2 {
        for url in [&o.authorization_url, &o.token_url] {
            check(url.starts_with("https://"), format!("{url} is not https"));
        }
        check(!o.scopes.is_empty(), "OAuth2 without scopes".into());
    }
    check(
        !info.auth_methods.contains(&AuthMethod::AppPassword) || info.app_password_hint.is_some(),
        "app passwords without a hint on how to make one".into(),
    );
    check(
        info.quirks.idle_restart_seconds > 0 && info.quirks.idle_restart_seconds <= 29 * 60,
        "IDLE restart outside 1 s ..= 29 min (RFC 2177)".into(),
    );
    check(info.quirks.max_connections > 0, "max-connections 0".into());
    problems
}

/// What is wrong with a pattern table: fragments that cannot match the
/// lower-cased words, and patterns that match nothing.
pub fn pattern_problems(patterns: &[Pattern]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, p) in patterns.iter().enumerate() {
        for fragment in p.any.iter().chain(p.all) {
            if fragment.is_empty() || *fragment != fragment.to_lowercase() {
                problems.push(format!(
                    "pattern {i} ({}): fragment {fragment:?}",
                    p.summary
                ));
            }
        }
        if p.summary.is_empty() || p.advice.trim().is_empty() {
            problems.push(format!("pattern {i} has no summary or advice"));
        }
    }
    problems
}

/// Panics unless every pattern is the first match of at least one sample,
/// and each sample is recognised by the pattern listed with it. The samples
/// are the servers' real words, so this proves every pattern can be reached.
pub fn assert_patterns_cover(patterns: &[Pattern], samples: &[(ConnectionProblem, usize)]) {
    let problems = pattern_problems(patterns);
    assert!(problems.is_empty(), "{problems:#?}");
    for (problem, expected) in samples {
        assert_eq!(
            which_pattern(problem, patterns),
            Some(*expected),
            "{:?} at {:?} should be pattern {expected} ({})",
            problem.message,
            problem.step,
            patterns[*expected].summary
        );
    }
    for (i, p) in patterns.iter().enumerate() {
        assert!(
            samples.iter().any(|(_, expected)| *expected == i),
            "pattern {i} ({}) has no sample",
            p.summary
        );
    }
}
