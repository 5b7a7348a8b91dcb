//! L2-regularised logistic regression by AdaGrad over hashed features, as
//! `train-intent` uses it for both embedded models. Deterministic: a fixed
//! shuffling seed and the same arithmetic in the same order, so the same
//! examples give the same weights.

use classifier_keywords_core::model::sigmoid;

pub const EPOCHS: usize = 40;
const LEARNING_RATE: f32 = 0.2;
const L2: f32 = 1e-4;
const SEED: u64 = 0x5eed_1234_abcd_ef01;

/// One training example: the slots it fires (with repeats when a feature
/// counts twice), the value of each, and the truth (0 or 1).
pub struct Example {
    pub buckets: Vec<u32>,
    pub value: f32,
    pub truth: f32,
}

/// The trained weights and, when asked for, a separate bias.
pub struct Trained {
    pub bias: f32,
    pub weights: Vec<f32>,
    /// Mean log-loss of the last epoch.
    pub loss: f64,
}

/// xorshift64*, for a fixed shuffling order.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

pub fn train(examples: &[Example], buckets: usize, with_bias: bool) -> Trained {
    let mut weights = vec![0.0f32; buckets];
    // AdaGrad: rare features (most words) keep a larger step.
    let mut squared = vec![1e-8f32; buckets];
    let (mut bias, mut bias_squared) = (0.0f32, 1e-8f32);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = Rng(SEED);
    let mut loss = 0.0f64;
    for _ in 0..EPOCHS {
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        loss = 0.0;
        for &k in &order {
            let e = &examples[k];
            let sum: f32 = e.buckets.iter().map(|&b| weights[b as usize]).sum();
            let p = sigmoid(if with_bias {
                bias + e.value * sum
            } else {
                e.value * sum
            });
            loss -= f64::from(if e.truth > 0.5 {
                p.max(1e-7).ln()
            } else {
                (1.0 - p).max(1e-7).ln()
            });
            let g = p - e.truth;
            for &b in &e.buckets {
                let b = b as usize;
                let grad = g * e.value + L2 * weights[b];
                squared[b] += grad * grad;
                weights[b] -= LEARNING_RATE * grad / squared[b].sqrt();
            }
            if with_bias {
                bias_squared += g * g;
                bias -= LEARNING_RATE * g / bias_squared.sqrt();
            }
        }
        loss /= examples.len().max(1) as f64;
    }
    Trained {
        bias,
        weights,
        loss,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_separable_rule_and_is_deterministic() {
        let examples: Vec<Example> = (0..40)
            .map(|k| Example {
                buckets: vec![k % 2, 2 + k % 3],
                value: 1.0,
                truth: f32::from(u8::from(k % 2 == 0)),
            })
            .collect();
        let a = train(&examples, 8, true);
        let b = train(&examples, 8, true);
        assert_eq!(a.weights, b.weights);
        assert!(a.weights[0] > 0.5 && a.weights[1] < -0.5, "{:?}", a.weights);
        assert!(a.loss < 0.2, "{}", a.loss);
    }
}
