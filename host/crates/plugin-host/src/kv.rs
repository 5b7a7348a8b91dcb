//! One call's view of its plugin's key-value store: the data as of the
//! call's start, the call's own pending changes on top, and the bounds every
//! key-value function checks.
//!
//! What a call may hold in host memory is bounded whatever the plugin does:
//! keys and values have a size cap, the store a total, a call may change at
//! most [`KvLimits::max_changes_per_call`] distinct keys and make at most
//! [`KvLimits::max_operations_per_call`] key-value calls. Deleting a key
//! that does not exist changes nothing and is not kept. A plugin going past
//! a call's bounds (or passing an oversized key to `kv-get`/`kv-delete`,
//! which have no error to return) traps with a [`KvViolation`] saying which
//! bound, and none of that call's changes are applied; so the changes the
//! registry saves after a successful call are a bounded batch (one short
//! transaction).

use crate::bindings::latest::host::KvError;
use crate::limits::KvLimits;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A plugin's key-value data, shared between calls.
pub type KvData = Arc<BTreeMap<String, Vec<u8>>>;

/// A key-value call the host refuses by trapping: the plugin went past a
/// per-call bound, so its call fails and its changes are dropped.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KvViolation {
    #[error("{function} was given a key of {size} bytes; keys are at most {limit} bytes")]
    KeyTooLong {
        function: &'static str,
        size: usize,
        limit: u64,
    },
    #[error(
        "{function}: more than {limit} key-value calls in one plugin call; \
         keep per-message state small"
    )]
    TooManyOperations { function: &'static str, limit: u32 },
    #[error(
        "{function}: more than {limit} distinct keys changed in one plugin call; \
         spread the changes over several calls"
    )]
    TooManyChanges { function: &'static str, limit: u32 },
}

/// See the module doc.
#[derive(Debug)]
pub struct KvSession {
    /// `None`: the plugin has no `key-value` permission.
    base: Option<KvData>,
    changes: BTreeMap<String, Option<Vec<u8>>>,
    /// Bytes (keys and values) the store would hold with `changes` applied;
    /// counted on the first write, so read-only calls never walk the data.
    total_bytes: Option<u64>,
    operations: u32,
    limits: KvLimits,
}

impl KvSession {
    pub fn new(base: Option<KvData>, limits: KvLimits) -> Self {
        Self {
            base,
            changes: BTreeMap::new(),
            total_bytes: None,
            operations: 0,
            limits,
        }
    }

    /// The call's changes, to apply if it succeeds: `None` deletes the key.
    pub fn into_changes(self) -> BTreeMap<String, Option<Vec<u8>>> {
        self.changes
    }

    pub fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, KvViolation> {
        self.count("kv-get")?;
        self.check_key("kv-get", key)?;
        Ok(self.value(key).cloned())
    }

    /// `Ok(Err(_))` is the contract's own refusal (no permission, too
    /// large, quota); `Err(_)` traps.
    pub fn set(&mut self, key: String, value: Vec<u8>) -> Result<Result<(), KvError>, KvViolation> {
        self.count("kv-set")?;
        if self.base.is_none() {
            return Ok(Err(KvError::Denied));
        }
        let limits = self.limits;
        if key.len() as u64 > limits.max_key_bytes {
            return Ok(Err(KvError::TooLarge(limits.max_key_bytes)));
        }
        if value.len() as u64 > limits.max_value_bytes {
            return Ok(Err(KvError::TooLarge(limits.max_value_bytes)));
        }
        self.check_room_for_change("kv-set", &key)?;
        let total = self.total_bytes() - self.entry_bytes(&key) + (key.len() + value.len()) as u64;
        if total > limits.max_total_bytes {
            return Ok(Err(KvError::QuotaExceeded(limits.max_total_bytes)));
        }
        self.total_bytes = Some(total);
        self.changes.insert(key, Some(value));
        Ok(Ok(()))
    }

    pub fn delete(&mut self, key: String) -> Result<(), KvViolation> {
        self.count("kv-delete")?;
        self.check_key("kv-delete", &key)?;
        let Some(base) = &self.base else {
            return Ok(());
        };
        if base.contains_key(&key) {
            if self.value(&key).is_none() {
                return Ok(());
            }
            self.check_room_for_change("kv-delete", &key)?;
            let total = self.total_bytes() - self.entry_bytes(&key);
            self.total_bytes = Some(total);
            self.changes.insert(key, None);
        } else if let Some(Some(_)) = self.changes.get(&key) {
            // Set earlier in this call only: forgetting the set is the delete.
            let total = self.total_bytes() - self.entry_bytes(&key);
            self.total_bytes = Some(total);
            self.changes.remove(&key);
        }
        Ok(())
    }

    fn count(&mut self, function: &'static str) -> Result<(), KvViolation> {
        self.operations += 1;
        if self.operations > self.limits.max_operations_per_call {
            return Err(KvViolation::TooManyOperations {
                function,
                limit: self.limits.max_operations_per_call,
            });
        }
        Ok(())
    }

    fn check_key(&self, function: &'static str, key: &str) -> Result<(), KvViolation> {
        if key.len() as u64 > self.limits.max_key_bytes {
            return Err(KvViolation::KeyTooLong {
                function,
                size: key.len(),
                limit: self.limits.max_key_bytes,
            });
        }
        Ok(())
    }

    fn check_room_for_change(&self, function: &'static str, key: &str) -> Result<(), KvViolation> {
        let limit = self.limits.max_changes_per_call;
        if !self.changes.contains_key(key) && self.changes.len() >= limit as usize {
            return Err(KvViolation::TooManyChanges { function, limit });
        }
        Ok(())
    }

    fn value(&self, key: &str) -> Option<&Vec<u8>> {
        match self.changes.get(key) {
            Some(change) => change.as_ref(),
            None => self.base.as_ref()?.get(key),
        }
    }

    /// Bytes `key` and its value take now (0 when absent).
    fn entry_bytes(&self, key: &str) -> u64 {
        self.value(key).map_or(0, |v| (key.len() + v.len()) as u64)
    }

    fn total_bytes(&mut self) -> u64 {
        if let Some(total) = self.total_bytes {
            return total;
        }
        let base: u64 = self.base.as_ref().map_or(0, |base| {
            base.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum()
        });
        self.total_bytes = Some(base);
        base
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn session(base: &[(&str, &[u8])]) -> KvSession {
        let base = base
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
            .collect();
        KvSession::new(Some(Arc::new(base)), KvLimits::default())
    }

    #[test]
    fn deleting_missing_keys_keeps_nothing() {
        let mut kv = session(&[("a", b"1")]);
        for i in 0..5_000 {
            kv.delete(format!("missing-{i}")).expect("delete");
        }
        assert!(kv.into_changes().is_empty());
    }

    #[test]
    fn a_set_then_delete_of_a_new_key_is_no_change() {
        let mut kv = session(&[]);
        kv.set("k".into(), b"v".to_vec())
            .expect("set")
            .expect("set");
        kv.delete("k".into()).expect("delete");
        assert_eq!(kv.get("k").expect("get"), None);
        assert!(kv.into_changes().is_empty());
    }

    #[test]
    fn the_total_follows_replacements_and_deletes() {
        let limits = KvLimits {
            max_total_bytes: 10,
            ..KvLimits::default()
        };
        let mut kv = KvSession::new(
            Some(Arc::new(BTreeMap::from([(
                "a".to_owned(),
                b"1234".to_vec(),
            )]))),
            limits,
        );
        assert!(kv.set("b".into(), b"1234".to_vec()).expect("set").is_ok());
        assert!(matches!(
            kv.set("c".into(), b"1".to_vec()).expect("set"),
            Err(KvError::QuotaExceeded(10))
        ));
        kv.delete("a".into()).expect("delete");
        assert!(kv.set("c".into(), b"1".to_vec()).expect("set").is_ok());
        assert_eq!(
            kv.into_changes(),
            BTreeMap::from([
                ("a".to_owned(), None),
                ("b".to_owned(), Some(b"1234".to_vec())),
                ("c".to_owned(), Some(b"1".to_vec())),
            ])
        );
    }

    #[test]
    fn too_many_distinct_changes_trap_but_rewriting_a_key_does_not() {
        let limits = KvLimits {
            max_changes_per_call: 3,
            ..KvLimits::default()
        };
        let mut kv = KvSession::new(Some(Arc::default()), limits);
        for _ in 0..10 {
            kv.set("same".into(), vec![1]).expect("set").expect("set");
        }
        kv.set("b".into(), vec![1]).expect("set").expect("set");
        kv.set("c".into(), vec![1]).expect("set").expect("set");
        let err = kv.set("d".into(), vec![1]).unwrap_err();
        assert!(
            matches!(err, KvViolation::TooManyChanges { limit: 3, .. }),
            "{err}"
        );
    }

    #[test]
    fn every_function_counts_towards_the_operation_cap_and_checks_its_key() {
        let limits = KvLimits {
            max_operations_per_call: 3,
            ..KvLimits::default()
        };
        let mut kv = KvSession::new(Some(Arc::default()), limits);
        kv.get("a").expect("get");
        kv.delete("a".into()).expect("delete");
        kv.set("a".into(), vec![]).expect("set").expect("set");
        let err = kv.get("a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "kv-get: more than 3 key-value calls in one plugin call; keep per-message state small"
        );
        let mut kv = session(&[]);
        let long = "k".repeat(1 << 20);
        let err = kv.delete(long.clone()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "kv-delete was given a key of 1048576 bytes; keys are at most 256 bytes"
        );
        assert!(matches!(kv.get(&long), Err(KvViolation::KeyTooLong { .. })));
    }
}
