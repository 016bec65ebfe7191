//! CSV bodies: UTF-8 with a byte-order mark (so that Excel reads the Chinese), CRLF line ends
//! (RFC 4180), formula-like text defused; encoded batch by batch as the client reads.

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};

use super::{Lines, internal};
use crate::domain::export::Cell;
use crate::services::ServiceResult;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The body: BOM and headings, then the lines as they arrive. The first batch is awaited
/// here, so that a query that fails at once becomes an error response rather than a
/// truncated file; a later failure ends the body early and is logged.
pub(super) async fn body(
    headings: &[&str],
    mut lines: Lines,
) -> ServiceResult<BoxStream<'static, ServiceResult<Bytes>>> {
    let mut head = BOM.to_vec();
    let heading_cells: Vec<Cell> = headings
        .iter()
        .map(|heading| Cell::Text((*heading).to_owned()))
        .collect();
    head.extend(encode(&[heading_cells])?);
    if let Some(first) = lines.recv().await {
        head.extend(encode(&first?)?);
    }
    let rest = stream::unfold(lines, |mut lines| async move {
        let batch = lines.recv().await?;
        let chunk = batch.and_then(|batch| encode(&batch)).map(Bytes::from);
        if let Err(error) = &chunk {
            tracing::error!(%error, "catalogue export failed part-way; the CSV is cut short");
        }
        Some((chunk, lines))
    });
    Ok(stream::once(async move { Ok(Bytes::from(head)) })
        .chain(rest)
        .boxed())
}

/// The lines as CSV.
fn encode(batch: &[Vec<Cell>]) -> ServiceResult<Vec<u8>> {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(batch.len() * 128));
    for line in batch {
        for cell in line {
            writer
                .write_field(cell.csv_text().as_bytes())
                .map_err(|error| internal("csv", error))?;
        }
        writer
            .write_record(None::<&[u8]>)
            .map_err(|error| internal("csv", error))?;
    }
    writer
        .into_inner()
        .map_err(|error| internal("csv", error.error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_quoted_where_needed_and_formulas_defused() {
        let batch = vec![
            vec![
                Cell::Number(1),
                Cell::Text("题名, 含逗号".into()),
                Cell::Empty,
            ],
            vec![
                Cell::Number(2),
                Cell::Text("=HYPERLINK(\"x\")".into()),
                Cell::Text("说\"明\"".into()),
            ],
        ];
        let text = String::from_utf8(encode(&batch).expect("encodes")).expect("utf-8");
        assert_eq!(
            text,
            "1,\"题名, 含逗号\",\r\n2,\"'=HYPERLINK(\"\"x\"\")\",\"说\"\"明\"\"\"\r\n"
        );
    }
}
