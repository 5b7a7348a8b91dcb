//! The config file: any text is read without panicking; a refused file is
//! refused with toml's words and a line inside the file, a value out of
//! range with its key; an accepted one turns into exact plugin limits and
//! deadlines a clock can hold, and survives being written back and read
//! again unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mailroom_config::{ConfigError, Settings};
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let settings = match Settings::from_toml(text) {
        Ok(s) => s,
        Err(e) => {
            assert!(!e.message.is_empty());
            if let Some(line) = e.line {
                let lines = text.matches('\n').count() + 1;
                assert!((1..=lines).contains(&line), "line {line} of {lines}");
            }
            return;
        }
    };
    match settings.check() {
        Ok(()) => {}
        Err(ConfigError::Value { name, message }) => {
            assert!(name.contains('.'), "a key names its table: {name}");
            assert!(message.contains("out of range"), "{message}");
            return;
        }
        Err(other) => panic!("checking read no file: {other}"),
    }
    let limits = settings.plugin_limits();
    let p = &settings.plugins;
    assert_eq!(limits.memory_bytes >> 20, p.memory_mib);
    assert_eq!(limits.input_bytes >> 20, p.input_mib);
    assert_eq!(limits.output_bytes >> 10, p.output_kib);
    let t = settings.connection_test.timeouts();
    let now = Instant::now();
    for d in [
        t.connect,
        t.tls,
        t.greeting,
        t.command,
        Duration::from_secs(settings.sync.poll_seconds),
        Duration::from_secs(settings.http.header_read_timeout_secs),
    ] {
        assert!(now.checked_add(d).is_some(), "{d:?} from now");
    }
    let written = toml::to_string(&settings).expect("accepted settings are written");
    let again = Settings::from_toml(&written).expect("written settings are read back");
    assert_eq!(again, settings, "written as\n{written}");
    assert!(again.check().is_ok());
});
