//! Trains the request model the classifier embeds
//! (`plugins/classifier-keywords-core/data/intent/request-model.bin`):
//! L2-regularised logistic regression over the classifier's own hashed
//! sentence features, on the training part of the Parakweet sentences
//! (never the held-out part, see `zia_eval::parakweet`). Deterministic: same
//! data, same file.
//!
//!     cargo run --release --manifest-path plugins/Cargo.toml -p zia-eval --bin train-intent

use classifier_keywords_core::features::{BUCKETS, sentence_features};
use classifier_keywords_core::model::{encode, sigmoid};
use std::path::PathBuf;

const EPOCHS: usize = 40;
const LEARNING_RATE: f32 = 0.2;
const L2: f32 = 1e-4;

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let split = zia_eval::parakweet::load()?;
    let examples: Vec<(Vec<u32>, f32)> = split
        .train
        .iter()
        .map(|s| {
            (
                sentence_features(&s.text),
                f32::from(u8::from(s.is_request)),
            )
        })
        .collect();
    let mut weights = vec![0.0f32; BUCKETS];
    // AdaGrad: rare features (most words) keep a larger step.
    let mut squared = vec![1e-8f32; BUCKETS];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for epoch in 0..EPOCHS {
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let mut loss = 0.0f64;
        for &k in &order {
            let (features, y) = &examples[k];
            let z: f32 = features.iter().map(|&b| weights[b as usize]).sum();
            let p = sigmoid(z);
            loss -= f64::from(if *y > 0.5 {
                p.max(1e-7).ln()
            } else {
                (1.0 - p).max(1e-7).ln()
            });
            let g = p - y;
            for &b in features {
                let b = b as usize;
                let grad = g + L2 * weights[b];
                squared[b] += grad * grad;
                weights[b] -= LEARNING_RATE * grad / squared[b].sqrt();
            }
        }
        if epoch % 10 == 9 || epoch == 0 {
            eprintln!(
                "epoch {:>2}: mean log-loss {:.4}",
                epoch + 1,
                loss / examples.len() as f64
            );
        }
    }
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../classifier-keywords-core/data/intent/request-model.bin");
    std::fs::write(&out, encode(&weights))?;
    eprintln!(
        "trained on {} sentences ({} held out), wrote {}",
        examples.len(),
        split.held_out.len(),
        out.display()
    );
    Ok(())
}
