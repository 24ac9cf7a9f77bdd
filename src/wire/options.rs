//! Typed Options of the messages a client sends to the router (PUBLISH,
//! SUBSCRIBE, REGISTER, CALL, YIELD, CANCEL) and of INTERRUPT, parsed once
//! at the edge from the decoded `Dict`.
//!
//! Every key the WAMP spec defines for a message is type-checked: a known
//! key with a value of the wrong type, or an enumerated value the spec does
//! not define, is an `OptionError` (the router answers it with a protocol
//! violation). Keys a struct has no field for are kept, in wire order, in
//! its `extra` dict so the router can forward them; the pass-through keys
//! that have a defined type (`forward_for`, `transaction_hash`, `enc_*`,
//! `ppt_*`) are checked there too, as the spec's test vectors require. A
//! JavaScript `undefined` never reaches this module (the decoders drop it);
//! `null` is a value like any other, so a known key holding it is an error.
//!
//! Parsing an empty dict allocates nothing: the result holds the defaults
//! and an empty `extra`.

#[cfg(test)]
mod tests;

use super::text::Text;
use super::value::{Dict, Value};

/// A known option holding a value of the wrong type or an undefined value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("option '{key}' must be {expected}")]
pub struct OptionError {
    /// The option's key.
    pub key: &'static str,
    /// What the key must hold, e.g. "a bool".
    pub expected: &'static str,
}

impl OptionError {
    fn new(key: &'static str, expected: &'static str) -> Self {
        OptionError { key, expected }
    }
}

/// `SUBSCRIBE/REGISTER.Options.match`: how a subscription or registration
/// matches URIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MatchPolicy {
    Exact,
    Prefix,
    Wildcard,
}

impl MatchPolicy {
    /// The policy named by an Options `match` value.
    pub fn from_name(name: &str) -> Option<MatchPolicy> {
        match name {
            "exact" => Some(MatchPolicy::Exact),
            "prefix" => Some(MatchPolicy::Prefix),
            "wildcard" => Some(MatchPolicy::Wildcard),
            _ => None,
        }
    }

    /// The policy's wire name.
    pub fn name(self) -> &'static str {
        match self {
            MatchPolicy::Exact => "exact",
            MatchPolicy::Prefix => "prefix",
            MatchPolicy::Wildcard => "wildcard",
        }
    }
}

/// `REGISTER.Options.invoke`: how a shared registration picks its callee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum InvokePolicy {
    /// One callee only; further REGISTERs are refused.
    #[default]
    Single,
    /// The callees in turn, in registration order.
    RoundRobin,
    /// A callee picked uniformly at random.
    Random,
    /// The oldest callee still registered.
    First,
    /// The newest callee.
    Last,
    /// The callee with the fewest calls in flight from the routing shard
    /// (an extension of this router).
    LeastLoaded,
}

impl InvokePolicy {
    /// Every policy.
    pub const ALL: [InvokePolicy; 6] = [
        InvokePolicy::Single,
        InvokePolicy::RoundRobin,
        InvokePolicy::Random,
        InvokePolicy::First,
        InvokePolicy::Last,
        InvokePolicy::LeastLoaded,
    ];

    /// The wire name: `single`, `roundrobin`, `random`, `first`, `last`, `least_loaded`.
    pub const fn name(self) -> &'static str {
        match self {
            InvokePolicy::Single => "single",
            InvokePolicy::RoundRobin => "roundrobin",
            InvokePolicy::Random => "random",
            InvokePolicy::First => "first",
            InvokePolicy::Last => "last",
            InvokePolicy::LeastLoaded => "least_loaded",
        }
    }

    /// The policy with wire name `name`.
    pub fn from_name(name: &str) -> Option<InvokePolicy> {
        InvokePolicy::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// `CANCEL.Options.mode` / `INTERRUPT.Options.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CancelMode {
    /// Answer the caller at once; no INTERRUPT; drop the callee's answer.
    Skip,
    /// INTERRUPT the callee and pass on its answer.
    #[default]
    Kill,
    /// Answer the caller at once, INTERRUPT the callee, drop its answer.
    KillNoWait,
}

impl CancelMode {
    /// Every mode.
    pub const ALL: [CancelMode; 3] = [CancelMode::Skip, CancelMode::Kill, CancelMode::KillNoWait];

    /// The wire name: `skip`, `kill`, `killnowait`.
    pub const fn name(self) -> &'static str {
        match self {
            CancelMode::Skip => "skip",
            CancelMode::Kill => "kill",
            CancelMode::KillNoWait => "killnowait",
        }
    }

    /// The mode with wire name `name`.
    pub fn from_name(name: &str) -> Option<CancelMode> {
        CancelMode::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// `PUBLISH.Options`.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishOptions {
    /// `acknowledge`: answer with PUBLISHED or ERROR (default false).
    pub acknowledge: bool,
    /// `exclude_me`: keep the event from the publisher (default true).
    pub exclude_me: bool,
    /// Black and white lists of receivers, when any is given (boxed: rare,
    /// and this struct is built for every PUBLISH).
    pub recipients: Option<Box<Recipients>>,
    /// `disclose_me`: ask for `publisher` in EVENT.Details.
    pub disclose_me: bool,
    /// `retain`: keep the event as the topic's retained event.
    pub retain: bool,
    /// Every other key, in wire order.
    pub extra: Dict,
}

/// PUBLISH.Options black and white lists (subscriber black/white listing).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Recipients {
    /// `exclude`: session ids that must not receive the event.
    pub exclude: Option<Vec<u64>>,
    /// `exclude_authid`: authids that must not receive the event.
    pub exclude_authid: Option<Vec<Text>>,
    /// `exclude_authrole`: authroles that must not receive the event.
    pub exclude_authrole: Option<Vec<Text>>,
    /// `eligible`: the only session ids that may receive the event.
    pub eligible: Option<Vec<u64>>,
    /// `eligible_authid`: the only authids that may receive the event.
    pub eligible_authid: Option<Vec<Text>>,
    /// `eligible_authrole`: the only authroles that may receive the event.
    pub eligible_authrole: Option<Vec<Text>>,
}

impl Recipients {
    /// Sorts and deduplicates the session lists (they are sets), so they
    /// can be searched.
    pub fn normalize(&mut self) {
        for ids in [&mut self.eligible, &mut self.exclude]
            .into_iter()
            .flatten()
        {
            ids.sort_unstable();
            ids.dedup();
        }
    }
}

impl Default for PublishOptions {
    fn default() -> Self {
        PublishOptions {
            acknowledge: false,
            exclude_me: true,
            recipients: None,
            disclose_me: false,
            retain: false,
            extra: Dict::new(),
        }
    }
}

impl PublishOptions {
    /// Parses PUBLISH.Options.
    pub fn parse(d: &Dict) -> Result<Self, OptionError> {
        let mut o = PublishOptions::default();
        for (key, v) in &d.0 {
            match key.as_str() {
                "acknowledge" => o.acknowledge = bool_of("acknowledge", v)?,
                "exclude_me" => o.exclude_me = bool_of("exclude_me", v)?,
                "exclude" => o.recipients_mut().exclude = Some(ids_of("exclude", v)?),
                "exclude_authid" => {
                    o.recipients_mut().exclude_authid = Some(texts_of("exclude_authid", v)?)
                }
                "exclude_authrole" => {
                    o.recipients_mut().exclude_authrole = Some(texts_of("exclude_authrole", v)?)
                }
                "eligible" => o.recipients_mut().eligible = Some(ids_of("eligible", v)?),
                "eligible_authid" => {
                    o.recipients_mut().eligible_authid = Some(texts_of("eligible_authid", v)?)
                }
                "eligible_authrole" => {
                    o.recipients_mut().eligible_authrole = Some(texts_of("eligible_authrole", v)?)
                }
                "disclose_me" => o.disclose_me = bool_of("disclose_me", v)?,
                "retain" => o.retain = bool_of("retain", v)?,
                _ => keep(&mut o.extra, key, v)?,
            }
        }
        Ok(o)
    }

    fn recipients_mut(&mut self) -> &mut Recipients {
        self.recipients.get_or_insert_with(Box::default)
    }
}

/// `SUBSCRIBE.Options`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscribeOptions {
    /// `match`: exact (default), prefix or wildcard.
    pub match_policy: MatchPolicy,
    /// `get_retained`: send the topic's retained event after SUBSCRIBED.
    pub get_retained: bool,
    /// Every other key, in wire order.
    pub extra: Dict,
}

impl Default for SubscribeOptions {
    fn default() -> Self {
        SubscribeOptions {
            match_policy: MatchPolicy::Exact,
            get_retained: false,
            extra: Dict::new(),
        }
    }
}

impl SubscribeOptions {
    /// Parses SUBSCRIBE.Options.
    pub fn parse(d: &Dict) -> Result<Self, OptionError> {
        let mut o = SubscribeOptions::default();
        for (key, v) in &d.0 {
            match key.as_str() {
                "match" => o.match_policy = match_of(v)?,
                "get_retained" => o.get_retained = bool_of("get_retained", v)?,
                _ => keep(&mut o.extra, key, v)?,
            }
        }
        Ok(o)
    }
}

/// `REGISTER.Options`.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterOptions {
    /// `match`: exact (default), prefix or wildcard.
    pub match_policy: MatchPolicy,
    /// `invoke`: the shared registration policy (default single).
    pub invoke: InvokePolicy,
    /// `disclose_caller`: put `caller` into INVOCATION.Details.
    pub disclose_caller: bool,
    /// Every other key, in wire order.
    pub extra: Dict,
}

impl Default for RegisterOptions {
    fn default() -> Self {
        RegisterOptions {
            match_policy: MatchPolicy::Exact,
            invoke: InvokePolicy::Single,
            disclose_caller: false,
            extra: Dict::new(),
        }
    }
}

impl RegisterOptions {
    /// Parses REGISTER.Options.
    pub fn parse(d: &Dict) -> Result<Self, OptionError> {
        let mut o = RegisterOptions::default();
        for (key, v) in &d.0 {
            match key.as_str() {
                "match" => o.match_policy = match_of(v)?,
                "invoke" => {
                    o.invoke = enum_of("invoke", EXPECT_INVOKE, v, InvokePolicy::from_name)?
                }
                "disclose_caller" => o.disclose_caller = bool_of("disclose_caller", v)?,
                _ => keep(&mut o.extra, key, v)?,
            }
        }
        Ok(o)
    }
}

/// `CALL.Options`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallOptions {
    /// `timeout`: milliseconds, 0 (default) for none.
    pub timeout_ms: u64,
    /// `receive_progress`: the caller accepts progressive results.
    pub receive_progress: bool,
    /// `progress`: more chunks of a progressive invocation follow.
    pub progress: bool,
    /// `disclose_me`: ask for `caller` in INVOCATION.Details.
    pub disclose_me: bool,
    /// Every other key, in wire order.
    pub extra: Dict,
}

impl CallOptions {
    /// Parses CALL.Options.
    pub fn parse(d: &Dict) -> Result<Self, OptionError> {
        let mut o = CallOptions::default();
        for (key, v) in &d.0 {
            match key.as_str() {
                "timeout" => o.timeout_ms = uint_of("timeout", v)?,
                "receive_progress" => o.receive_progress = bool_of("receive_progress", v)?,
                "progress" => o.progress = bool_of("progress", v)?,
                "disclose_me" => o.disclose_me = bool_of("disclose_me", v)?,
                _ => keep(&mut o.extra, key, v)?,
            }
        }
        Ok(o)
    }
}

/// `YIELD.Options`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct YieldOptions {
    /// `progress`: a progressive result; more follow.
    pub progress: bool,
    /// Every other key, in wire order.
    pub extra: Dict,
}

impl YieldOptions {
    /// Parses YIELD.Options.
    pub fn parse(d: &Dict) -> Result<Self, OptionError> {
        let mut o = YieldOptions::default();
        for (key, v) in &d.0 {
            match key.as_str() {
                "progress" => o.progress = bool_of("progress", v)?,
                _ => keep(&mut o.extra, key, v)?,
            }
        }
        Ok(o)
    }
}

/// `CANCEL.Options`.
#[derive(Debug, Clone, PartialEq)]
pub struct CancelOptions {
    /// `mode`: skip, kill or killnowait. The spec gives no default; a
    /// missing mode means killnowait, as in Crossbar.io.
    pub mode: CancelMode,
    /// Every other key, in wire order.
    pub extra: Dict,
}

impl Default for CancelOptions {
    fn default() -> Self {
        CancelOptions {
            mode: CancelMode::KillNoWait,
            extra: Dict::new(),
        }
    }
}

impl CancelOptions {
    /// Parses CANCEL.Options.
    pub fn parse(d: &Dict) -> Result<Self, OptionError> {
        let mut o = CancelOptions::default();
        for (key, v) in &d.0 {
            match key.as_str() {
                "mode" => o.mode = enum_of("mode", EXPECT_CANCEL_MODE, v, CancelMode::from_name)?,
                _ => keep(&mut o.extra, key, v)?,
            }
        }
        Ok(o)
    }
}

/// `INTERRUPT.Options`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InterruptOptions {
    /// `mode`: kill (default) or killnowait; `skip` never reaches a callee.
    pub mode: CancelMode,
    /// `reason`: a URI saying why.
    pub reason: Option<Text>,
    /// Every other key, in wire order.
    pub extra: Dict,
}

impl InterruptOptions {
    /// Parses INTERRUPT.Options.
    pub fn parse(d: &Dict) -> Result<Self, OptionError> {
        let mut o = InterruptOptions::default();
        for (key, v) in &d.0 {
            match key.as_str() {
                "mode" => o.mode = enum_of("mode", EXPECT_INTERRUPT_MODE, v, interrupt_mode)?,
                "reason" => o.reason = Some(text_of("reason", v)?),
                _ => keep(&mut o.extra, key, v)?,
            }
        }
        Ok(o)
    }
}

const EXPECT_BOOL: &str = "a bool";
const EXPECT_UINT: &str = "a non-negative integer";
const EXPECT_STR: &str = "a string";
const EXPECT_IDS: &str = "a list of session ids (non-negative integers)";
const EXPECT_STRS: &str = "a list of strings";
const EXPECT_DICTS: &str = "a list of dicts";
const EXPECT_MATCH: &str = "one of \"exact\", \"prefix\", \"wildcard\"";
const EXPECT_INVOKE: &str =
    "one of \"single\", \"roundrobin\", \"random\", \"first\", \"last\", \"least_loaded\"";
const EXPECT_CANCEL_MODE: &str = "one of \"skip\", \"kill\", \"killnowait\"";
const EXPECT_INTERRUPT_MODE: &str = "one of \"kill\", \"killnowait\"";
const EXPECT_ENC_ALGO: &str = "one of \"cryptobox\", \"mqtt\", \"xbr\", \"null\" or an \"x_\" name";
const EXPECT_ENC_SERIALIZER: &str =
    "one of \"json\", \"msgpack\", \"cbor\", \"ubjson\", \"opaque\", \"flatbuffers\", \"null\" or an \"x_\" name";

fn bool_of(key: &'static str, v: &Value) -> Result<bool, OptionError> {
    v.as_bool().ok_or(OptionError::new(key, EXPECT_BOOL))
}

fn uint_of(key: &'static str, v: &Value) -> Result<u64, OptionError> {
    v.as_u64().ok_or(OptionError::new(key, EXPECT_UINT))
}

fn text_of(key: &'static str, v: &Value) -> Result<Text, OptionError> {
    match v {
        Value::Str(s) => Ok(s.clone()),
        _ => Err(OptionError::new(key, EXPECT_STR)),
    }
}

/// A list whose every item `item` accepts.
fn list_of<'a, T>(
    key: &'static str,
    expected: &'static str,
    v: &'a Value,
    item: impl Fn(&'a Value) -> Option<T>,
) -> Result<Vec<T>, OptionError> {
    let err = || OptionError::new(key, expected);
    let items = v.as_list().ok_or_else(err)?;
    items.iter().map(|i| item(i).ok_or_else(err)).collect()
}

fn ids_of(key: &'static str, v: &Value) -> Result<Vec<u64>, OptionError> {
    list_of(key, EXPECT_IDS, v, Value::as_u64)
}

fn texts_of(key: &'static str, v: &Value) -> Result<Vec<Text>, OptionError> {
    list_of(key, EXPECT_STRS, v, |i| match i {
        Value::Str(s) => Some(s.clone()),
        _ => None,
    })
}

/// A string naming one of an enumeration's values.
fn enum_of<T>(
    key: &'static str,
    expected: &'static str,
    v: &Value,
    from_name: impl Fn(&str) -> Option<T>,
) -> Result<T, OptionError> {
    v.as_str()
        .and_then(from_name)
        .ok_or(OptionError::new(key, expected))
}

fn match_of(v: &Value) -> Result<MatchPolicy, OptionError> {
    enum_of("match", EXPECT_MATCH, v, MatchPolicy::from_name)
}

fn interrupt_mode(name: &str) -> Option<CancelMode> {
    CancelMode::from_name(name).filter(|m| *m != CancelMode::Skip)
}

/// An implementation-specific name as Autobahn defines it: `x_` then
/// `[a-z][a-z0-9_]+`, or `x_` alone.
fn is_custom_name(s: &str) -> bool {
    match s.strip_prefix("x_").map(str::as_bytes) {
        Some([]) => true,
        Some([first, rest @ ..]) => {
            first.is_ascii_lowercase()
                && !rest.is_empty()
                && rest
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
        }
        None => false,
    }
}

/// A string that is one of `names` or a custom `x_` name.
fn name_in(
    key: &'static str,
    expected: &'static str,
    v: &Value,
    names: &[&str],
) -> Result<(), OptionError> {
    match v.as_str() {
        Some(s) if names.contains(&s) || is_custom_name(s) => Ok(()),
        _ => Err(OptionError::new(key, expected)),
    }
}

/// Checks a key the structs forward without reading, when the spec gives it
/// a type; other keys pass unchecked.
fn check_forwarded(key: &str, v: &Value) -> Result<(), OptionError> {
    let string = |key| text_of(key, v).map(drop);
    match key {
        "forward_for" => list_of("forward_for", EXPECT_DICTS, v, Value::as_dict).map(drop),
        "transaction_hash" => string("transaction_hash"),
        "enc_algo" => name_in(
            "enc_algo",
            EXPECT_ENC_ALGO,
            v,
            &["cryptobox", "mqtt", "xbr", "null"],
        ),
        "enc_serializer" => name_in(
            "enc_serializer",
            EXPECT_ENC_SERIALIZER,
            v,
            &[
                "json",
                "msgpack",
                "cbor",
                "ubjson",
                "opaque",
                "flatbuffers",
                "null",
            ],
        ),
        "enc_key" => string("enc_key"),
        "ppt_scheme" => string("ppt_scheme"),
        "ppt_serializer" => string("ppt_serializer"),
        "ppt_cipher" => string("ppt_cipher"),
        "ppt_keyid" => string("ppt_keyid"),
        _ => Ok(()),
    }
}

/// Checks a key the struct has no field for and keeps it in `extra`.
fn keep(extra: &mut Dict, key: &Text, v: &Value) -> Result<(), OptionError> {
    check_forwarded(key, v)?;
    extra.0.push((key.clone(), v.clone()));
    Ok(())
}
