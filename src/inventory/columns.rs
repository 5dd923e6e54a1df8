//! Header aliases: map the many spellings vendors use onto one field each.

/// A field the tool understands. Anything else is an extra column, kept verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Upn,
    Serial,
    Secret,
    TimeInterval,
    Hash,
    Manufacturer,
    Model,
    DisplayName,
}

impl Field {
    /// The field's name in records, row errors and scripts.
    pub fn name(self) -> &'static str {
        match self {
            Field::Upn => "upn",
            Field::Serial => "serial",
            Field::Secret => "secret",
            Field::TimeInterval => "time_interval",
            Field::Hash => "hash",
            Field::Manufacturer => "manufacturer",
            Field::Model => "model",
            Field::DisplayName => "display_name",
        }
    }
}

/// Trim, case-fold and drop spaces/underscores/dashes: `Serial Number`, `serial_number`
/// and `serialNumber` all become `serialnumber`.
pub fn normalise(header: &str) -> String {
    header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Which field a header names, if any.
pub fn field_for(header: &str) -> Option<Field> {
    Some(match normalise(header).as_str() {
        "upn" | "userprincipalname" | "user" => Field::Upn,
        "serialnumber" | "serial" | "serialno" | "sn" => Field::Serial,
        "secretkey" | "secret" | "seed" | "key" => Field::Secret,
        "timeinterval" | "timeintervalinseconds" | "interval" | "period" | "timestep" => Field::TimeInterval,
        "hash" | "hashfunction" | "algorithm" | "hashalgorithm" => Field::Hash,
        "manufacturer" | "vendor" => Field::Manufacturer,
        "model" => Field::Model,
        "displayname" => Field::DisplayName,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases() {
        for h in ["serial number", "Serial Number", "serialNumber", "SERIAL", "serial_number"] {
            assert_eq!(field_for(h), Some(Field::Serial), "{h}");
        }
        for h in ["time interval", "timeinterval", "timeIntervalInSeconds", " Time Interval "] {
            assert_eq!(field_for(h), Some(Field::TimeInterval), "{h}");
        }
        for h in ["secret key", "secretKey", "\u{feff}Secret Key"] {
            assert_eq!(field_for(h), Some(Field::Secret), "{h}");
        }
        for h in ["hash", "hashFunction", "Algorithm"] {
            assert_eq!(field_for(h), Some(Field::Hash), "{h}");
        }
        assert_eq!(field_for("\u{feff}upn"), Some(Field::Upn));
        assert_eq!(field_for("Enabled"), None);
    }
}
