//! `ConfigError`: why a configuration could not be read, parsed or accepted.
//! Every structural or semantic problem is a `Problem` naming its full key
//! path; all of them are reported together, one per line.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with a configuration, tied to the key it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Full key path, e.g. `session.ping_timeout_ms` or `realms.realm[1].name`.
    pub key: String,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// The kind of a `Problem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The key is not part of the configuration tree; `suggestion` is a
    /// known sibling key with a similar spelling.
    UnknownKey { suggestion: Option<String> },
    /// The value has the wrong TOML type.
    WrongType {
        expected: &'static str,
        found: &'static str,
    },
    /// The value has the right type but is not acceptable.
    Invalid(String),
}

impl Problem {
    /// An unknown key, with an optional "did you mean" sibling.
    pub fn unknown(key: impl Into<String>, suggestion: Option<String>) -> Self {
        Self {
            key: key.into(),
            kind: ProblemKind::UnknownKey { suggestion },
        }
    }

    /// A value of the wrong TOML type.
    pub fn wrong_type(key: impl Into<String>, expected: &'static str, found: &'static str) -> Self {
        Self {
            key: key.into(),
            kind: ProblemKind::WrongType { expected, found },
        }
    }

    /// A value that is not acceptable, with the reason.
    pub fn invalid(key: impl Into<String>, why: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            kind: ProblemKind::Invalid(why.into()),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ProblemKind::UnknownKey { suggestion: None } => write!(f, "unknown key '{}'", self.key),
            ProblemKind::UnknownKey {
                suggestion: Some(s),
            } => write!(f, "unknown key '{}' (did you mean '{s}'?)", self.key),
            ProblemKind::WrongType { expected, found } => {
                write!(f, "'{}': expected {expected}, found {found}", self.key)
            }
            ProblemKind::Invalid(why) => write!(f, "'{}': {why}", self.key),
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML.
    #[error("{}TOML syntax error: {message}", origin_prefix(origin.as_ref()))]
    Syntax {
        origin: Option<PathBuf>,
        message: String,
    },
    /// The TOML is well formed but the configuration is not acceptable.
    #[error("{}", render_invalid(origin.as_ref(), problems))]
    Invalid {
        origin: Option<PathBuf>,
        problems: Vec<Problem>,
    },
    /// The configuration could not be written back as TOML (a bug).
    #[error("cannot serialize the configuration: {0}")]
    Serialize(String),
}

impl ConfigError {
    /// The problems found, when the configuration was rejected as invalid.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }

    /// The same error, saying which file it came from.
    pub fn in_file(self, path: impl Into<PathBuf>) -> Self {
        match self {
            Self::Syntax { message, .. } => Self::Syntax {
                origin: Some(path.into()),
                message,
            },
            Self::Invalid { problems, .. } => Self::Invalid {
                origin: Some(path.into()),
                problems,
            },
            other => other,
        }
    }

    pub(crate) fn invalid(problems: Vec<Problem>) -> Self {
        Self::Invalid {
            origin: None,
            problems,
        }
    }
}

fn origin_prefix(origin: Option<&PathBuf>) -> String {
    origin.map_or_else(String::new, |p| format!("{}: ", p.display()))
}

fn render_invalid(origin: Option<&PathBuf>, problems: &[Problem]) -> String {
    let plural = if problems.len() == 1 { "" } else { "s" };
    let mut text = format!(
        "{}invalid configuration ({} problem{plural}):",
        origin_prefix(origin),
        problems.len()
    );
    for problem in problems {
        text.push_str("\n  ");
        text.push_str(&problem.to_string());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_lists_every_problem_on_its_own_line() {
        let err = ConfigError::invalid(vec![
            Problem::unknown(
                "session.handshake_timeot_ms",
                Some("handshake_timeout_ms".into()),
            ),
            Problem::wrong_type("shards", "integer", "string"),
            Problem::invalid("websocket.path", "must start with '/'"),
        ])
        .in_file("x.toml");
        let text = err.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "x.toml: invalid configuration (3 problems):");
        assert_eq!(
            lines[1],
            "  unknown key 'session.handshake_timeot_ms' (did you mean 'handshake_timeout_ms'?)"
        );
        assert_eq!(lines[2], "  'shards': expected integer, found string");
        assert_eq!(lines[3], "  'websocket.path': must start with '/'");
    }
}
