//! Dates as people read them, shared by the forms and the letters.

use chrono::NaiveDate;

/// "31 January 2027": unambiguous for every reader.
pub fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_dates_read_naturally() {
        assert_eq!(
            long_date(NaiveDate::from_ymd_opt(2027, 1, 31).unwrap()),
            "31 January 2027"
        );
    }
}
