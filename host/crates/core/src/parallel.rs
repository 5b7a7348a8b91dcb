//! Spreading pure CPU work (parsing, hashing) over the machine's cores with
//! scoped threads, so the items can be borrowed. The caller's thread takes
//! the first share; small inputs stay on it.

/// Maps `items` with `f`, in order, on up to four cores.
pub fn map_on_cores<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    if cores < 2 || items.len() < 16 {
        return items.iter().map(f).collect();
    }
    let share = items.len().div_ceil(cores);
    let f = &f;
    std::thread::scope(|scope| {
        let others: Vec<_> = items
            .chunks(share)
            .skip(1)
            .map(|chunk| scope.spawn(move || chunk.iter().map(f).collect::<Vec<_>>()))
            .collect();
        let mut out: Vec<R> = items[..share].iter().map(f).collect();
        for other in others {
            match other.join() {
                Ok(more) => out.extend(more),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order_of_any_input_size() {
        for n in [0, 1, 15, 16, 17, 100, 1001] {
            let items: Vec<usize> = (0..n).collect();
            let doubled = super::map_on_cores(&items, |i| i * 2);
            assert_eq!(doubled, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
    }
}
