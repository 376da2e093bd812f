//! bedGraph output: one value per interval, for genome browsers.

use std::io::{self, Write};

/// Writes a bedGraph track: a `track type=bedGraph name="..." description="..."` header line, then one
/// `chrom<TAB>start<TAB>end<TAB>value` line per interval (0-based, half-open, as in BED).
///
/// ```
/// use omix_genome::BedGraphWriter;
///
/// # fn main() -> std::io::Result<()> {
/// let mut writer = BedGraphWriter::new(Vec::new(), "scores", "model scores")?;
/// writer.write("chr1", 100, 200, 0.25)?;
/// let text = String::from_utf8(writer.finish()?).unwrap_or_default();
/// assert_eq!(text, "track type=bedGraph name=\"scores\" description=\"model scores\"\nchr1\t100\t200\t0.25\n");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct BedGraphWriter<W: Write> {
    out: W,
    line: u64,
    /// What errors call the output: its file name once [`BedGraphWriter::for_file`] gave it.
    label: String,
}

/// A header value with the characters that would break the `key="value"` syntax replaced.
fn quoted(value: &str) -> String {
    let clean: String = value.chars().map(|c| if c == '"' || c.is_control() { '\'' } else { c }).collect();
    format!("\"{clean}\"")
}

impl<W: Write> BedGraphWriter<W> {
    /// Start a track called `name`, writing its header line to `out`.
    pub fn new(mut out: W, name: &str, description: &str) -> io::Result<BedGraphWriter<W>> {
        writeln!(out, "track type=bedGraph name={} description={}", quoted(name), quoted(description))?;
        Ok(BedGraphWriter { out, line: 1, label: "bedGraph output".to_owned() })
    }

    /// Name the file being written, for error messages.
    pub fn for_file(mut self, path: &std::path::Path) -> BedGraphWriter<W> {
        self.label = path.display().to_string();
        self
    }

    /// Continue a track whose header is written elsewhere (later shards of a sharded run).
    pub fn without_header(out: W) -> BedGraphWriter<W> {
        BedGraphWriter { out, line: 1, label: "bedGraph output".to_owned() }
    }

    /// Write one interval [`start`, `end`) (0-based, half-open) with its value.
    ///
    /// Errors (`InvalidInput`) for `start >= end`, a contig name holding whitespace, or a value that is not
    /// finite (bedGraph has no NaN).
    pub fn write(&mut self, chrom: &str, start: u64, end: u64, value: f64) -> io::Result<()> {
        let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidInput, message);
        let (line, label) = (self.line + 1, &self.label);
        if start >= end {
            return Err(invalid(format!(
                "{label}, line {line}: column 2 (start) {start} of {chrom} is not before column 3 (end) {end}"
            )));
        }
        if chrom.is_empty() || chrom.contains(char::is_whitespace) {
            return Err(invalid(format!(
                "{label}, line {line}: column 1 (chrom) '{chrom}' is empty or holds whitespace"
            )));
        }
        if !value.is_finite() {
            return Err(invalid(format!(
                "{label}, line {line}: column 4 (value) {value} of {chrom}:{start}-{end} is not finite"
            )));
        }
        // Plain decimals, but exponents for tiny or huge values (Display would write hundreds of digits).
        let magnitude = value.abs();
        if value != 0.0 && !(1e-4..1e15).contains(&magnitude) {
            writeln!(self.out, "{chrom}\t{start}\t{end}\t{value:e}")?;
        } else {
            writeln!(self.out, "{chrom}\t{start}\t{end}\t{value}")?;
        }
        self.line = line;
        Ok(())
    }

    /// Flush and return the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file() -> Result<(), Box<dyn std::error::Error>> {
        let mut writer =
            BedGraphWriter::new(Vec::new(), "t", "d")?.for_file(std::path::Path::new("out/track.bedgraph"));
        let Err(e) = writer.write("chr1", 50_000, 30_000, 1.0) else {
            return Err("start after end must be refused".into());
        };
        assert!(e.to_string().starts_with("out/track.bedgraph, line 2: column 2 (start) 50000"), "{e}");
        Ok(())
    }

    #[test]
    fn format_and_errors() -> Result<(), Box<dyn std::error::Error>> {
        let mut writer = BedGraphWriter::new(Vec::new(), "my \"track\"", "scores, 1 kb")?;
        writer.write("chr1", 0, 1000, 1.5)?;
        writer.write("chr2", 10, 20, -3.0)?;
        writer.write("chr2", 20, 30, 1e-7)?;
        writer.write("chr2", 30, 40, 0.0)?;
        let Err(e) = writer.write("chr2", 40, 40, 1.0) else {
            return Err("an empty interval must be refused".into());
        };
        assert!(e.to_string().contains("bedGraph output, line 6: column 2 (start) 40"), "{e}");
        assert!(writer.write("chr 2", 40, 50, 1.0).is_err());
        let Err(e) = writer.write("chr2", 40, 50, f64::NAN) else {
            return Err("NaN must be refused".into());
        };
        assert!(e.to_string().contains("line 6"), "{e}");
        let text = String::from_utf8(writer.finish()?)?;
        assert_eq!(
            text,
            "track type=bedGraph name=\"my 'track'\" description=\"scores, 1 kb\"\n\
             chr1\t0\t1000\t1.5\nchr2\t10\t20\t-3\nchr2\t20\t30\t1e-7\nchr2\t30\t40\t0\n"
        );
        Ok(())
    }
}
