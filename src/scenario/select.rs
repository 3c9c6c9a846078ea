//! Choosing which scenarios run: name/tag filters and CI sharding.
//!
//! Sharding uses rendezvous hashing on the scenario *name*, never its position in the list, so a
//! scenario stays on the same shard when others are added or removed (and only ~1/N of them
//! move when N changes).

use super::{Scenario, ScenarioError};
use sha2::{Digest, Sha256};

/// Which scenarios to keep: a scenario is kept when it matches any name (exact or glob) and has
/// any of the tags; an empty list does not filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub names: Vec<String>,
    pub tags: Vec<String>,
}

/// Applies `filter`. A name or tag that matches nothing is an error listing what exists,
/// because a typo in CI would otherwise silently gate nothing.
pub fn select(scenarios: &[Scenario], filter: &Filter) -> Result<Vec<Scenario>, ScenarioError> {
    let available = || {
        scenarios
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut matchers = Vec::new();
    for n in &filter.names {
        let m = globset::Glob::new(n)
            .map_err(|e| ScenarioError::NoMatch {
                what: format!("name pattern `{n}` ({e})"),
                available: available(),
            })?
            .compile_matcher();
        if !scenarios.iter().any(|s| m.is_match(&s.name)) {
            return Err(ScenarioError::NoMatch {
                what: format!("name `{n}`"),
                available: available(),
            });
        }
        matchers.push(m);
    }
    for t in &filter.tags {
        if !scenarios.iter().any(|s| s.tags.contains(t)) {
            let mut tags: Vec<&str> = scenarios
                .iter()
                .flat_map(|s| s.tags.iter().map(String::as_str))
                .collect();
            tags.sort_unstable();
            tags.dedup();
            return Err(ScenarioError::NoMatch {
                what: format!("tag `{t}`"),
                available: format!("tags {}", tags.join(", ")),
            });
        }
    }
    Ok(scenarios
        .iter()
        .filter(|s| matchers.is_empty() || matchers.iter().any(|m| m.is_match(&s.name)))
        .filter(|s| filter.tags.is_empty() || filter.tags.iter().any(|t| s.tags.contains(t)))
        .cloned()
        .collect())
}

/// `--shard K/N`: the K-th (1-based) of N disjoint subsets whose union is everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = ScenarioError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let bad = |message: &str| ScenarioError::Shard {
            spec: spec.to_string(),
            message: message.to_string(),
        };
        let (k, n) = spec.split_once('/').ok_or_else(|| bad("missing `/`"))?;
        let index: u32 = k
            .trim()
            .parse()
            .map_err(|_| bad("K is not a positive integer"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| bad("N is not a positive integer"))?;
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(bad("K must be between 1 and N"));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The shard (1-based) that owns `name`: the bucket with the highest hash of (name, bucket).
    pub fn owner(name: &str, count: u32) -> u32 {
        (1..=count.max(1))
            .max_by_key(|b| {
                let mut h = Sha256::new();
                h.update(name.as_bytes());
                h.update([0u8]);
                h.update(b.to_le_bytes());
                let d = h.finalize();
                let mut first = [0u8; 8];
                first.copy_from_slice(&d[..8]);
                (u64::from_be_bytes(first), *b)
            })
            .unwrap_or(1)
    }

    pub fn contains(&self, name: &str) -> bool {
        Shard::owner(name, self.count) == self.index
    }

    pub fn apply(&self, scenarios: Vec<Scenario>) -> Vec<Scenario> {
        scenarios
            .into_iter()
            .filter(|s| self.contains(&s.name))
            .collect()
    }
}
