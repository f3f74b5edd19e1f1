//! Numeric tables from CSV text: a user's own table (one row per sample, one column per
//! feature), read with the `csv` crate and checked before anything else sees it.
//!
//! The first record is a header when any of its fields is not a number; otherwise the
//! columns are named `column 1`, `column 2`, …. Every field must be a finite number
//! (empty fields, `NaN` and `inf` are refused with the line and the column), every record
//! must have the header's number of fields, and the whole text must fit the budget's
//! `csv_bytes` (gzip-compressed input is accepted and measured once inflated).

use super::{gunzip_within, DataError, Dataset, InputShape, Split, Values};
use crate::limits::{group, quote, Budget};
use crate::model::MAX_WIDTH;

const CSV: &str = "CSV table";

/// Most columns of a table: a table row is one input of a dense layer.
pub const MAX_COLUMNS: usize = MAX_WIDTH;

/// A numeric table, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Column names, from the header or `column 1`, `column 2`, ….
    pub columns: Vec<String>,
    /// `rows() × columns.len()` values.
    pub values: Vec<f32>,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.values.len().checked_div(self.columns.len()).unwrap_or(0)
    }

    /// The values of the column `name`, one per row.
    pub fn column(&self, name: &str) -> Option<Vec<f32>> {
        let k = self.columns.iter().position(|c| c == name)?;
        Some(self.values.iter().skip(k).step_by(self.columns.len()).copied().collect())
    }
}

/// Share of a table's rows that train (the first ones, in file order); the rest test.
pub const TRAIN_FRACTION: f64 = 0.6;

impl Table {
    /// The table as a split of raw (not yet standardised) rows: the first
    /// [`TRAIN_FRACTION`] of the rows train, the rest test, in file order. With `label`, that
    /// column (whole numbers 0 to 9: a class, or 1 for an anomaly) becomes the labels and
    /// leaves the features.
    pub fn split(&self, label: Option<&str>) -> Result<Split, DataError> {
        let n = self.columns.len();
        let (features, labels) = match label {
            None => (self.values.clone(), vec![]),
            Some(name) => {
                let k =
                    self.columns.iter().position(|c| c == name).ok_or_else(|| DataError::Csv {
                        line: 1,
                        column: quote(name),
                        message: format!(
                            "no such column; the columns are {}",
                            self.columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
                        ),
                    })?;
                if n == 1 {
                    return Err(DataError::Csv {
                        line: 1,
                        column: quote(name),
                        message: "the label is the only column: no features are left".into(),
                    });
                }
                let mut labels = Vec::with_capacity(self.rows());
                for (r, row) in self.values.chunks_exact(n).enumerate() {
                    let v = row[k];
                    if v.fract() != 0.0 || !(0.0..=9.0).contains(&v) {
                        return Err(DataError::Csv {
                            line: r as u64 + 2,
                            column: quote(name),
                            message: format!("label {v}: a label is a whole number from 0 to 9"),
                        });
                    }
                    labels.push(v as u8);
                }
                let features = self
                    .values
                    .chunks_exact(n)
                    .flat_map(|row| {
                        row.iter().enumerate().filter(|&(j, _)| j != k).map(|(_, &v)| v)
                    })
                    .collect();
                (features, labels)
            }
        };
        let width = n - usize::from(label.is_some());
        let rows = self.rows();
        if rows < 2 {
            return Err(DataError::Csv {
                line: 2,
                column: String::new(),
                message: "one row cannot be split into training and test rows: give at least two"
                    .into(),
            });
        }
        let train = ((rows as f64 * TRAIN_FRACTION).round() as usize).clamp(1, rows - 1);
        let shape = InputShape::Vector { features: width };
        let set = |r: std::ops::Range<usize>| Dataset {
            shape,
            values: Values::from(features[r.start * width..r.end * width].to_vec()),
            labels: if labels.is_empty() { vec![] } else { labels[r].to_vec() },
        };
        Ok(Split { train: set(0..train), test: set(train..rows), normalisation: None })
    }
}

/// Reads a CSV table (see the module docs). Never panics; memory is bounded by the
/// budget's `csv_bytes`.
pub fn read_csv(bytes: &[u8]) -> Result<Table, DataError> {
    let advice = "keep fewer rows, or split the table";
    let text = gunzip_within(bytes, CSV, Budget::HERE.csv_bytes, advice)?;
    let bad = |line: u64, column: &str, message: String| DataError::Csv {
        line,
        column: quote(column),
        message,
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&text[..]);
    let mut records = reader.byte_records();
    let first = match records.next() {
        None => {
            return Err(DataError::Csv {
                line: 1,
                column: String::new(),
                message: "the table is empty".into(),
            })
        }
        Some(r) => r.map_err(|e| csv_error(&e))?,
    };
    if first.len() > MAX_COLUMNS {
        return Err(bad(
            1,
            "",
            format!(
                "{} columns, more than the {} a table may have",
                group(first.len()),
                group(MAX_COLUMNS)
            ),
        ));
    }
    let header = first.iter().any(|f| number(f).is_none());
    let columns: Vec<String> = if header {
        let names: Vec<String> =
            first.iter().map(|f| String::from_utf8_lossy(f).trim().to_string()).collect();
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = names.iter().find(|n| !seen.insert(n.as_str())) {
            return Err(bad(1, dup, "this column name appears twice in the header".into()));
        }
        names
    } else {
        (1..=first.len()).map(|i| format!("column {i}")).collect()
    };
    let mut values = Vec::new();
    let mut push = |line: u64, record: &csv::ByteRecord| -> Result<(), DataError> {
        if record.len() != columns.len() {
            return Err(bad(
                line,
                "",
                format!("{} fields, but the table has {} columns", record.len(), columns.len()),
            ));
        }
        for (field, name) in record.iter().zip(&columns) {
            match number(field) {
                Some(v) if v.is_finite() => values.push(v),
                _ => {
                    let text = String::from_utf8_lossy(field);
                    let message = if text.trim().is_empty() {
                        "an empty field: every field must be a number (fill or drop missing values)"
                            .to_string()
                    } else {
                        format!("`{}` is not a finite number", quote(text.trim()))
                    };
                    return Err(bad(line, name, message));
                }
            }
        }
        Ok(())
    };
    if !header {
        push(1, &first)?;
    }
    for record in records {
        let record = record.map_err(|e| csv_error(&e))?;
        let line = record.position().map_or(0, |p| p.line());
        push(line, &record)?;
    }
    if values.is_empty() {
        return Err(DataError::Csv {
            line: 2,
            column: String::new(),
            message: "the table has a header but no rows".into(),
        });
    }
    Ok(Table { columns, values })
}

/// A field as an f32, or `None` if it is not a number (surrounding spaces allowed).
fn number(field: &[u8]) -> Option<f32> {
    std::str::from_utf8(field).ok()?.trim().parse().ok()
}

fn csv_error(e: &csv::Error) -> DataError {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("{len} fields, but the table has {expected_len} columns")
        }
        _ => quote(&e.to_string()),
    };
    DataError::Csv { line, column: String::new(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        read_csv(text.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn reads_a_table_with_or_without_a_header() {
        let t = read_csv(b"amount, time,label\n1.5,2,0\n-3e2, 4 ,1\n").unwrap();
        assert_eq!(t.columns, ["amount", "time", "label"]);
        assert_eq!(t.rows(), 2);
        assert_eq!(t.values, [1.5, 2.0, 0.0, -300.0, 4.0, 1.0]);
        assert_eq!(t.column("label"), Some(vec![0.0, 1.0]));
        assert_eq!(t.column("nope"), None);

        let t = read_csv(b"1,2\n3,4").unwrap();
        assert_eq!(t.columns, ["column 1", "column 2"]);
        assert_eq!(t.values, [1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn reads_gzip() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"a,b\n1,2\n").unwrap();
        let t = read_csv(&enc.finish().unwrap()).unwrap();
        assert_eq!(t.values, [1.0, 2.0]);
    }

    #[test]
    fn errors_name_the_line_the_column_and_the_value() {
        let e = err("a,b\n1,2\n3,oops\n");
        assert!(e.contains("line 3") && e.contains("`b`") && e.contains("oops"), "{e}");
        let e = err("a,b\n1,2\n3,\n");
        assert!(e.contains("line 3") && e.contains("empty field"), "{e}");
        let e = err("a,b\n1,NaN\n");
        assert!(e.contains("NaN") && e.contains("finite"), "{e}");
        let e = err("a,b\n1,inf\n");
        assert!(e.contains("inf"), "{e}");
        let e = err("a,b\n1,2,3\n");
        assert!(e.contains("3 fields") && e.contains("2 columns"), "{e}");
        assert!(err("").contains("empty"));
        assert!(err("a,b\n").contains("no rows"));
        assert!(err("a,a\n1,2\n").contains("twice"));
        let e = err(&format!("a,b\n1,{}\n", "x".repeat(100_000)));
        assert!(e.len() < 300, "a hostile value is cut short: {} bytes", e.len());
    }

    #[test]
    fn a_table_splits_in_file_order_with_its_label_column() {
        let t = read_csv(b"a,label,b\n1,0,2\n3,1,4\n5,0,6\n7,0,8\n9,1,10\n").unwrap();
        let s = t.split(Some("label")).unwrap();
        assert_eq!(s.shape(), InputShape::Vector { features: 2 });
        assert_eq!((s.train.len(), s.test.len()), (3, 2));
        assert_eq!(s.train.rows_f32(0..3), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(s.test.labels, [0, 1]);
        let s = t.split(None).unwrap();
        assert_eq!(s.shape(), InputShape::Vector { features: 3 });
        assert!(!s.train.has_labels());
        let e = t.split(Some("klass")).unwrap_err().to_string();
        assert!(e.contains("no such column") && e.contains("a, label, b"), "{e}");
        let e = read_csv(b"a,l\n1,0\n2,0.5\n").unwrap().split(Some("l")).unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("whole number"), "{e}");
        let e = read_csv(b"a\n1\n").unwrap().split(None).unwrap_err().to_string();
        assert!(e.contains("at least two"), "{e}");
    }

    #[test]
    fn refuses_too_many_columns() {
        let header: Vec<String> = (0..=MAX_COLUMNS).map(|i| format!("c{i}")).collect();
        let e = err(&format!("{}\n", header.join(",")));
        assert!(e.contains("4,097 columns"), "{e}");
    }
}
