//! Masking vectors of DESIGN.md. Work on grapheme clusters, so a name in any script,
//! or an emoji sequence, is never cut in the middle of what a reader sees as one character.

use unicode_segmentation::UnicodeSegmentation;

/// Masks `value` the way the contract says for `field`; fields without a vector of
/// their own (added by a pack) are masked like names.
pub fn mask_str(field: &str, value: &str) -> String {
    match field {
        "email" => email(value),
        "phone" => phone(value),
        "ticket_numbers" => ticket_number(value),
        _ => name(value),
    }
}

/// `Jane Doe` → `J*** D**`: the first character of each whitespace-separated part.
pub fn name(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut at_start = true;
    for g in value.graphemes(true) {
        if g.chars().all(char::is_whitespace) {
            out.push_str(g);
            at_start = true;
        } else if at_start {
            out.push_str(g);
            at_start = false;
        } else {
            out.push('*');
        }
    }
    out
}

/// `jane.doe@example.com` → `j***@example.com`; without `@`, the whole value is the local part.
pub fn email(value: &str) -> String {
    let (local, domain) = match value.rfind('@') {
        Some(i) => (value.get(..i).unwrap_or(""), value.get(i..).unwrap_or("")),
        None => (value, ""),
    };
    match local.graphemes(true).next() {
        Some(first) => format!("{first}***{domain}"),
        None => format!("***{domain}"),
    }
}

/// `+1 555-555-1234` → `+1 ***-***-1234`. Keeps a leading `+` and its country-code group
/// (1-3 digits followed by a separator), the last four digits and every separator.
/// With fewer than 7 digits, every digit is masked.
pub fn phone(value: &str) -> String {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let trimmed = value.trim_start();
    let lead_ws = value.len() - trimmed.len();
    let mut keep_prefix = 0; // digits of the country code to keep
    if let Some(rest) = trimmed.strip_prefix('+') {
        let cc = rest.chars().take_while(char::is_ascii_digit).count();
        let followed_by_sep = rest.chars().nth(cc).is_some_and(|c| !c.is_ascii_digit());
        if (1..=3).contains(&cc) && followed_by_sep {
            keep_prefix = cc;
        }
    }
    let keep_tail = if digits < 7 { 0 } else { 4 };
    if digits < 7 {
        keep_prefix = 0;
    }
    let mut seen = 0;
    let mut out = String::with_capacity(value.len());
    out.push_str(value.get(..lead_ws).unwrap_or(""));
    for c in trimmed.chars() {
        if c.is_ascii_digit() {
            seen += 1;
            if seen <= keep_prefix || seen > digits - keep_tail {
                out.push(c);
            } else {
                out.push('*');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `TCK-004512` → `TCK-****12`: the prefix up to the last `-` and the last 2 characters stay.
pub fn ticket_number(value: &str) -> String {
    let (prefix, rest) = match value.rfind('-') {
        Some(i) => value.split_at(i + 1),
        None => ("", value),
    };
    let g: Vec<&str> = rest.graphemes(true).collect();
    let hidden = g.len().saturating_sub(2);
    let mut out = String::from(prefix);
    out.extend(std::iter::repeat_n('*', hidden));
    for s in g.iter().skip(hidden) {
        out.push_str(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_vectors() {
        assert_eq!(name("Jane Doe"), "J*** D**");
        assert_eq!(email("jane.doe@example.com"), "j***@example.com");
        assert_eq!(phone("+1 555-555-1234"), "+1 ***-***-1234");
        assert_eq!(phone("555-555-1234"), "***-***-1234");
        assert_eq!(ticket_number("TCK-004512"), "TCK-****12");
        assert_eq!(ticket_number("ZD-2019-88213"), "ZD-2019-***13");
    }

    #[test]
    fn names_in_any_script() {
        assert_eq!(name("Γιώργος Παπαδόπουλος"), "Γ****** Π***********");
        assert_eq!(name("王小明"), "王**");
        assert_eq!(name("👩‍👩‍👧 Family"), "👩‍👩‍👧 F*****");
        assert_eq!(name("José"), "J***");
        // a combining accent stays with its base letter
        assert_eq!(name("E\u{301}mile"), "E\u{301}****");
    }

    #[test]
    fn name_edges() {
        assert_eq!(name(""), "");
        assert_eq!(name("A"), "A");
        assert_eq!(name("  Ann  Lee "), "  A**  L** ");
    }

    #[test]
    fn email_edges() {
        assert_eq!(email(""), "***");
        assert_eq!(email("x"), "x***");
        assert_eq!(email("no-at-sign"), "n***");
        assert_eq!(email("@example.com"), "***@example.com");
        assert_eq!(email("ünï@exämple.de"), "ü***@exämple.de");
        assert_eq!(email("a@b@c.com"), "a***@c.com");
    }

    #[test]
    fn phone_edges() {
        assert_eq!(phone(""), "");
        assert_eq!(phone("12345"), "*****");
        assert_eq!(phone("+1 23456"), "+* *****");
        assert_eq!(phone("+44 20 7946 0958"), "+44 ** **** 0958");
        assert_eq!(phone("(555) 555-1234"), "(***) ***-1234");
        // no separator after the country code: it cannot be told apart, so it is hidden
        assert_eq!(phone("+4915112345678"), "+*********5678");
        assert_eq!(phone("5555551234"), "******1234");
    }

    #[test]
    fn ticket_edges() {
        assert_eq!(ticket_number(""), "");
        assert_eq!(ticket_number("7"), "7");
        assert_eq!(ticket_number("12345"), "***45");
        assert_eq!(ticket_number("TCK-"), "TCK-");
        assert_eq!(ticket_number("TCK-1"), "TCK-1");
    }

    #[test]
    fn dispatch() {
        assert_eq!(mask_str("postal_address", "1 Main St"), "1 M*** S*");
        assert_eq!(mask_str("email", "bo@x.io"), "b***@x.io");
    }
}
