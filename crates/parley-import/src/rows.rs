//! Rows sent as JSON (`{"rows": [ {…}, … ]}`, as the API receives them, or the bare array
//! `[ {…}, … ]` as an import stores them), read from a `Read + Seek` source in two
//! streaming passes with one row in memory at a time: the first collects the header
//! (every key in order of first appearance) and refuses any value that is an array or
//! an object, the second pushes the rows. Values keep their JSON type (a number stays a
//! number, so a phone number sent as `871234567` is read like a spreadsheet cell that
//! lost its zero). The document's other top-level key, `options`, is skipped (the
//! caller reads it); any other is refused, as the API refuses it.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufReader, Read, Seek, SeekFrom};

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::limits::{SheetLimits, shorten};
use crate::source::{OwnedCell, ReadError, ReadOutcome, Row, RowSink};

/// The longest key or message a refusal repeats.
const ECHO_CHARS: usize = 120;

/// Pushes the JSON rows of `input` into `sink`, within `limits.max_columns` distinct
/// keys. Row numbers count the header as row 1, as in a file: the first object is row 2
/// (a [`ReadError::JsonRow`] names the object's index from 1, as before). Nothing is
/// pushed unless the whole document is well formed.
pub fn read_json_rows<R: Read + Seek>(
    mut input: R,
    limits: &SheetLimits,
    sink: &mut dyn RowSink,
) -> Result<ReadOutcome, ReadError> {
    let start = input
        .stream_position()
        .map_err(|e| ReadError::Io(e.to_string()))?;
    let mut state = State {
        columns: HashMap::new(),
        header: Vec::new(),
        max_columns: limits.max_columns,
        sink: None,
        failure: None,
        stopped: false,
    };
    pass(&mut input, &mut state, true)?;
    if state.header.is_empty() {
        return Err(ReadError::Empty);
    }
    if sink.header(state.header.clone()).is_err() {
        return Ok(ReadOutcome::Stopped);
    }
    input
        .seek(SeekFrom::Start(start))
        .map_err(|e| ReadError::Io(e.to_string()))?;
    state.sink = Some(sink);
    pass(&mut input, &mut state, false)?;
    Ok(if state.stopped {
        ReadOutcome::Stopped
    } else {
        ReadOutcome::Finished
    })
}

/// One pass over the document: collecting the header (`first`) or pushing the rows.
fn pass<R: Read>(input: &mut R, state: &mut State<'_>, first: bool) -> Result<(), ReadError> {
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(64 * 1024, input));
    let result = Document { state, first }
        .deserialize(&mut de)
        .and_then(|()| if first { de.end() } else { Ok(()) });
    match (state.failure.take(), result) {
        (Some(failure), _) => Err(failure),
        (None, _) if state.stopped => Ok(()),
        (None, Ok(())) => Ok(()),
        (None, Err(e)) => Err(ReadError::Json {
            message: shorten(&e.to_string(), 300),
        }),
    }
}

/// What both passes share.
struct State<'s> {
    /// Each key's column.
    columns: HashMap<String, usize>,
    header: Vec<String>,
    max_columns: usize,
    /// Where rows go (the second pass).
    sink: Option<&'s mut dyn RowSink>,
    /// A refusal found inside the document (the parser only carries text).
    failure: Option<ReadError>,
    /// The sink asked to stop.
    stopped: bool,
}

impl State<'_> {
    /// Stops the parse with `failure`.
    fn fail<E: de::Error>(&mut self, failure: ReadError) -> E {
        self.failure = Some(failure);
        E::custom("refused")
    }
}

/// The whole document: `{"rows": […], "options": …}` or `[…]`.
struct Document<'a, 's> {
    state: &'a mut State<'s>,
    first: bool,
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"an object {"rows": [ … ]} or an array of rows"#)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Rows {
            state: self.state,
            first: self.first,
        }
        .visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut has_rows = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "rows" if has_rows => return Err(de::Error::duplicate_field("rows")),
                "rows" => {
                    has_rows = true;
                    map.next_value_seed(Rows {
                        state: &mut *self.state,
                        first: self.first,
                    })?;
                }
                "options" => {
                    map.next_value::<IgnoredAny>()?;
                }
                other => {
                    return Err(de::Error::unknown_field(
                        &shorten(other, ECHO_CHARS),
                        &["rows", "options"],
                    ));
                }
            }
        }
        if has_rows {
            Ok(())
        } else {
            Err(de::Error::missing_field("rows"))
        }
    }
}

/// The array of rows.
struct Rows<'a, 's> {
    state: &'a mut State<'s>,
    first: bool,
}

impl<'de> DeserializeSeed<'de> for Rows<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Rows<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of row objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0u64;
        loop {
            index += 1;
            let row = RowSeed {
                state: &mut *self.state,
                first: self.first,
                index,
            };
            if seq.next_element_seed(row)?.is_none() || self.state.stopped {
                return Ok(());
            }
        }
    }
}

/// One row object, by its index from 1.
struct RowSeed<'a, 's> {
    state: &'a mut State<'s>,
    first: bool,
    index: u64,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row object of column names and values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let state = self.state;
        let mut cells = if self.first {
            Vec::new()
        } else {
            vec![OwnedCell::Empty; state.header.len()]
        };
        while let Some(key) = map.next_key::<String>()? {
            let Some(value) = map.next_value_seed(Scalar)? else {
                let key = shorten(&key, ECHO_CHARS);
                return Err(state.fail(ReadError::JsonRow {
                    row: self.index,
                    message: format!("`{key}` must be a string, number, boolean or null"),
                }));
            };
            if self.first {
                if !state.columns.contains_key(&key) {
                    if state.header.len() >= state.max_columns {
                        return Err(state.fail(ReadError::TooManyKeys {
                            row: self.index,
                            limit: state.max_columns as u64,
                        }));
                    }
                    state.columns.insert(key.clone(), state.header.len());
                    state.header.push(key);
                }
            } else if let Some(&column) = state.columns.get(&key) {
                cells[column] = value;
            }
        }
        if !self.first {
            let row = Row::from_cells(self.index + 1, cells);
            if !row.is_blank()
                && let Some(sink) = state.sink.as_mut()
                && sink.row(row).is_err()
            {
                state.stopped = true;
                return Err(de::Error::custom("stopped"));
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.not_an_object())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.not_an_object())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.not_an_object())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.not_an_object())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.not_an_object())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.not_an_object())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.not_an_object())
    }
}

impl RowSeed<'_, '_> {
    fn not_an_object<E: de::Error>(self) -> E {
        self.state.fail(ReadError::JsonRow {
            row: self.index,
            message: "must be an object of column names and values".to_owned(),
        })
    }
}

/// A value: `Some` cell for a string, number, boolean or null; `None` (after skipping
/// it) for an array or an object.
struct Scalar;

impl<'de> DeserializeSeed<'de> for Scalar {
    type Value = Option<OwnedCell>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scalar {
    type Value = Option<OwnedCell>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean or null")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Some(OwnedCell::Empty))
    }
    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Some(OwnedCell::Bool(b)))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        #[allow(clippy::cast_precision_loss)]
        Ok(Some(OwnedCell::Number(n as f64)))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        #[allow(clippy::cast_precision_loss)]
        Ok(Some(OwnedCell::Number(n as f64)))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
        Ok(Some(OwnedCell::Number(n)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(OwnedCell::Text(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Some(OwnedCell::Text(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::source::{CellRef, Stop};

    #[derive(Default)]
    struct Rows {
        header: Vec<String>,
        rows: Vec<Row>,
        stop_after: Option<usize>,
    }

    impl RowSink for Rows {
        fn header(&mut self, header: Vec<String>) -> Result<(), Stop> {
            self.header = header;
            if self.stop_after == Some(0) {
                Err(Stop)
            } else {
                Ok(())
            }
        }
        fn row(&mut self, row: Row) -> Result<(), Stop> {
            self.rows.push(row);
            match self.stop_after {
                Some(n) if self.rows.len() >= n => Err(Stop),
                _ => Ok(()),
            }
        }
    }

    fn read(json: &str, limits: &SheetLimits) -> (Result<ReadOutcome, ReadError>, Rows) {
        let mut sink = Rows::default();
        let result = read_json_rows(Cursor::new(json.as_bytes()), limits, &mut sink);
        (result, sink)
    }

    const DOCUMENT: &str = r#"{"options": {"channel": "sms", "mapping": {"x": null}},
        "rows": [
            {"phone": "0871234567", "name": "Ann", "vip": true},
            {"name": "", "phone": null},
            {"balance": 12.5, "phone": 871234568, "phone": 871234569, "vip": null}
        ]}"#;

    #[test]
    fn rows_stream_with_the_header_in_order_of_first_appearance() {
        let (result, sink) = read(DOCUMENT, &SheetLimits::default());
        assert_eq!(result, Ok(ReadOutcome::Finished));
        assert_eq!(sink.header, ["phone", "name", "vip", "balance"]);
        assert_eq!(sink.rows.len(), 2, "the blank row is skipped");
        let (first, third) = (&sink.rows[0], &sink.rows[1]);
        assert_eq!((first.number, third.number), (2, 4));
        assert_eq!(first.cell(0), CellRef::Text("0871234567"));
        assert_eq!(first.cell(2), CellRef::Bool(true));
        assert_eq!(first.cell(3), CellRef::Empty);
        assert_eq!(
            third.cell(0),
            CellRef::Number(871_234_569.0),
            "the last of a repeated key"
        );
        assert_eq!(third.cell(1), CellRef::Empty);
        assert_eq!(third.cell(3), CellRef::Number(12.5));
        // The stored form, a bare array, reads the same.
        let array = &DOCUMENT[DOCUMENT.find('[').unwrap()..DOCUMENT.rfind('}').unwrap()];
        let (result, again) = read(array, &SheetLimits::default());
        assert_eq!(result, Ok(ReadOutcome::Finished));
        assert_eq!(again.header, sink.header);
        assert_eq!(again.rows.len(), 2);
    }

    #[test]
    fn an_array_or_object_value_is_refused_with_its_row_and_key_before_any_row() {
        let json = r#"{"rows": [{"phone": "1"}, {"phone": "2", "tags": ["a"]}, {"x": {}}]}"#;
        let (result, sink) = read(json, &SheetLimits::default());
        assert_eq!(
            result,
            Err(ReadError::JsonRow {
                row: 2,
                message: "`tags` must be a string, number, boolean or null".to_owned()
            })
        );
        assert!(sink.header.is_empty() && sink.rows.is_empty());
        let (result, _) = read(r#"[{"a": 1}, 5]"#, &SheetLimits::default());
        assert_eq!(
            result,
            Err(ReadError::JsonRow {
                row: 2,
                message: "must be an object of column names and values".to_owned()
            })
        );
    }

    #[test]
    fn the_document_is_refused_as_the_api_refuses_it() {
        let message = |json: &str| match read(json, &SheetLimits::default()).0 {
            Err(ReadError::Json { message }) => message,
            other => panic!("{other:?}"),
        };
        assert!(
            message(r#"{"rows": [], "extra": 1}"#)
                .starts_with("unknown field `extra`, expected `rows` or `options`"),
        );
        assert!(message(r#"{"options": {}}"#).starts_with("missing field `rows`"));
        assert!(message(r#"{"rows": [], "rows": []}"#).starts_with("duplicate field `rows`"));
        assert!(message(r#"{"rows": [{"a": 1}]} x"#).contains("trailing characters"));
        assert!(message(r#"{"rows": [{"a": 1}"#).contains("line 1 column"));
        assert!(message(&format!(r#"{{"rows": "{}"}}"#, "x".repeat(10_000))).len() < 400);
        assert_eq!(
            read(r#"{"rows": []}"#, &SheetLimits::default()).0,
            Err(ReadError::Empty)
        );
    }

    #[test]
    fn keys_past_the_column_limit_are_refused_naming_the_row() {
        let limits = SheetLimits {
            max_columns: 3,
            ..SheetLimits::default()
        };
        let json = r#"[{"a": 1, "b": 2}, {"b": 1, "c": 2}, {"a": 1, "d": 2}]"#;
        let (result, _) = read(json, &limits);
        assert_eq!(result, Err(ReadError::TooManyKeys { row: 3, limit: 3 }));
        assert_eq!(
            result.unwrap_err().to_string(),
            "row 3: the rows use more than 3 distinct keys (columns; the import's limit)"
        );
    }

    #[test]
    fn the_sink_can_stop_the_reading() {
        let mut sink = Rows {
            stop_after: Some(1),
            ..Rows::default()
        };
        let result = read_json_rows(Cursor::new(DOCUMENT), &SheetLimits::default(), &mut sink);
        assert_eq!((result, sink.rows.len()), (Ok(ReadOutcome::Stopped), 1));
        sink.stop_after = Some(0);
        let result = read_json_rows(Cursor::new(DOCUMENT), &SheetLimits::default(), &mut sink);
        assert_eq!(result, Ok(ReadOutcome::Stopped));
    }
}
