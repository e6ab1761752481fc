//! Builds one Arrow [`RecordBatch`] from converted rows, against the table's Arrow schema (as
//! deltalake derives it), so the writer never has to cast.

use std::sync::Arc;

use deltalake::arrow::array::{
    ArrayRef, BooleanBuilder, Int32Builder, Int64Builder, ListBuilder, StringBuilder, TimestampMicrosecondBuilder,
};
use deltalake::arrow::datatypes::{DataType, Field, SchemaRef};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::record_batch::RecordBatch;

use crate::row::{Cell, Record};
use crate::schema::{Kind, TableKind};

/// One batch holding `records`, with the columns of `schema` (looked up by name in the columns of
/// `table`).
pub fn build(schema: SchemaRef, records: &[Record<'_>], table: TableKind) -> Result<RecordBatch, ArrowError> {
    let columns = table.columns();
    let mut arrays = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let index = columns
            .iter()
            .position(|c| c.name == field.name())
            .ok_or_else(|| ArrowError::SchemaError(format!("no column spec for `{}`", field.name())))?;
        arrays.push(column(field, columns[index].kind, records.iter().map(|r| r.get(index)))?);
    }
    RecordBatch::try_new(schema, arrays)
}

fn column<'a>(
    field: &Field,
    kind: Kind,
    cells: impl Iterator<Item = Option<&'a Cell<'a>>>,
) -> Result<ArrayRef, ArrowError> {
    // A cell of another kind cannot come out of `row::to_record`; it becomes a null here, and a
    // null in a non-nullable column makes `RecordBatch::try_new` fail instead of panicking.
    Ok(match kind {
        Kind::Utf8 => {
            let mut b = StringBuilder::new();
            for cell in cells {
                match cell {
                    Some(Cell::Str(s)) => b.append_value(s),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Int64 => {
            let mut b = Int64Builder::new();
            for cell in cells {
                b.append_option(match cell {
                    Some(Cell::I64(v)) => Some(*v),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        Kind::Int32 => {
            let mut b = Int32Builder::new();
            for cell in cells {
                b.append_option(match cell {
                    Some(Cell::I32(v)) => Some(*v),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        Kind::Bool => {
            let mut b = BooleanBuilder::new();
            for cell in cells {
                b.append_option(match cell {
                    Some(Cell::Bool(v)) => Some(*v),
                    _ => None,
                });
            }
            Arc::new(b.finish())
        }
        Kind::TimestampUtc => timestamps(field, cells),
        Kind::Utf8List => string_lists(field, cells)?,
    })
}

fn timestamps<'a>(field: &Field, cells: impl Iterator<Item = Option<&'a Cell<'a>>>) -> ArrayRef {
    let tz = match field.data_type() {
        DataType::Timestamp(_, tz) => tz.clone(),
        _ => None,
    };
    let mut b = TimestampMicrosecondBuilder::new().with_timezone_opt(tz);
    for cell in cells {
        b.append_option(match cell {
            Some(Cell::TsMicros(v)) => Some(*v),
            _ => None,
        });
    }
    Arc::new(b.finish())
}

fn string_lists<'a>(field: &Field, cells: impl Iterator<Item = Option<&'a Cell<'a>>>) -> Result<ArrayRef, ArrowError> {
    let item = match field.data_type() {
        DataType::List(item) => item.clone(),
        other => return Err(ArrowError::SchemaError(format!("`{}` is {other}, expected a list", field.name()))),
    };
    let mut b = ListBuilder::new(StringBuilder::new()).with_field(item);
    for cell in cells {
        match cell {
            Some(Cell::StrList(items)) => {
                for s in items {
                    b.values().append_value(s);
                }
                b.append(true);
            }
            _ => b.append(false),
        }
    }
    Ok(Arc::new(b.finish()))
}
