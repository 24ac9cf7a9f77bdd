//! The session, subscription and registration meta procedures. Session and
//! subscription answers need the shards that hold the sessions: the
//! question goes to each of them (or to the one shard a session ID names)
//! with a token, and their parts are gathered here until the last arrives;
//! then one RESULT goes to the caller. Registrations are replicated on every
//! shard, so those questions are answered at once from this shard's replica.

use super::meta::{Args, MetaResult};
use super::Dealer;
use crate::realm::cx::Cx;
use crate::realm::envelope::{BrokerMsg, DealerMsg, Envelope};
use crate::realm::ids::{CallerAddr, IdAlloc, OpId};
use crate::realm::meta::{killed, KillTarget, MetaPart, SessionQuery, SubscriptionQuery};
use crate::routing::{is_valid_uri, MatchPolicy, UriCheck};
use crate::wire::{Dict, ErrorUri, Payload, RegistrationId, SessionId, Text, Value};

/// How the gathered parts become the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answer {
    /// `[count]`: the summed counts, or the number of IDs.
    Count,
    /// `[[ids]]`.
    List,
    /// `[]` when one was found, else the error.
    Done(ErrorUri),
    /// `[details]`, else the error.
    Details(ErrorUri),
    /// `[{"exact": [...], "prefix": [...], "wildcard": [...]}]`.
    ByPolicy,
    /// `[id]` or `[null]`.
    One,
    /// `[[ids]]` or `[null]`.
    ListOrNull,
    /// `[[ids]]`, else the error when no shard knew the ID.
    Members(ErrorUri),
    /// `[count]`, else the error when no shard knew the ID.
    CountMembers(ErrorUri),
}

/// A meta procedure waiting for the parts of some shards.
pub(super) struct Gather {
    caller: CallerAddr,
    answer: Answer,
    remaining: usize,
    ids: Vec<(MatchPolicy, u64)>,
    /// Summed counts (sessions live on exactly one shard: no overlap).
    count: u64,
    details: Option<Dict>,
    /// Some shard knew the ID asked about.
    known: bool,
}

impl Dealer {
    /// `wamp.session.*`.
    pub(super) fn session_meta(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        procedure: &str,
        args: &Args,
    ) -> MetaResult {
        let name = procedure.trim_start_matches("wamp.session.");
        let authroles = || match args.arg(0, "filter_authroles") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::List(l)) => l
                .iter()
                .map(|v| match v {
                    Value::Str(t) => Ok(t.clone()),
                    _ => Err(ErrorUri::InvalidArgument),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(ErrorUri::InvalidArgument),
        };
        let session = || args.uint(0, "session").ok_or(ErrorUri::InvalidArgument);
        let (query, answer, only) = match name {
            "count" => {
                let q = SessionQuery::Count {
                    authroles: authroles()?,
                };
                (q, Answer::Count, None)
            }
            "list" => (list(authroles()?), Answer::List, None),
            "get" => {
                let id = session()?;
                let q = SessionQuery::Get {
                    session: SessionId(id),
                };
                (q, Answer::Details(ErrorUri::NoSuchSession), Some(id))
            }
            "kill" => {
                let id = session()?;
                if id == caller.session.0 {
                    return Err(ErrorUri::NoSuchSession);
                }
                let q = kill(KillTarget::Session(SessionId(id)), caller, args)?;
                (q, Answer::Done(ErrorUri::NoSuchSession), Some(id))
            }
            "kill_by_authid" => {
                let authid = args.text(0, "authid").ok_or(ErrorUri::InvalidArgument)?;
                (
                    kill(KillTarget::Authid(authid), caller, args)?,
                    Answer::List,
                    None,
                )
            }
            "kill_by_authrole" => {
                let role = args.text(0, "authrole").ok_or(ErrorUri::InvalidArgument)?;
                (
                    kill(KillTarget::Authrole(role), caller, args)?,
                    Answer::Count,
                    None,
                )
            }
            "kill_all" => (kill(KillTarget::All, caller, args)?, Answer::Count, None),
            _ => return Err(ErrorUri::NoSuchProcedure),
        };
        let shards = only.map(|id| IdAlloc::shard_of_session(id, cx.nr_shards));
        let realm = self.realm.clone();
        self.scatter(cx, caller, answer, shards, |from, op| Envelope::Dealer {
            realm: realm.clone(),
            msg: DealerMsg::SessionQuery {
                query: query.clone(),
                from,
                op,
            },
        });
        Ok(None)
    }

    /// `wamp.subscription.*` (but `get_events` and `remove_subscriber`).
    pub(super) fn subscription_meta(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        procedure: &str,
        args: &Args,
    ) -> MetaResult {
        let name = procedure.trim_start_matches("wamp.subscription.");
        let id = || {
            args.uint(0, "subscription")
                .ok_or(ErrorUri::InvalidArgument)
        };
        let no_such = ErrorUri::NoSuchSubscription;
        let (query, answer) = match name {
            "list" => (SubscriptionQuery::List, Answer::ByPolicy),
            "lookup" => {
                let (topic, policy) = uri_and_match(args)?;
                (SubscriptionQuery::Lookup { topic, policy }, Answer::One)
            }
            "match" => {
                let topic = args.text(0, "topic").ok_or(ErrorUri::InvalidArgument)?;
                (SubscriptionQuery::Match { topic }, Answer::ListOrNull)
            }
            "get" => (
                SubscriptionQuery::Get { id: id()? },
                Answer::Details(no_such),
            ),
            "list_subscribers" => (
                SubscriptionQuery::Subscribers { id: id()? },
                Answer::Members(no_such),
            ),
            "count_subscribers" => (
                SubscriptionQuery::Subscribers { id: id()? },
                Answer::CountMembers(no_such),
            ),
            _ => return Err(ErrorUri::NoSuchProcedure),
        };
        let realm = self.realm.clone();
        self.scatter(cx, caller, answer, None, |from, op| Envelope::Broker {
            realm: realm.clone(),
            msg: BrokerMsg::SubscriptionQuery {
                query: query.clone(),
                from,
                op,
            },
        });
        Ok(None)
    }

    /// `wamp.registration.*`, from this shard's replica.
    pub(super) fn registration_meta(
        &mut self,
        _: &mut Cx,
        _: CallerAddr,
        procedure: &str,
        args: &Args,
    ) -> MetaResult {
        let name = procedure.trim_start_matches("wamp.registration.");
        let id = || {
            let id = args
                .uint(0, "registration")
                .ok_or(ErrorUri::InvalidArgument)?;
            let found = self.registry.get(RegistrationId(id));
            found.ok_or(ErrorUri::NoSuchRegistration)
        };
        let one = |id: Option<RegistrationId>| id_or_null(id.map(|i| i.0));
        let result = match name {
            "list" => by_policy(self.registry.ids().map(|(p, id)| (p, id.0))),
            "lookup" => {
                let (procedure, policy) = uri_and_match(args)?;
                one(self.registry.lookup(&procedure, policy))
            }
            "match" => {
                let procedure = args.text(0, "procedure").ok_or(ErrorUri::InvalidArgument)?;
                one(self.registry.best(&procedure))
            }
            "get" => {
                let (uri, policy, reg) = id()?;
                let details = Dict::new()
                    .with("id", reg.id.0)
                    .with(
                        "created",
                        Value::str(crate::realm::broker::rfc3339(reg.created)),
                    )
                    .with("uri", uri.clone())
                    .with("match", policy.name())
                    .with("invoke", reg.invoke.name());
                Value::Dict(details)
            }
            "list_callees" => {
                let (_, _, reg) = id()?;
                let ids = reg.callees.iter().map(|c| Value::UInt(c.addr.session.0));
                Value::List(ids.collect())
            }
            "count_callees" => Value::UInt(id()?.2.callees.len() as u64),
            _ => return Err(ErrorUri::NoSuchProcedure),
        };
        Ok(Some(Payload::args(vec![result])))
    }

    /// Sends `make(from, op)` to `only` (or every shard) and waits for their parts.
    fn scatter(
        &mut self,
        cx: &mut Cx,
        caller: CallerAddr,
        answer: Answer,
        only: Option<usize>,
        make: impl Fn(usize, OpId) -> Envelope,
    ) {
        let shards: Vec<usize> = match only {
            Some(s) => vec![s],
            None => (0..cx.nr_shards).collect(),
        };
        let op = self.gathers.add(Gather {
            caller,
            answer,
            remaining: shards.len(),
            ids: Vec::new(),
            count: 0,
            details: None,
            known: false,
        });
        for dest in shards {
            cx.send(dest, make(cx.me, op));
        }
    }

    /// One shard's part of meta operation `op`; the answer goes out with the last.
    pub(super) fn meta_part(&mut self, cx: &mut Cx, op: OpId, part: MetaPart) {
        let Some(g) = self.gathers.get_mut(op) else {
            return;
        };
        match part {
            MetaPart::Count(n) => g.count += n,
            MetaPart::Ids(ids) => {
                g.known |= !ids.is_empty();
                g.ids.extend(ids);
            }
            MetaPart::Details(Some(d)) => {
                g.known = true;
                g.details = Some(earliest(g.details.take(), d));
            }
            MetaPart::Details(None) => {}
        }
        g.remaining -= 1;
        if g.remaining > 0 {
            return;
        }
        if let Some(g) = self.gathers.take(op) {
            let caller = g.caller;
            self.meta_answered(cx, caller, finish(g));
        }
    }
}

/// The details with the earliest `created` (shards each know when they first had it).
fn earliest(old: Option<Dict>, new: Dict) -> Dict {
    let created = |d: &Dict| d.get_str("created").ok().flatten().map(str::to_owned);
    match old {
        Some(o) if created(&o) <= created(&new) => o,
        Some(_) | None => new,
    }
}

/// `id`, or null.
fn id_or_null(id: Option<u64>) -> Value {
    id.map_or(Value::Null, Value::UInt)
}

/// The answer of a gathered meta operation.
fn finish(mut g: Gather) -> Result<Payload, ErrorUri> {
    g.ids.sort_unstable();
    g.ids.dedup();
    let ids = || Value::List(g.ids.iter().map(|(_, id)| Value::UInt(*id)).collect());
    let value = match g.answer {
        Answer::Count => Value::UInt(g.count + g.ids.len() as u64),
        Answer::List => ids(),
        Answer::Done(error) if !g.known => return Err(error),
        Answer::Done(_) => return Ok(Payload::empty()),
        Answer::Details(error) => Value::Dict(g.details.ok_or(error)?),
        Answer::ByPolicy => by_policy(g.ids.iter().copied()),
        Answer::One => id_or_null(g.ids.first().map(|(_, id)| *id)),
        Answer::ListOrNull if g.ids.is_empty() => Value::Null,
        Answer::ListOrNull => ids(),
        Answer::Members(error) | Answer::CountMembers(error) if !g.known => return Err(error),
        Answer::Members(_) => ids(),
        Answer::CountMembers(_) => Value::UInt(g.ids.len() as u64),
    };
    Ok(Payload::args(vec![value]))
}

/// `{"exact": [...], "prefix": [...], "wildcard": [...]}`.
fn by_policy(ids: impl Iterator<Item = (MatchPolicy, u64)>) -> Value {
    let mut lists: [Vec<Value>; 3] = Default::default();
    for (policy, id) in ids {
        lists[policy as usize].push(Value::UInt(id));
    }
    let [exact, prefix, wildcard] = lists;
    Value::Dict(
        Dict::new()
            .with("exact", Value::List(exact))
            .with("prefix", Value::List(prefix))
            .with("wildcard", Value::List(wildcard)),
    )
}

fn list(authroles: Option<Vec<Text>>) -> SessionQuery {
    SessionQuery::List { authroles }
}

/// A kill of `target` by `caller`, with the optional `reason` (a URI) and `message`.
fn kill(target: KillTarget, caller: CallerAddr, args: &Args) -> Result<SessionQuery, ErrorUri> {
    let reason = match args.kwargs.get("reason") {
        None => killed(),
        Some(Value::Str(r)) if is_valid_uri(r, MatchPolicy::Exact, UriCheck::Loose) => r.clone(),
        Some(_) => return Err(ErrorUri::InvalidUri),
    };
    let message = match args.kwargs.get("message") {
        None => None,
        Some(Value::Str(m)) => Some(m.clone()),
        Some(_) => return Err(ErrorUri::InvalidArgument),
    };
    Ok(SessionQuery::Kill {
        target,
        reason,
        message,
        except: caller.session,
    })
}

/// `[uri, {match?}]` of a lookup.
fn uri_and_match(args: &Args) -> Result<(Text, MatchPolicy), ErrorUri> {
    let uri = args.args.first().and_then(|v| match v {
        Value::Str(t) => Some(t.clone()),
        _ => None,
    });
    let uri = uri.ok_or(ErrorUri::InvalidArgument)?;
    let policy = match args.args.get(1) {
        None | Some(Value::Null) => MatchPolicy::Exact,
        Some(Value::Dict(o)) => match o.get("match") {
            None => MatchPolicy::Exact,
            Some(Value::Str(m)) => {
                MatchPolicy::from_name(m.as_str()).ok_or(ErrorUri::InvalidArgument)?
            }
            Some(_) => return Err(ErrorUri::InvalidArgument),
        },
        Some(_) => return Err(ErrorUri::InvalidArgument),
    };
    Ok((uri, policy))
}
