//! Loading: TOML text or file -> `Config`. Missing keys take their defaults.
//!
//! When the TOML does not deserialize, the loader diagnoses every problem at
//! once instead of stopping at the first: it walks the user's tables against
//! the schema (the serialized `Config::default()`), reporting unknown keys by
//! full path, wrong TOML types, and then each remaining value checked alone
//! (the defaults with just that one value replaced), which names the key of
//! every bad enum variant, out-of-range integer or malformed address.

use std::path::Path;

use toml::{Table, Value};

use super::error::{ConfigError, Problem};
use super::tree::Config;

impl Config {
    /// Parses TOML text and validates the result; every problem is reported.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config = Self::from_toml_str_unvalidated(text)?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and validates a TOML file; errors name the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let config = Self::load_unvalidated(path)?;
        config.validate().map_err(|e| e.in_file(path))?;
        Ok(config)
    }

    /// Parses TOML text without the semantic checks of `validate` (for
    /// callers that apply overrides first). Unknown keys and wrong types are
    /// still errors.
    pub fn from_toml_str_unvalidated(text: &str) -> Result<Self, ConfigError> {
        let table: Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Syntax {
                origin: None,
                message: e.to_string(),
            })?;
        from_table(table)
    }

    /// Reads and parses a TOML file without the semantic checks.
    pub fn load_unvalidated(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str_unvalidated(&text).map_err(|e| e.in_file(path))
    }

    /// The configuration as TOML (for `--print-config`); parsing it back
    /// gives the same `Config`.
    pub fn to_toml_string(&self) -> Result<String, ConfigError> {
        toml::to_string(self).map_err(|e| ConfigError::Serialize(e.to_string()))
    }
}

fn from_table(table: Table) -> Result<Config, ConfigError> {
    match Value::Table(table.clone()).try_into::<Config>() {
        Ok(config) => Ok(config),
        Err(err) => Err(diagnose(&table, &err)),
    }
}

/// Every problem in a table that failed to deserialize.
fn diagnose(user: &Table, err: &toml::de::Error) -> ConfigError {
    let schema = match schema() {
        Ok(schema) => schema,
        Err(e) => return e,
    };
    let mut diagnosis = Diagnosis {
        schema: &schema,
        problems: Vec::new(),
    };
    diagnosis.walk_table(user, &schema, &mut Vec::new());
    let mut problems = diagnosis.problems;
    if problems.is_empty() {
        // Each value passed alone but not together: report serde's own word.
        problems.push(Problem::invalid("(config)", err.message()));
    }
    ConfigError::invalid(problems)
}

/// The default configuration as a TOML table: the set of known keys.
fn schema() -> Result<Table, ConfigError> {
    match Value::try_from(Config::default()) {
        Ok(Value::Table(table)) => Ok(table),
        Ok(other) => Err(ConfigError::Serialize(format!(
            "defaults serialize as {}, not a table",
            other.type_str()
        ))),
        Err(e) => Err(ConfigError::Serialize(e.to_string())),
    }
}

/// One step of a key path.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn render(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

struct Diagnosis<'a> {
    schema: &'a Table,
    problems: Vec<Problem>,
}

impl Diagnosis<'_> {
    fn walk_table(&mut self, user: &Table, schema: &Table, path: &mut Vec<Seg>) {
        for (key, value) in user {
            path.push(Seg::Key(key.clone()));
            match (schema.get(key), value) {
                (None, _) => {
                    let suggestion = suggest(key, schema.keys());
                    self.problems
                        .push(Problem::unknown(render(path), suggestion));
                }
                (Some(Value::Table(s)), Value::Table(u)) => self.walk_table(u, s, path),
                (Some(Value::Array(s)), Value::Array(u)) => match s.first() {
                    Some(Value::Table(elem)) => self.walk_array(u, elem, path),
                    _ => self.check_value(value, path),
                },
                // A key may take several shapes (a secret: a string or a
                // table): another type than the default's is wrong only if
                // the key does not accept it.
                (Some(s), u) if s.type_str() != u.type_str() => {
                    if self.accepts(value, path).is_err() {
                        self.problems.push(Problem::wrong_type(
                            render(path),
                            s.type_str(),
                            u.type_str(),
                        ));
                    }
                }
                (Some(_), _) => self.check_value(value, path),
            }
            path.pop();
        }
    }

    /// An array of tables: each element against the schema's first element.
    fn walk_array(&mut self, user: &[Value], schema: &Table, path: &mut Vec<Seg>) {
        for (i, elem) in user.iter().enumerate() {
            path.push(Seg::Index(i));
            let before = self.problems.len();
            match elem {
                Value::Table(t) => self.walk_table(t, schema, path),
                other => {
                    self.problems
                        .push(Problem::wrong_type(render(path), "table", other.type_str()))
                }
            }
            if self.problems.len() == before {
                // Catches what no single key shows, e.g. a missing `name`.
                self.check_value(elem, path);
            }
            path.pop();
        }
    }

    /// Deserializes the defaults with only the value at `path` replaced.
    fn check_value(&mut self, value: &Value, path: &[Seg]) {
        if let Err(why) = self.accepts(value, path) {
            self.problems.push(Problem::invalid(render(path), why));
        }
    }

    /// Whether the defaults with only the value at `path` replaced
    /// deserialize (else serde's word).
    fn accepts(&self, value: &Value, path: &[Seg]) -> Result<(), String> {
        let mut root = self.schema.clone();
        if !set_at(&mut root, path, value.clone()) {
            return Ok(());
        }
        match Value::Table(root).try_into::<Config>() {
            Ok(_) => Ok(()),
            Err(e) => Err(e.message().to_owned()),
        }
    }
}

/// Puts `value` at `path` in `table`; an array on the way is cut to its
/// first element, and an index as the last step replaces the whole array.
fn set_at(table: &mut Table, path: &[Seg], value: Value) -> bool {
    match path {
        [Seg::Key(k)] => {
            table.insert(k.clone(), value);
            true
        }
        [Seg::Key(k), Seg::Index(_)] => {
            table.insert(k.clone(), Value::Array(vec![value]));
            true
        }
        [Seg::Key(k), Seg::Index(_), rest @ ..] => match table.get_mut(k) {
            Some(Value::Array(items)) => {
                items.truncate(1);
                match items.first_mut() {
                    Some(Value::Table(t)) => set_at(t, rest, value),
                    _ => false,
                }
            }
            _ => false,
        },
        [Seg::Key(k), rest @ ..] => match table.get_mut(k) {
            Some(Value::Table(t)) => set_at(t, rest, value),
            _ => false,
        },
        _ => false,
    }
}

/// The known key closest in spelling to `key`, if close enough.
fn suggest<'a>(key: &str, known: impl Iterator<Item = &'a String>) -> Option<String> {
    let limit = (key.len() / 4).max(2);
    known
        .map(|k| (edit_distance(key, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            let cost = usize::from(ca != *cb);
            row[j + 1] = (diag + cost).min(above + 1).min(row[j] + 1);
            diag = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Placement, ProblemKind};

    fn problems(text: &str) -> Vec<Problem> {
        match Config::from_toml_str(text) {
            Ok(c) => panic!("accepted: {c:?}"),
            Err(e) => e.problems().to_vec(),
        }
    }

    fn keys(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.key.as_str()).collect()
    }

    #[test]
    fn empty_text_gives_defaults() {
        assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
    }

    #[test]
    fn missing_keys_take_defaults() {
        let c = Config::from_toml_str("placement = \"unpinned\"\n[session]\nstrict_uris = true")
            .unwrap();
        assert_eq!(c.placement, Placement::Unpinned);
        assert!(c.session.strict_uris);
        assert_eq!(c.session.max_sessions, 100_000);
        assert_eq!(c.websocket, Config::default().websocket);
    }

    #[test]
    fn unknown_nested_key_is_named_by_full_path() {
        let p = problems("[session]\nhandshake_timeot_ms = 5");
        assert_eq!(keys(&p), ["session.handshake_timeot_ms"]);
        assert_eq!(
            p[0].to_string(),
            "unknown key 'session.handshake_timeot_ms' (did you mean 'handshake_timeout_ms'?)"
        );
    }

    #[test]
    fn unknown_top_level_table_and_key_in_realm_entry_are_named() {
        let p = problems("[webscket]\nenabled = true\n[[realms.realm]]\nname = \"a\"\nanon = true");
        assert_eq!(keys(&p), ["realms.realm[0].anon", "webscket"]);
        assert_eq!(
            p[1].kind,
            ProblemKind::UnknownKey {
                suggestion: Some("websocket".into())
            }
        );
    }

    #[test]
    fn wrong_type_names_key_and_expected_type() {
        let p = problems("shards = \"four\"");
        assert_eq!(p, [Problem::wrong_type("shards", "integer", "string")]);
        assert_eq!(p[0].to_string(), "'shards': expected integer, found string");
    }

    #[test]
    fn bad_values_are_named_by_key() {
        let p = problems(
            "placement = \"pinnd\"\nshards = -1\n[websocket]\naddress = \"localhost\"\n\
             [session]\nslow_consumer = \"drop\"",
        );
        assert_eq!(
            keys(&p),
            [
                "placement",
                "session.slow_consumer",
                "shards",
                "websocket.address"
            ]
        );
        assert!(p[0].to_string().contains("unpinned"), "{}", p[0]);
    }

    #[test]
    fn all_structural_problems_are_reported_at_once() {
        let p =
            problems("bogus = 1\nshards = true\n[mesh]\nbatch_mx = 3\nchannel_capacity = \"x\"");
        assert_eq!(
            keys(&p),
            ["bogus", "mesh.batch_mx", "mesh.channel_capacity", "shards"]
        );
    }

    #[test]
    fn realm_entry_without_name_is_named() {
        let p = problems("[[realms.realm]]\nanonymous = false");
        assert_eq!(keys(&p), ["realms.realm[0]"]);
        assert!(p[0].to_string().contains("name"), "{}", p[0]);
    }

    #[test]
    fn bad_value_in_second_realm_is_named() {
        let p = problems(
            "[[realms.realm]]\nname = \"a\"\n[[realms.realm]]\nname = \"b\"\nanonymous = 1",
        );
        assert_eq!(
            p,
            [Problem::wrong_type(
                "realms.realm[1].anonymous",
                "boolean",
                "integer"
            )]
        );
    }

    #[test]
    fn table_where_a_value_belongs_is_a_wrong_type() {
        let p = problems("[shards]\nx = 1");
        assert_eq!(p, [Problem::wrong_type("shards", "integer", "table")]);
    }

    #[test]
    fn syntax_error_is_reported_with_its_position() {
        let err = Config::from_toml_str("shards = ").unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }));
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn load_names_the_file() {
        let err = Config::load("/nonexistent/switchyard.toml").unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/switchyard.toml"),
            "{err}"
        );
    }

    #[test]
    fn to_toml_string_round_trips() {
        let mut c = Config::default();
        c.realms
            .realm
            .push(crate::config::RealmConfig::new("com.example"));
        c.websocket.enabled = false;
        let text = c.to_toml_string().unwrap();
        assert_eq!(Config::from_toml_str(&text).unwrap(), c);
    }

    #[test]
    fn to_toml_string_separates_tables_with_a_blank_line() {
        let text = Config::default().to_toml_string().unwrap();
        assert!(
            text.contains("spin_before_park_us = 0\n\n[websocket]\n"),
            "{text}"
        );
        assert!(text.contains("\n\n[[realms.realm]]\n"), "{text}");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
