//! Authorization: a role's permissions, compiled into one `PatternIndex`
//! per action, and the decision for one (action, URI).
//!
//! A rule is `{uri, match, allow, disclose}`. For an action the most
//! specific rule matching the URI decides (exact, else the longest prefix,
//! else the wildcard with the longest literal runs: the order a CALL is
//! routed by), so `com.example.` may allow everything while the exact
//! `com.example.admin` allows nothing. No matching rule: denied. A role
//! whose one rule for an action is the prefix `""` is answered without a
//! lookup (the anonymous role of the embedded defaults). A role may name a
//! dynamic authorizer: then a URI no rule matches is `Decision::Ask`.

use crate::routing::{MatchPolicy, PatternIndex};
use crate::wire::Text;

/// What a session asks to do with a URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Call,
    Register,
    Publish,
    Subscribe,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Call,
        Action::Register,
        Action::Publish,
        Action::Subscribe,
    ];

    /// The name used in configuration and by authorizers.
    pub fn name(self) -> &'static str {
        match self {
            Action::Call => "call",
            Action::Register => "register",
            Action::Publish => "publish",
            Action::Subscribe => "subscribe",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The answer of a rule for one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub allow: bool,
    /// Disclose the caller (CALL) or publisher (PUBLISH) even if it did not ask.
    pub disclose: bool,
}

impl Grant {
    pub const DENY: Grant = Grant {
        allow: false,
        disclose: false,
    };
}

/// One permission rule as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub uri: Text,
    pub policy: MatchPolicy,
    /// Allowed actions.
    pub allow: Vec<Action>,
    /// Disclose the caller on CALL.
    pub disclose_caller: bool,
    /// Disclose the publisher on PUBLISH.
    pub disclose_publisher: bool,
}

impl Rule {
    fn grant(&self, action: Action) -> Grant {
        let disclose = match action {
            Action::Call => self.disclose_caller,
            Action::Publish => self.disclose_publisher,
            Action::Register | Action::Subscribe => false,
        };
        Grant {
            allow: self.allow.contains(&action),
            disclose,
        }
    }
}

/// The rules of one action.
enum Rules {
    /// One rule, the prefix `""`: the same answer for every URI.
    Uniform(Grant),
    Indexed(PatternIndex<Grant>),
}

/// What a role says of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Grant(Grant),
    /// No rule matches and the role has an authorizer: ask it.
    Ask,
}

/// A dynamic authorizer: the procedure deciding what no rule matches, and
/// how long its decisions are cached unless it says otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorizer {
    pub procedure: Text,
    pub ttl: std::time::Duration,
}

/// A role's permissions, compiled.
pub struct Role {
    pub name: Text,
    actions: [Rules; 4],
    /// The rules as configured (for pattern requests, which are rare).
    rules: Vec<Rule>,
    pub authorizer: Option<Authorizer>,
}

impl std::fmt::Debug for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Role").field("name", &self.name).finish()
    }
}

impl Role {
    /// Compiles `rules` (a later rule for the same URI and match replaces
    /// an earlier one).
    pub fn new(name: Text, rules: &[Rule]) -> Role {
        let actions = Action::ALL.map(|a| compile(rules, a));
        Role {
            name,
            actions,
            rules: rules.to_vec(),
            authorizer: None,
        }
    }

    /// The role with a dynamic authorizer for what its rules do not match.
    pub fn with_authorizer(mut self, authorizer: Authorizer) -> Role {
        self.authorizer = Some(authorizer);
        self
    }

    /// A role that may do everything (realms without configured roles).
    pub fn allow_all(name: Text) -> Role {
        let all = Rule {
            uri: Text::default(),
            policy: MatchPolicy::Prefix,
            allow: Action::ALL.to_vec(),
            disclose_caller: false,
            disclose_publisher: false,
        };
        Role::new(name, &[all])
    }

    /// May this role do `action` with `uri`? (Rules only: a URI no rule
    /// matches is denied.)
    #[inline]
    pub fn check(&self, action: Action, uri: &str) -> Grant {
        match self.decide(action, uri) {
            Decision::Grant(g) => g,
            Decision::Ask => Grant::DENY,
        }
    }

    /// The rules' answer, or `Ask` when none matches and the role has an
    /// authorizer.
    #[inline]
    pub fn decide(&self, action: Action, uri: &str) -> Decision {
        match &self.actions[action.index()] {
            Rules::Uniform(g) => Decision::Grant(*g),
            Rules::Indexed(index) => match index.best(uri) {
                Some((_, g)) => Decision::Grant(*g),
                None if self.authorizer.is_some() => Decision::Ask,
                None => Decision::Grant(Grant::DENY),
            },
        }
    }
}

impl Role {
    /// What the role says of a pattern SUBSCRIBE or REGISTER: allowed only
    /// if every URI the pattern can match is. The URIs of a prefix pattern
    /// (or of a wildcard pattern, up to its first empty component) all lie
    /// under one prefix; they are allowed when an allowing prefix rule
    /// covers that prefix and no rule inside it denies. With no covering
    /// rule the authorizer is asked (or the request denied); a covering
    /// rule that denies, or a denying rule inside, denies.
    pub fn decide_pattern(&self, action: Action, pattern: &str, policy: MatchPolicy) -> Decision {
        let space = match policy {
            MatchPolicy::Exact => return self.decide(action, pattern),
            MatchPolicy::Prefix => pattern,
            MatchPolicy::Wildcard => match literal_prefix(pattern) {
                Some(space) => space,
                None => return self.decide(action, pattern),
            },
        };
        if let Rules::Uniform(g) = &self.actions[action.index()] {
            return Decision::Grant(*g);
        }
        let covering = self
            .rules
            .iter()
            .filter(|r| r.policy == MatchPolicy::Prefix && space.starts_with(r.uri.as_str()))
            .max_by_key(|r| r.uri.len());
        let inner_denies = self.rules.iter().any(|r| {
            r.policy != MatchPolicy::Wildcard
                && r.uri.len() > space.len()
                && r.uri.starts_with(space)
                && !r.grant(action).allow
        });
        match covering.map(|r| r.grant(action)) {
            Some(g) if g.allow && !inner_denies => Decision::Grant(g),
            Some(_) => Decision::Grant(Grant::DENY),
            None if self.authorizer.is_some() => Decision::Ask,
            None => Decision::Grant(Grant::DENY),
        }
    }
}

/// The part of a wildcard pattern before its first empty component (with
/// its dot): every URI it matches starts with it. `None` when no component
/// is empty (the pattern matches only itself).
fn literal_prefix(pattern: &str) -> Option<&str> {
    let mut at = 0;
    for component in pattern.split('.') {
        if component.is_empty() {
            return Some(&pattern[..at]);
        }
        at += component.len() + 1;
    }
    None
}

fn compile(rules: &[Rule], action: Action) -> Rules {
    if let [only] = rules {
        if only.policy == MatchPolicy::Prefix && only.uri.is_empty() {
            return Rules::Uniform(only.grant(action));
        }
    }
    let mut index = PatternIndex::default();
    for r in rules {
        index.insert(r.uri.clone(), r.policy, r.grant(action));
    }
    Rules::Indexed(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    fn rule(uri: &str, policy: MatchPolicy, allow: &[Action]) -> Rule {
        Rule {
            uri: Text::from(uri),
            policy,
            allow: allow.to_vec(),
            disclose_caller: false,
            disclose_publisher: false,
        }
    }

    #[test]
    fn most_specific_rule_decides() {
        let role = Role::new(
            Text::from("user"),
            &[
                rule("com.example.", MatchPolicy::Prefix, &ALL_ACTIONS),
                rule("com.example.admin", MatchPolicy::Exact, &[]),
                rule("com..status", MatchPolicy::Wildcard, &[Subscribe]),
            ],
        );
        assert!(role.check(Call, "com.example.add").allow);
        assert!(!role.check(Call, "com.example.admin").allow);
        assert!(role.check(Call, "com.example.admin.x").allow);
        assert!(role.check(Subscribe, "com.other.status").allow);
        assert!(!role.check(Publish, "com.other.status").allow);
        assert!(!role.check(Call, "org.x").allow);
    }

    const ALL_ACTIONS: [Action; 4] = Action::ALL;

    #[test]
    fn no_rules_deny_and_the_empty_prefix_allows_all() {
        let none = Role::new(Text::from("none"), &[]);
        assert!(!none.check(Publish, "a.b").allow);
        let all = Role::allow_all(Text::from("anonymous"));
        for a in Action::ALL {
            assert!(all.check(a, "wamp.session.count").allow);
        }
    }

    #[test]
    fn an_authorizer_answers_what_no_rule_matches() {
        let authorizer = Authorizer {
            procedure: Text::from("com.example.authorize"),
            ttl: std::time::Duration::from_secs(1),
        };
        let role = Role::new(Text::from("r"), &[rule("a.", MatchPolicy::Prefix, &[Call])])
            .with_authorizer(authorizer);
        assert_eq!(role.decide(Publish, "a.b"), Decision::Grant(Grant::DENY));
        assert!(matches!(role.decide(Call, "a.b"), Decision::Grant(g) if g.allow));
        assert_eq!(role.decide(Call, "b.c"), Decision::Ask);
        assert!(!role.check(Call, "b.c").allow);
    }

    #[test]
    fn a_pattern_is_allowed_only_if_every_uri_it_matches_is() {
        let role = Role::new(
            Text::from("guest"),
            &[
                rule("com.app.", MatchPolicy::Prefix, &[Subscribe]),
                rule("com.app.admin.", MatchPolicy::Prefix, &[]),
                rule("com.app.news.secret", MatchPolicy::Exact, &[]),
            ],
        );
        let pattern = |p, policy| role.decide_pattern(Subscribe, p, policy);
        let allowed = |d: Decision| matches!(d, Decision::Grant(g) if g.allow);
        assert!(allowed(pattern("com.app.sports.", MatchPolicy::Prefix)));
        assert!(
            !allowed(pattern("com.app.a", MatchPolicy::Prefix)),
            "covers admin."
        );
        assert!(!allowed(pattern("com.app.", MatchPolicy::Prefix)));
        assert!(
            !allowed(pattern("com.app.news.", MatchPolicy::Prefix)),
            "holds secret"
        );
        assert!(!allowed(pattern("com.app.admin.x.", MatchPolicy::Prefix)));
        assert!(
            !allowed(pattern("org.", MatchPolicy::Prefix)),
            "no rule covers it"
        );
        assert!(allowed(pattern(
            "com.app.sports..score",
            MatchPolicy::Wildcard
        )));
        assert!(!allowed(pattern("com.app..feed", MatchPolicy::Wildcard)));
        assert!(!allowed(pattern("..feed", MatchPolicy::Wildcard)));
        assert!(
            allowed(pattern("com.app.x", MatchPolicy::Wildcard)),
            "no empty part"
        );
        assert!(allowed(pattern("com.app.x", MatchPolicy::Exact)));
        let open = Role::allow_all(Text::from("anonymous"));
        assert!(allowed(open.decide_pattern(
            Subscribe,
            "",
            MatchPolicy::Prefix
        )));
        assert_eq!(literal_prefix("a.b..c"), Some("a.b."));
        assert_eq!(literal_prefix(".x"), Some(""));
        assert_eq!(literal_prefix("a.b"), None);
    }

    #[test]
    fn disclose_applies_to_its_action_only() {
        let mut r = rule("a", MatchPolicy::Prefix, &ALL_ACTIONS);
        r.disclose_caller = true;
        let role = Role::new(Text::from("r"), &[r]);
        assert!(role.check(Call, "a.b").disclose);
        assert!(!role.check(Publish, "a.b").disclose);
        assert!(!role.check(Register, "a.b").disclose);
    }
}
