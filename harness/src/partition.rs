//! Shards of a table: `--partition count:K/N` or `hash:K/N`, as cargo-nextest
//! spells them, so that N CI jobs each run one share and every scenario runs
//! in exactly one of them.
//!
//! - `count:K/N`: the scenarios in table order, dealt round-robin: the i-th
//!   (from 0) goes to shard `i mod N + 1`. Even shares; a scenario added to
//!   the table moves the ones after it.
//! - `hash:K/N`: each scenario by a stable hash of its name (FNV-1a, 64 bits):
//!   shard `hash mod N + 1`. A scenario stays in its shard whatever else the
//!   table holds; shares are only about even.
//!
//! Both depend on nothing but the table and the names, so every machine deals
//! the same shards.

use std::fmt;
use std::str::FromStr;

/// How scenarios are dealt to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// Round-robin in table order.
    Count,
    /// By a stable hash of the name.
    Hash,
}

/// One shard of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partition {
    /// How scenarios are dealt.
    pub strategy: Strategy,
    /// Which shard, from 1.
    pub shard: u32,
    /// Of how many.
    pub of: u32,
}

/// A `--partition` value that is not `count:K/N` or `hash:K/N`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--partition {given:?}: {why}; write count:K/N or hash:K/N with 1 <= K <= N (count:1/3)")]
pub struct PartitionError {
    /// What was given.
    pub given: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |why| PartitionError {
            given: s.to_owned(),
            why,
        };
        let (strategy, rest) = match s.split_once(':') {
            Some(("count", rest)) => (Strategy::Count, rest),
            Some(("hash", rest)) => (Strategy::Hash, rest),
            Some(_) => return Err(err("the strategy is count or hash")),
            None => return Err(err("no strategy")),
        };
        let (k, n) = rest.split_once('/').ok_or_else(|| err("no /N"))?;
        let k: u32 = k.parse().map_err(|_| err("K is not a whole number"))?;
        let n: u32 = n.parse().map_err(|_| err("N is not a whole number"))?;
        if n == 0 || k == 0 || k > n {
            return Err(err("K must be between 1 and N"));
        }
        Ok(Partition {
            strategy,
            shard: k,
            of: n,
        })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.strategy {
            Strategy::Count => "count",
            Strategy::Hash => "hash",
        };
        write!(f, "{s}:{}/{}", self.shard, self.of)
    }
}

impl Partition {
    /// Whether the `index`-th scenario of the table (from 0), named `name`,
    /// is in this shard.
    pub fn keeps(&self, index: usize, name: &str) -> bool {
        let n = u64::from(self.of);
        let slot = match self.strategy {
            Strategy::Count => index as u64 % n,
            Strategy::Hash => fnv1a(name) % n,
        };
        slot + 1 == u64::from(self.shard)
    }

    /// The items of `all` in this shard, in their order; `name` names each.
    pub fn select<T>(&self, all: Vec<T>, name: impl Fn(&T) -> &str) -> Vec<T> {
        all.into_iter()
            .enumerate()
            .filter(|(i, t)| self.keeps(*i, name(t)))
            .map(|(_, t)| t)
            .collect()
    }
}

/// FNV-1a, 64 bits: a hash that is the same in every build and on every
/// machine (std's `DefaultHasher` promises neither).
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        (0..71).map(|i| format!("scenario-{i:02}")).collect()
    }

    #[test]
    fn every_scenario_is_in_exactly_one_shard() {
        for strategy in ["count", "hash"] {
            for n in 1..=5u32 {
                let mut seen: Vec<String> = Vec::new();
                for k in 1..=n {
                    let p: Partition = format!("{strategy}:{k}/{n}").parse().unwrap();
                    seen.extend(p.select(names(), String::as_str));
                }
                seen.sort();
                assert_eq!(seen, names(), "{strategy} over {n}");
            }
        }
    }

    #[test]
    fn count_deals_round_robin_and_hash_by_name_alone() {
        let p: Partition = "count:2/3".parse().unwrap();
        let got = p.select(names(), String::as_str);
        assert_eq!(got[..3], ["scenario-01", "scenario-04", "scenario-07"]);
        assert_eq!(got.len(), 24);
        // A hash shard keeps its scenarios whatever the rest of the table.
        let h: Partition = "hash:1/3".parse().unwrap();
        let whole = h.select(names(), String::as_str);
        let half: Vec<String> = names().into_iter().step_by(2).collect();
        let from_half = h.select(half.clone(), String::as_str);
        assert!(from_half.iter().all(|n| whole.contains(n)));
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn bad_values_say_what_to_write() {
        for (given, why) in [
            ("count:0/3", "K must be between 1 and N"),
            ("count:4/3", "K must be between 1 and N"),
            ("count:1/0", "K must be between 1 and N"),
            ("slice:1/3", "the strategy is count or hash"),
            ("1/3", "no strategy"),
            ("count:1", "no /N"),
            ("hash:x/3", "K is not a whole number"),
        ] {
            let e = given.parse::<Partition>().unwrap_err();
            assert_eq!(e.why, why, "{given}");
            assert!(e.to_string().contains("write count:K/N or hash:K/N"), "{e}");
        }
        assert_eq!(
            "hash:3/4".parse::<Partition>().unwrap().to_string(),
            "hash:3/4"
        );
    }
}
