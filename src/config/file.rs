//! The configuration file: TOML read into the flat `section.key` values that
//! the other layers use too; an unknown key is an error naming it.

use std::path::Path;

use super::{ConfigError, KEYS};

/// Reads a TOML file into flat `section.key` string values.
pub(super) fn read_file(path: &Path) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(format!("cannot read {}: {e}", path.display())))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| ConfigError::new(format!("{} is not valid TOML: {e}", path.display())))?;
    let mut out = Vec::new();
    for (name, value) in &table {
        match value {
            toml::Value::Table(section) => {
                for (sub, value) in section {
                    out.push(file_value(path, &format!("{name}.{sub}"), value)?);
                }
            }
            value => out.push(file_value(path, name, value)?),
        }
    }
    Ok(out)
}

fn file_value(
    path: &Path,
    name: &str,
    value: &toml::Value,
) -> Result<(&'static str, String), ConfigError> {
    let def = KEYS
        .iter()
        .find(|k| k.name == name)
        .ok_or_else(|| ConfigError::new(format!("unknown key `{name}` in {}", path.display())))?;
    let text = match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => {
            let mut parts = Vec::new();
            for item in items {
                match item {
                    toml::Value::String(s) if !s.contains(',') => parts.push(s.clone()),
                    _ => {
                        return Err(ConfigError::new(format!(
                            "`{name}` in {}: list items must be strings without commas",
                            path.display()
                        )));
                    }
                }
            }
            parts.join(",")
        }
        _ => {
            return Err(ConfigError::new(format!(
                "`{name}` in {}: unsupported value type",
                path.display()
            )));
        }
    };
    Ok((def.name, text))
}
