//! Choosing a CSV file's delimiter among `,` `;` tab and `|` from a sample of its text.
//!
//! For each candidate, count its occurrences outside quotes on each of the first records;
//! the winner is the candidate whose most common non-zero count appears on the most
//! records, then the larger count, then the earlier candidate. A file with one column has
//! no delimiter anywhere and is read with `,`.

/// The delimiters a file may use, in order of preference on a tie.
pub const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How many records of the sample are examined.
const RECORDS: usize = 50;

/// The delimiter of the text sample.
#[must_use]
pub fn sniff_delimiter(sample: &str) -> u8 {
    let mut best = (0usize, 0usize, b',');
    for &candidate in &CANDIDATES {
        let counts = counts_per_record(sample.as_bytes(), candidate);
        let (count, records) = mode(&counts);
        if count > 0 && (records, count) > (best.0, best.1) {
            best = (records, count, candidate);
        }
    }
    best.2
}

/// Occurrences of `delimiter` outside quotes on each complete record of the sample (the
/// last, possibly cut, record is left out unless it is the only one).
fn counts_per_record(bytes: &[u8], delimiter: u8) -> Vec<usize> {
    let mut counts = Vec::new();
    let mut current = 0usize;
    let mut quoted = false;
    for &b in bytes {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                counts.push(current);
                current = 0;
                if counts.len() == RECORDS {
                    return counts;
                }
            }
            _ if b == delimiter && !quoted => current += 1,
            _ => {}
        }
    }
    if counts.is_empty() {
        counts.push(current);
    }
    counts
}

/// The most common non-zero value and how many times it occurs.
fn mode(counts: &[usize]) -> (usize, usize) {
    let mut best = (0, 0);
    for &c in counts.iter().filter(|&&c| c > 0) {
        let n = counts.iter().filter(|&&x| x == c).count();
        if (n, c) > (best.1, best.0) {
            best = (c, n);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_dialects() {
        assert_eq!(sniff_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(sniff_delimiter("a;b;c\n1,5;2,5;3\n"), b';');
        assert_eq!(sniff_delimiter("a\tb\n1\t2\n"), b'\t');
        assert_eq!(sniff_delimiter("a|b\n1|2\n"), b'|');
        assert_eq!(sniff_delimiter("phone\n0871234567\n"), b',');
    }

    #[test]
    fn quoted_delimiters_do_not_count() {
        assert_eq!(
            sniff_delimiter("name;note\n\"Smith, J\";\"a, b, c\"\n\"Doe, K\";x\n"),
            b';'
        );
    }
}
