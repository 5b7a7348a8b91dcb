//! Splitting a download into batches, each stored in one transaction:
//! bounded by message count and by bytes, so a sync commits often enough
//! that a cut loses little work, and memory stays bounded.

use super::SyncOptions;

/// Splits `pending` (an id and its announced size, in download order) into
/// batches of at most `batch_messages` messages and about `batch_bytes`
/// bytes (a bigger message goes alone).
pub fn plan_batches<K: Copy>(pending: &[(K, u64)], options: &SyncOptions) -> Vec<Vec<K>> {
    let mut batches = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0u64;
    for &(id, size) in pending {
        let full = current.len() >= options.batch_messages.max(1)
            || (!current.is_empty() && bytes + size > options.batch_bytes);
        if full {
            batches.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(id);
        bytes += size;
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_are_bounded_by_count_and_bytes() {
        let options = SyncOptions {
            batch_messages: 3,
            batch_bytes: 1000,
            ..Default::default()
        };
        let pending: Vec<_> = (1..=7).map(|u| (u, 100)).collect();
        assert_eq!(
            plan_batches(&pending, &options),
            vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]
        );
        let pending = vec![(1, 600), (2, 600), (3, 5000), (4, 10)];
        assert_eq!(
            plan_batches(&pending, &options),
            vec![vec![1], vec![2], vec![3], vec![4]]
        );
    }
}
