//! Metrics shared by the evaluations.

/// Counts of a binary decision against the truth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Confusion {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
}

impl Confusion {
    pub fn add(&mut self, predicted: bool, truth: bool) {
        match (predicted, truth) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }

    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Macro-averaged F1 over `labels`, from (predicted, truth) pairs.
pub fn macro_f1(pairs: &[(&str, &str)], labels: &[&str]) -> f64 {
    let sum: f64 = labels
        .iter()
        .map(|label| {
            let mut c = Confusion::default();
            for (p, t) in pairs {
                c.add(p == label, t == label);
            }
            c.f1()
        })
        .sum();
    sum / labels.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f1_and_macro_f1() {
        let mut c = Confusion::default();
        for (p, t) in [(true, true), (true, false), (false, true), (true, true)] {
            c.add(p, t);
        }
        assert!((c.precision() - 2.0 / 3.0).abs() < 1e-9);
        assert!((c.recall() - 2.0 / 3.0).abs() < 1e-9);
        let pairs = [("a", "a"), ("b", "b"), ("a", "b")];
        assert!((macro_f1(&pairs, &["a", "b"]) - (2.0 / 3.0 + 2.0 / 3.0) / 2.0).abs() < 1e-9);
    }
}
