//! `PatternIndex`: subscriptions or registrations keyed by (URI, match
//! policy), matched against a concrete URI without scanning the patterns.
//!
//! - exact patterns: one hash lookup;
//! - prefix patterns: a byte trie walked along the URI (prefix matching is
//!   by characters, so `a.b` matches `a.bc`; `""` matches everything);
//! - wildcard patterns: a component trie with one "any component" edge per
//!   node, walked component by component (the component count must agree).
//!
//! `matches` yields every matching entry (pub/sub: one EVENT per matching
//! subscription); `best` picks the one a CALL goes to by the spec's ranking.

use super::uri::MatchPolicy;
use crate::wire::Text;
use std::collections::HashMap;

/// A byte-trie node for prefix patterns.
struct PrefixNode<V> {
    children: Vec<(u8, usize)>,
    value: Option<V>,
}

/// A component-trie node for wildcard patterns.
struct WildNode<V> {
    literal: HashMap<Box<str>, usize>,
    any: Option<usize>,
    value: Option<(Text, V)>,
}

impl<V> Default for WildNode<V> {
    fn default() -> Self {
        WildNode {
            literal: HashMap::new(),
            any: None,
            value: None,
        }
    }
}

/// Entries keyed by (pattern, policy), matched against URIs.
pub struct PatternIndex<V> {
    exact: HashMap<Text, V>,
    prefix: Vec<PrefixNode<V>>,
    wildcard: Vec<WildNode<V>>,
    len: usize,
}

impl<V> Default for PatternIndex<V> {
    fn default() -> Self {
        PatternIndex {
            exact: HashMap::new(),
            prefix: vec![PrefixNode {
                children: Vec::new(),
                value: None,
            }],
            wildcard: vec![WildNode::default()],
            len: 0,
        }
    }
}

/// One match: the pattern's policy and the entry.
pub type Match<'a, V> = (MatchPolicy, &'a V);

impl<V> PatternIndex<V> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The entry of (pattern, policy), if any.
    pub fn get(&self, pattern: &str, policy: MatchPolicy) -> Option<&V> {
        match policy {
            MatchPolicy::Exact => self.exact.get(pattern),
            MatchPolicy::Prefix => self
                .prefix_node(pattern)
                .and_then(|n| self.prefix[n].value.as_ref()),
            MatchPolicy::Wildcard => self
                .wild_node(pattern)
                .and_then(|n| self.wildcard[n].value.as_ref())
                .map(|(_, v)| v),
        }
    }

    /// The entry of (pattern, policy), mutably.
    pub fn get_mut(&mut self, pattern: &str, policy: MatchPolicy) -> Option<&mut V> {
        match policy {
            MatchPolicy::Exact => self.exact.get_mut(pattern),
            MatchPolicy::Prefix => {
                let n = self.prefix_node(pattern)?;
                self.prefix[n].value.as_mut()
            }
            MatchPolicy::Wildcard => {
                let n = self.wild_node(pattern)?;
                self.wildcard[n].value.as_mut().map(|(_, v)| v)
            }
        }
    }

    /// Inserts (or replaces) the entry of (pattern, policy); returns the old one.
    pub fn insert(&mut self, pattern: Text, policy: MatchPolicy, value: V) -> Option<V> {
        let old = match policy {
            MatchPolicy::Exact => self.exact.insert(pattern, value),
            MatchPolicy::Prefix => {
                let n = self.prefix_path(pattern.as_bytes());
                self.prefix[n].value.replace(value)
            }
            MatchPolicy::Wildcard => {
                let n = self.wild_path(&pattern);
                self.wildcard[n]
                    .value
                    .replace((pattern, value))
                    .map(|(_, v)| v)
            }
        };
        if old.is_none() {
            self.len += 1;
        }
        old
    }

    /// Removes the entry of (pattern, policy). Trie nodes stay (they are reused).
    pub fn remove(&mut self, pattern: &str, policy: MatchPolicy) -> Option<V> {
        let old = match policy {
            MatchPolicy::Exact => self.exact.remove(pattern),
            MatchPolicy::Prefix => self
                .prefix_node(pattern)
                .and_then(|n| self.prefix[n].value.take()),
            MatchPolicy::Wildcard => self
                .wild_node(pattern)
                .and_then(|n| self.wildcard[n].value.take())
                .map(|(_, v)| v),
        };
        if old.is_some() {
            self.len -= 1;
        }
        old
    }

    /// Every entry with its policy (exact, then prefix, then wildcard; in no
    /// particular order within each). O(entries + trie nodes): for rare
    /// questions (the meta API), not for routing.
    pub fn values(&self) -> impl Iterator<Item = Match<'_, V>> {
        let exact = self.exact.values().map(|v| (MatchPolicy::Exact, v));
        let prefix = self.prefix.iter().filter_map(|n| n.value.as_ref());
        let wild = self.wildcard.iter().filter_map(|n| n.value.as_ref());
        exact
            .chain(prefix.map(|v| (MatchPolicy::Prefix, v)))
            .chain(wild.map(|(_, v)| (MatchPolicy::Wildcard, v)))
    }

    /// Calls `f` for every entry whose pattern matches `uri`.
    pub fn matches<'a>(&'a self, uri: &str, mut f: impl FnMut(Match<'a, V>)) {
        if let Some(v) = self.exact.get(uri) {
            f((MatchPolicy::Exact, v));
        }
        let mut node = 0;
        for &b in uri.as_bytes() {
            if let Some(v) = &self.prefix[node].value {
                f((MatchPolicy::Prefix, v));
            }
            match self.prefix_child(node, b) {
                Some(next) => node = next,
                None => return self.wild_matches(uri, &mut f),
            }
        }
        if let Some(v) = &self.prefix[node].value {
            f((MatchPolicy::Prefix, v));
        }
        self.wild_matches(uri, &mut f);
    }

    /// The entry a CALL of `uri` goes to: exact, else the longest prefix,
    /// else the wildcard with the longest literal runs (first run first).
    pub fn best(&self, uri: &str) -> Option<Match<'_, V>> {
        if let Some(v) = self.exact.get(uri) {
            return Some((MatchPolicy::Exact, v));
        }
        let mut longest = None;
        let mut node = 0;
        for &b in uri.as_bytes() {
            if let Some(v) = &self.prefix[node].value {
                longest = Some(v);
            }
            match self.prefix_child(node, b) {
                Some(next) => node = next,
                None => {
                    node = usize::MAX;
                    break;
                }
            }
        }
        if let Some(v) = self.prefix.get(node).and_then(|n| n.value.as_ref()) {
            longest = Some(v);
        }
        if let Some(v) = longest {
            return Some((MatchPolicy::Prefix, v));
        }
        let mut best: Option<(Vec<usize>, &V)> = None;
        self.wild_each(uri, &mut |pattern, v| {
            let rank = literal_runs(pattern);
            if best.as_ref().is_none_or(|(r, _)| rank > *r) {
                best = Some((rank, v));
            }
        });
        best.map(|(_, v)| (MatchPolicy::Wildcard, v))
    }

    fn prefix_child(&self, node: usize, b: u8) -> Option<usize> {
        self.prefix[node]
            .children
            .iter()
            .find(|(c, _)| *c == b)
            .map(|(_, n)| *n)
    }

    fn prefix_node(&self, pattern: &str) -> Option<usize> {
        pattern
            .as_bytes()
            .iter()
            .try_fold(0, |node, &b| self.prefix_child(node, b))
    }

    fn prefix_path(&mut self, pattern: &[u8]) -> usize {
        let mut node = 0;
        for &b in pattern {
            node = match self.prefix_child(node, b) {
                Some(next) => next,
                None => {
                    self.prefix.push(PrefixNode {
                        children: Vec::new(),
                        value: None,
                    });
                    let next = self.prefix.len() - 1;
                    self.prefix[node].children.push((b, next));
                    next
                }
            };
        }
        node
    }

    fn wild_node(&self, pattern: &str) -> Option<usize> {
        pattern.split('.').try_fold(0, |node, c| {
            let n = &self.wildcard[node];
            if c.is_empty() {
                n.any
            } else {
                n.literal.get(c).copied()
            }
        })
    }

    fn wild_path(&mut self, pattern: &str) -> usize {
        let mut node = 0;
        for c in pattern.split('.') {
            let existing = if c.is_empty() {
                self.wildcard[node].any
            } else {
                self.wildcard[node].literal.get(c).copied()
            };
            node = match existing {
                Some(next) => next,
                None => {
                    self.wildcard.push(WildNode::default());
                    let next = self.wildcard.len() - 1;
                    if c.is_empty() {
                        self.wildcard[node].any = Some(next);
                    } else {
                        self.wildcard[node].literal.insert(c.into(), next);
                    }
                    next
                }
            };
        }
        node
    }

    fn wild_matches<'a>(&'a self, uri: &str, f: &mut impl FnMut(Match<'a, V>)) {
        self.wild_each(uri, &mut |_, v| f((MatchPolicy::Wildcard, v)));
    }

    /// Calls `f(pattern, value)` for each wildcard pattern matching `uri`.
    fn wild_each<'a>(&'a self, uri: &str, f: &mut impl FnMut(&'a str, &'a V)) {
        if self.wildcard[0].literal.is_empty() && self.wildcard[0].any.is_none() {
            return;
        }
        // Depth-first over (node, component index), without recursion.
        let parts: Vec<&str> = uri.split('.').collect();
        let mut stack = vec![(0usize, 0usize)];
        while let Some((node, i)) = stack.pop() {
            let n = &self.wildcard[node];
            if i == parts.len() {
                if let Some((pattern, v)) = &n.value {
                    f(pattern.as_str(), v);
                }
                continue;
            }
            if let Some(next) = n.any {
                stack.push((next, i + 1));
            }
            if let Some(&next) = n.literal.get(parts[i]) {
                stack.push((next, i + 1));
            }
        }
    }
}

/// The lengths of the runs of literal components of a wildcard pattern,
/// first run first (the spec's tie-breaking: longer earlier runs win).
fn literal_runs(pattern: &str) -> Vec<usize> {
    let mut runs = vec![0];
    for c in pattern.split('.') {
        if c.is_empty() {
            runs.push(0);
        } else if let Some(last) = runs.last_mut() {
            *last += 1;
        }
    }
    runs
}

/// True when `pattern` under `policy` matches `uri` (the reference matcher).
pub fn pattern_matches(pattern: &str, policy: MatchPolicy, uri: &str) -> bool {
    match policy {
        MatchPolicy::Exact => pattern == uri,
        MatchPolicy::Prefix => uri.starts_with(pattern),
        MatchPolicy::Wildcard => {
            let (p, u): (Vec<&str>, Vec<&str>) =
                (pattern.split('.').collect(), uri.split('.').collect());
            p.len() == u.len() && p.iter().zip(&u).all(|(p, u)| p.is_empty() || p == u)
        }
    }
}

#[cfg(test)]
mod tests;
