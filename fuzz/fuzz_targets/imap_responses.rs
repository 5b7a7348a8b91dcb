//! The IMAP responses the host reads itself instead of through async-imap
//! (SELECT with QRESYNC, VANISHED, COPYUID, a NO's words): whatever a
//! server sends, nothing panics and what is read keeps its promises.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    mailroom_net::imap::session::fuzz_raw_responses(bytes);
});
