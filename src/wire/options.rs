//! Typed options (temporary subset).

use crate::routing::MatchPolicy;
use crate::wire::Dict;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError(pub String);

impl std::fmt::Display for OptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn e(w: crate::wire::value::WrongType) -> OptionError {
    OptionError(w.to_string())
}

#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    pub acknowledge: bool,
    pub exclude_me: bool,
}

impl PublishOptions {
    pub fn parse(d: &Dict) -> Result<Self, OptionError> {
        Ok(PublishOptions {
            acknowledge: d.get_bool("acknowledge").map_err(e)?.unwrap_or(false),
            exclude_me: d.get_bool("exclude_me").map_err(e)?.unwrap_or(true),
        })
    }
}

fn match_policy(d: &Dict) -> Result<MatchPolicy, OptionError> {
    match d.get_str("match").map_err(e)? {
        None => Ok(MatchPolicy::Exact),
        Some(name) => MatchPolicy::from_name(name)
            .ok_or_else(|| OptionError("option 'match' must be exact, prefix or wildcard".into())),
    }
}

#[derive(Debug, Clone)]
pub struct SubscribeOptions {
    pub match_policy: MatchPolicy,
}

impl SubscribeOptions {
    pub fn parse(d: &Dict) -> Result<Self, OptionError> {
        Ok(SubscribeOptions {
            match_policy: match_policy(d)?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvokePolicy {
    Single,
    Roundrobin,
}

#[derive(Debug, Clone)]
pub struct RegisterOptions {
    pub match_policy: MatchPolicy,
    pub invoke: InvokePolicy,
}

impl RegisterOptions {
    pub fn parse(d: &Dict) -> Result<Self, OptionError> {
        let invoke = match d.get_str("invoke").map_err(e)? {
            None | Some("single") => InvokePolicy::Single,
            Some(_) => InvokePolicy::Roundrobin,
        };
        Ok(RegisterOptions {
            match_policy: match_policy(d)?,
            invoke,
        })
    }
}
