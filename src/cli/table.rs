//! A small table printer: a header row and columns aligned with spaces.

use std::fmt;

use chrono::{DateTime, SecondsFormat};
use prost_types::Timestamp;

/// Rows under a header, printed with each column as wide as its widest cell.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column titles.
    pub fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row; an empty cell prints as `-`.
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len(), "a row per column");
        self.rows.push(row);
    }

    fn widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(shown(cell).chars().count());
            }
        }
        widths
    }
}

/// An enum value's name without its type prefix, for tables:
/// `IDENTITY_STATUS_ACTIVE` as `ACTIVE`; `?` for a value this client does not know.
pub fn enum_label(name: Option<&'static str>, prefix: &str) -> String {
    name.map_or_else(|| "?".into(), |n| n.trim_start_matches(prefix).to_owned())
}

/// A timestamp in RFC 3339 (UTC), as proto JSON writes it; empty when unset.
pub fn time(time: Option<&Timestamp>) -> String {
    time.and_then(|t| {
        let nanos = u32::try_from(t.nanos).ok()?;
        DateTime::from_timestamp(t.seconds, nanos)
    })
    .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    .unwrap_or_default()
}

fn shown(cell: &str) -> &str {
    if cell.is_empty() { "-" } else { cell }
}

fn write_line<'a>(
    f: &mut fmt::Formatter<'_>,
    widths: &[usize],
    cells: impl Iterator<Item = &'a str>,
) -> fmt::Result {
    let mut line = String::new();
    for (i, (cell, width)) in cells.zip(widths).enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        let pad = width.saturating_sub(cell.chars().count());
        line.extend(std::iter::repeat_n(' ', pad));
    }
    writeln!(f, "{}", line.trim_end())
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let widths = self.widths();
        write_line(f, &widths, self.header.iter().copied())?;
        for row in &self.rows {
            write_line(f, &widths, row.iter().map(|c| shown(c)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_aligned_under_the_header() {
        let mut table = Table::new(&["NAME", "ID"]);
        table.push(vec!["Administrator".into(), "1".into()]);
        table.push(vec![String::new(), "22".into()]);
        assert_eq!(
            table.to_string(),
            "NAME           ID\nAdministrator  1\n-              22\n"
        );
    }

    #[test]
    fn times_are_rfc3339_in_utc() {
        let t = Timestamp {
            seconds: 1_700_000_000,
            nanos: 500_000_000,
        };
        assert_eq!(time(Some(&t)), "2023-11-14T22:13:20.500Z");
        assert_eq!(time(None), "");
    }

    #[test]
    fn an_empty_table_is_its_header() {
        assert_eq!(Table::new(&["KEY", "NAME"]).to_string(), "KEY  NAME\n");
    }
}
