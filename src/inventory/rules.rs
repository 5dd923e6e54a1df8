//! Domain rules about a set of rows that every command applies the same way: what makes two
//! serials the same token, and how many tokens one user may hold. `check`, `doctor`, `users`
//! and `activate` all call these, so a file that passes `check` does not fail `activate`.

use std::collections::BTreeMap;

/// Entra refuses a sixth hardware OATH method for one user.
pub const MAX_TOKENS_PER_USER: usize = 5;

/// The key under which serials are compared: Graph matches serial numbers case-insensitively,
/// so `ab1` and `AB1` are one token.
pub fn serial_key(serial: &str) -> String {
    serial.trim().to_lowercase()
}

/// The key under which UPNs are compared: Entra treats them case-insensitively.
pub fn upn_key(upn: &str) -> String {
    upn.trim().to_lowercase()
}

/// Rows seen so far, by serial and by user, for the whole-file findings.
#[derive(Debug, Default)]
pub struct Tally {
    /// serial key → (first spelling, lines)
    serials: BTreeMap<String, (String, Vec<u64>)>,
    /// UPN key → (first spelling, lines)
    users: BTreeMap<String, (String, Vec<u64>)>,
}

impl Tally {
    pub fn add(&mut self, serial: &str, upn: &str, line: u64) {
        self.serials.entry(serial_key(serial)).or_insert_with(|| (serial.to_string(), vec![])).1.push(line);
        // A token without a user (a file without a upn column) counts for no one.
        if !upn.is_empty() {
            self.users.entry(upn_key(upn)).or_insert_with(|| (upn.to_string(), vec![])).1.push(line);
        }
    }

    /// Serials on more than one line: (first spelling, lines).
    pub fn duplicate_serials(&self) -> impl Iterator<Item = (&str, &[u64])> {
        self.serials.values().filter(|(_, l)| l.len() > 1).map(|(s, l)| (s.as_str(), l.as_slice()))
    }

    /// Users with more rows than Entra allows tokens: (first spelling, lines).
    pub fn crowded_users(&self) -> impl Iterator<Item = (&str, &[u64])> {
        self.users.values().filter(|(_, l)| l.len() > MAX_TOKENS_PER_USER).map(|(u, l)| (u.as_str(), l.as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_differing_in_case_are_one_token() {
        let mut t = Tally::default();
        t.add("ab1", "a@contoso.com", 2);
        t.add("AB1", "b@contoso.com", 3);
        t.add("ab2", "c@contoso.com", 4);
        let dups: Vec<_> = t.duplicate_serials().collect();
        assert_eq!(dups, vec![("ab1", &[2u64, 3][..])]);
    }

    #[test]
    fn a_sixth_token_for_one_user_is_one_too_many_whatever_the_case() {
        let mut t = Tally::default();
        for i in 0..5 {
            t.add(&format!("S{i}"), if i % 2 == 0 { "A@contoso.com" } else { "a@contoso.com" }, i + 2);
        }
        assert_eq!(t.crowded_users().count(), 0, "five is allowed");
        t.add("S9", "a@CONTOSO.com", 9);
        assert_eq!(t.crowded_users().map(|(_, l)| l.len()).collect::<Vec<_>>(), vec![6]);
    }

    #[test]
    fn tokens_without_a_user_count_for_no_one() {
        let mut t = Tally::default();
        for i in 0..7 {
            t.add(&format!("S{i}"), "", i + 2);
        }
        assert_eq!(t.crowded_users().count(), 0, "seven unassigned tokens are no user's six");
        assert_eq!(t.duplicate_serials().count(), 0);
    }
}
