//! The Parakweet request sentences (`tests/data/intent/parakweet-train.tsv`,
//! the data set's training split), divided once and for all: a sentence
//! whose FNV-1a hash is divisible by five is held out for evaluation, the
//! rest trains the model. Hashing the text keeps duplicates on one side.
//! The data set's own test split is not in the repository and is never used.

use crate::EvalError;
use crate::data::{data_dir, read};

pub struct Sentence {
    pub text: String,
    pub is_request: bool,
}

pub struct Split {
    pub train: Vec<Sentence>,
    pub held_out: Vec<Sentence>,
}

pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

pub fn is_held_out(text: &str) -> bool {
    fnv1a(text.as_bytes()).is_multiple_of(5)
}

pub fn load() -> Result<Split, EvalError> {
    let path = data_dir().join("intent/parakweet-train.tsv");
    let tsv = read(&path)?;
    let mut split = Split {
        train: Vec::new(),
        held_out: Vec::new(),
    };
    for (n, line) in tsv.lines().enumerate() {
        let (label, text) = line.split_once('\t').ok_or_else(|| EvalError::Format {
            path: path.clone(),
            what: format!("line {}: expected `Yes|No TAB sentence`", n + 1),
        })?;
        let is_request = match label {
            "Yes" => true,
            "No" => false,
            other => {
                return Err(EvalError::Format {
                    path: path.clone(),
                    what: format!("line {}: label {other:?}, expected Yes or No", n + 1),
                });
            }
        };
        let sentence = Sentence {
            text: text.to_string(),
            is_request,
        };
        if is_held_out(text) {
            split.held_out.push(sentence);
        } else {
            split.train.push(sentence);
        }
    }
    Ok(split)
}
