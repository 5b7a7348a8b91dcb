//! ROUGE-1 and ROUGE-L F-scores (Lin, 2004) of a candidate summary against
//! one reference: lower-cased alphanumeric words, unigram overlap with
//! clipped counts, and the longest common subsequence of words; F is the
//! harmonic mean of precision and recall (β = 1).

use std::collections::HashMap;

pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn f_score(overlap: usize, candidate: usize, reference: usize) -> f64 {
    if overlap == 0 || candidate == 0 || reference == 0 {
        return 0.0;
    }
    let p = overlap as f64 / candidate as f64;
    let r = overlap as f64 / reference as f64;
    2.0 * p * r / (p + r)
}

pub fn rouge_1(candidate: &str, reference: &str) -> f64 {
    let (c, r) = (words(candidate), words(reference));
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for w in &r {
        *counts.entry(w.as_str()).or_default() += 1;
    }
    let mut overlap = 0;
    for w in &c {
        if let Some(n) = counts.get_mut(w.as_str())
            && *n > 0
        {
            *n -= 1;
            overlap += 1;
        }
    }
    f_score(overlap, c.len(), r.len())
}

pub fn rouge_l(candidate: &str, reference: &str) -> f64 {
    let (c, r) = (words(candidate), words(reference));
    // One row of the LCS table at a time.
    let mut previous = vec![0usize; r.len() + 1];
    for cw in &c {
        let mut row = vec![0usize; r.len() + 1];
        for (j, rw) in r.iter().enumerate() {
            row[j + 1] = if cw == rw {
                previous[j] + 1
            } else {
                row[j].max(previous[j + 1])
            };
        }
        previous = row;
    }
    f_score(previous[r.len()], c.len(), r.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Lin's example: 4 of 5 unigrams shared in both directions.
        let reference = "police killed the gunman";
        assert!((rouge_1("police kill the gunman", reference) - 0.75).abs() < 1e-9);
        // LCS "police the gunman" = 3 of 4.
        assert!((rouge_l("police kill the gunman", reference) - 0.75).abs() < 1e-9);
        // Same words, other order: ROUGE-1 1.0, LCS only 2 ("the gunman").
        let swapped = "the gunman police killed";
        assert!((rouge_1(swapped, reference) - 1.0).abs() < 1e-9);
        assert!((rouge_l(swapped, reference) - 0.5).abs() < 1e-9);
        assert_eq!(rouge_1("", reference), 0.0);
    }
}
