//! Pair counts in a compact form that moves between processes: the pairs `(u, v)`, `u < v`, of
//! an upper triangle as ascending keys `u << 32 | v`, each with the number of rows holding
//! both. Counts of different rows merge into the counts of all of them, so partial counts from
//! many machines add up in any order to those of one pass.

use crate::error::{Error, Result};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PairCounts {
    keys: Vec<u64>,
    weights: Vec<u32>,
}

/// The key of the pair `(u, v)`, `u < v`.
#[inline]
pub fn pair_key(u: u32, v: u32) -> u64 {
    (u64::from(u) << 32) | u64::from(v)
}

/// The pair `(u, v)` of a key.
#[inline]
pub fn key_pair(key: u64) -> (u32, u32) {
    ((key >> 32) as u32, key as u32)
}

impl PairCounts {
    /// Checks that the keys ascend strictly, name pairs `u < v`, and that every weight is
    /// positive.
    pub fn new(keys: Vec<u64>, weights: Vec<u32>) -> Result<Self> {
        if keys.len() != weights.len() {
            return Err(Error::LengthMismatch {
                what: "pair weights",
                len: weights.len(),
                expected_from: "pair keys",
                expected: keys.len(),
            });
        }
        if let Some(i) = keys.windows(2).position(|w| w[0] >= w[1]) {
            return Err(Error::InvalidParameter(format!(
                "pair keys must ascend strictly; key {} is {} after {}",
                i + 1,
                keys[i + 1],
                keys[i]
            )));
        }
        if let Some(i) = (0..keys.len()).find(|&i| {
            let (u, v) = key_pair(keys[i]);
            u >= v || weights[i] == 0
        }) {
            let (u, v) = key_pair(keys[i]);
            return Err(Error::InvalidParameter(format!(
                "pair {i} is ({u}, {v}) of weight {}: pairs need u < v and a positive weight",
                weights[i]
            )));
        }
        Ok(PairCounts { keys, weights })
    }

    /// Built from keys known to be valid (ascending pairs `u < v`, positive weights).
    pub(crate) fn from_sorted(keys: Vec<u64>, weights: Vec<u32>) -> Self {
        debug_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        PairCounts { keys, weights }
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn keys(&self) -> &[u64] {
        &self.keys
    }

    pub fn weights(&self) -> &[u32] {
        &self.weights
    }

    pub fn into_parts(self) -> (Vec<u64>, Vec<u32>) {
        (self.keys, self.weights)
    }

    /// The largest vertex of any pair plus one (0 without pairs).
    pub fn min_vertices(&self) -> usize {
        self.keys
            .iter()
            .map(|&k| key_pair(k).1 as usize + 1)
            .max()
            .unwrap_or(0)
    }

    /// The counts of both: one sorted merge, adding the weights of pairs in both.
    pub fn merged(&self, other: &PairCounts) -> Result<PairCounts> {
        let (a, b) = (self, other);
        let mut keys = Vec::with_capacity(a.len() + b.len());
        let mut weights = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            match a.keys[i].cmp(&b.keys[j]) {
                std::cmp::Ordering::Less => {
                    keys.push(a.keys[i]);
                    weights.push(a.weights[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    keys.push(b.keys[j]);
                    weights.push(b.weights[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    let sum = a.weights[i].checked_add(b.weights[j]).ok_or_else(|| {
                        let (u, v) = key_pair(a.keys[i]);
                        Error::InvalidParameter(format!(
                            "pair ({u}, {v}) is counted in more than {} rows",
                            u32::MAX
                        ))
                    })?;
                    keys.push(a.keys[i]);
                    weights.push(sum);
                    i += 1;
                    j += 1;
                }
            }
        }
        keys.extend_from_slice(&a.keys[i..]);
        weights.extend_from_slice(&a.weights[i..]);
        keys.extend_from_slice(&b.keys[j..]);
        weights.extend_from_slice(&b.weights[j..]);
        Ok(PairCounts { keys, weights })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_shared_pairs_and_keeps_order() {
        let a = PairCounts::new(
            vec![pair_key(0, 1), pair_key(0, 3), pair_key(2, 3)],
            vec![1, 2, 1],
        )
        .unwrap();
        let b = PairCounts::new(vec![pair_key(0, 3), pair_key(1, 2)], vec![5, 1]).unwrap();
        let ab = a.merged(&b).unwrap();
        assert_eq!(ab, b.merged(&a).unwrap());
        assert_eq!(
            ab.keys(),
            &[
                pair_key(0, 1),
                pair_key(0, 3),
                pair_key(1, 2),
                pair_key(2, 3)
            ]
        );
        assert_eq!(ab.weights(), &[1, 7, 1, 1]);
        assert_eq!(ab.min_vertices(), 4);
        assert_eq!(a.merged(&PairCounts::default()).unwrap(), a);
        let full = PairCounts::new(vec![pair_key(0, 1)], vec![u32::MAX]).unwrap();
        assert!(full.merged(&full).is_err());
    }

    #[test]
    fn malformed_counts_are_refused() {
        assert!(PairCounts::new(vec![pair_key(0, 1)], vec![]).is_err());
        assert!(PairCounts::new(vec![pair_key(1, 1)], vec![1]).is_err());
        assert!(PairCounts::new(vec![pair_key(2, 1)], vec![1]).is_err());
        assert!(PairCounts::new(vec![pair_key(0, 1)], vec![0]).is_err());
        assert!(PairCounts::new(vec![pair_key(0, 2), pair_key(0, 1)], vec![1, 1]).is_err());
        assert!(PairCounts::new(vec![pair_key(0, 1), pair_key(0, 1)], vec![1, 1]).is_err());
    }
}
