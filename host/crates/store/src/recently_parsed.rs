//! Messages ingestion has just parsed, handed on to the pipeline so that a
//! new message is parsed once rather than twice (parsing — mostly decoding
//! attachments — measured a sixth of a sync's CPU when done twice).
//!
//! Only a shortcut: bounded by bytes with the oldest entries dropped first,
//! local to this process and empty after a restart. A message that is not
//! here is parsed again from its stored bytes, with the same result, since
//! parsing is a pure function of those bytes.

use mailroom_core::ids::{MessageId, OrgId};
use mailroom_core::mime::ParsedMessage;
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Enough for a few thousand typical messages: the pipeline takes them
/// seconds after they were stored, unless it has fallen far behind.
const MAX_BYTES: usize = 32 << 20;

type Key = (OrgId, MessageId);

#[derive(Default)]
pub struct RecentlyParsed {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for RecentlyParsed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.inner.lock();
        f.debug_struct("RecentlyParsed")
            .field("messages", &inner.entries.len())
            .field("bytes", &inner.bytes)
            .finish()
    }
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, (Arc<ParsedMessage>, usize)>,
    /// Insertion order; may hold keys already taken, skipped on eviction.
    order: VecDeque<Key>,
    bytes: usize,
}

impl RecentlyParsed {
    pub fn put(&self, org: &OrgId, id: &MessageId, parsed: Arc<ParsedMessage>) {
        let size = approximate_size(&parsed);
        if size > MAX_BYTES / 4 {
            return;
        }
        let key = (org.clone(), id.clone());
        let mut inner = self.inner.lock();
        if let Some((_, old)) = inner.entries.insert(key.clone(), (parsed, size)) {
            inner.bytes -= old;
        }
        inner.bytes += size;
        inner.order.push_back(key);
        while inner.bytes > MAX_BYTES {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some((_, size)) = inner.entries.remove(&oldest) {
                inner.bytes -= size;
            }
        }
        // Taken keys linger in `order`; keep it proportional to the entries.
        if inner.order.len() > 2 * inner.entries.len() + 1024 {
            let Inner { entries, order, .. } = &mut *inner;
            order.retain(|k| entries.contains_key(k));
        }
    }

    /// The parsed message, if ingestion left it here; it is removed.
    pub fn take(&self, org: &OrgId, id: &MessageId) -> Option<Arc<ParsedMessage>> {
        let mut inner = self.inner.lock();
        let (parsed, size) = inner.entries.remove(&(org.clone(), id.clone()))?;
        inner.bytes -= size;
        Some(parsed)
    }
}

/// The heap a parsed message holds, roughly: its texts and headers.
fn approximate_size(p: &ParsedMessage) -> usize {
    let headers: usize = p.headers.iter().map(|(n, v)| n.len() + v.len() + 48).sum();
    p.text_body.len()
        + p.html_body.as_ref().map_or(0, String::len)
        + p.subject.len()
        + headers
        + p.attachments.len() * 128
        + 512
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(body_bytes: usize) -> Arc<ParsedMessage> {
        Arc::new(ParsedMessage {
            text_body: "x".repeat(body_bytes),
            ..Default::default()
        })
    }

    #[test]
    fn a_message_is_taken_once() {
        let cache = RecentlyParsed::default();
        let (org, id) = (OrgId("o".into()), MessageId("m".into()));
        cache.put(&org, &id, parsed(10));
        assert!(cache.take(&org, &id).is_some());
        assert!(cache.take(&org, &id).is_none());
        assert!(cache.take(&OrgId("other".into()), &id).is_none());
    }

    #[test]
    fn the_oldest_entries_go_first_when_full() {
        let cache = RecentlyParsed::default();
        let org = OrgId("o".into());
        let each = MAX_BYTES / 8;
        for n in 0..12 {
            cache.put(&org, &MessageId(format!("m{n}")), parsed(each));
        }
        assert!(cache.take(&org, &MessageId("m0".into())).is_none());
        assert!(cache.take(&org, &MessageId("m11".into())).is_some());
        assert!(cache.inner.lock().bytes <= MAX_BYTES);
    }
}
