//! Masking vectors of DESIGN.md, on characters rather than bytes (grapheme clusters for
//! names and emails, so no script or emoji is cut in the middle). A value the rules cannot
//! mask is withheld (`None`): a mask never shows more than the rules allow.

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use unicode_segmentation::UnicodeSegmentation;

/// Masks `value` the way the contract says for `field`; fields without a vector of their
/// own (added by a pack) are masked like names. `None` means withhold.
pub fn mask_str(field: &str, value: &str) -> Option<String> {
    match field {
        "email" => email(value),
        "phone" => phone(value),
        "ticket_numbers" => ticket_number(value),
        _ => Some(name(value)),
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

/// `jane.doe@example.com` → `j***@example.com`. Without an `@` there is no domain to keep
/// and no way to tell what the value is: withheld.
pub fn email(value: &str) -> Option<String> {
    let i = value.rfind('@')?;
    let (local, domain) = (value.get(..i)?, value.get(i..)?);
    Some(match local.graphemes(true).next() {
        Some(first) => format!("{first}***{domain}"),
        None => format!("***{domain}"),
    })
}

/// Any Unicode decimal digit (`0`, `０`, `٠`, `०`, ...).
pub fn is_digit(c: char) -> bool {
    c.general_category() == GeneralCategory::DecimalNumber
}

/// Characters a phone mask keeps as they are.
pub const PHONE_SEPARATORS: [char; 6] = [' ', '-', '.', '(', ')', '/'];

/// `+1 555-555-1234` → `+1 ***-***-1234`. Keeps a leading `+` and its country-code group
/// (1-3 digits followed by a separator), the last four digits and the separators; every
/// other digit and every other character becomes `*`. With fewer than 7 digits every
/// digit is masked, and a country code is kept only while at least one digit stays hidden.
/// A value without a digit is not a phone number: withheld.
pub fn phone(value: &str) -> Option<String> {
    let digits = value.chars().filter(|c| is_digit(*c)).count();
    if digits == 0 {
        return None;
    }
    let trimmed = value.trim_start_matches(' ');
    let lead = value.len() - trimmed.len();
    let mut keep_prefix = 0;
    let plus = trimmed.starts_with('+');
    if let Some(rest) = trimmed.strip_prefix('+') {
        let cc = rest.chars().take_while(|c| is_digit(*c)).count();
        let followed_by_sep = rest
            .chars()
            .nth(cc)
            .is_some_and(|c| PHONE_SEPARATORS.contains(&c));
        if (1..=3).contains(&cc) && followed_by_sep {
            keep_prefix = cc;
        }
    }
    let keep_tail = if digits < 7 { 0 } else { 4 };
    if digits < 7 || keep_prefix + keep_tail >= digits {
        keep_prefix = 0;
    }
    let mut seen = 0;
    let mut out = String::with_capacity(value.len());
    out.push_str(value.get(..lead).unwrap_or(""));
    for (i, c) in trimmed.chars().enumerate() {
        if is_digit(c) {
            seen += 1;
            let keep = seen <= keep_prefix || seen > digits - keep_tail;
            out.push(if keep { c } else { '*' });
        } else if PHONE_SEPARATORS.contains(&c) || (i == 0 && plus) {
            out.push(c);
        } else {
            out.push('*');
        }
    }
    Some(out)
}

/// `TCK-004512` → `TCK-****12`: the prefix up to the last `-` stays, and of the rest the
/// last 2 characters, unless the rest is shorter than 5 characters (`billing-42` →
/// `billing-**`). A string holding several numbers (`T-10442, T-10443`, one per line) would
/// keep every number but the last whole as "prefix": a character shows only where both the
/// rule read over the whole string and the rule read number by number show it, so such a
/// string shows each number's last two (`T-***42, T-***43`) and never more than the rule.
pub fn ticket_number(value: &str) -> Option<String> {
    let whole = one_ticket_number(value);
    let apart = |c: char| c.is_whitespace() || matches!(c, ',' | ';' | '|' | '/');
    let mut each = String::with_capacity(value.len());
    let mut rest = value;
    while !rest.is_empty() {
        let (number, tail) = rest.split_at(rest.find(apart).unwrap_or(rest.len()));
        each.push_str(&one_ticket_number(number));
        let (between, tail) = tail.split_at(tail.find(|c| !apart(c)).unwrap_or(tail.len()));
        each.push_str(between);
        rest = tail;
    }
    let (v, w, e): (Vec<&str>, Vec<&str>, Vec<&str>) = (
        value.graphemes(true).collect(),
        whole.graphemes(true).collect(),
        each.graphemes(true).collect(),
    );
    if w.len() != v.len() || e.len() != v.len() {
        // a mark joined across a cut counts differently: the rule over the whole string
        return Some(whole);
    }
    Some(
        v.iter()
            .zip(w.iter().zip(&e))
            .map(|(v, (w, e))| if w == v && e == v { *v } else { "*" })
            .collect(),
    )
}

fn one_ticket_number(value: &str) -> String {
    let (prefix, rest) = match value.rfind('-') {
        Some(i) => value.split_at(i + 1),
        None => ("", value),
    };
    let g: Vec<&str> = rest.graphemes(true).collect();
    let shown = if g.len() < 5 { 0 } else { 2 };
    let hidden = g.len() - shown;
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

    fn p(v: &str) -> String {
        phone(v).unwrap()
    }

    #[test]
    fn design_vectors() {
        assert_eq!(name("Jane Doe"), "J*** D**");
        assert_eq!(email("jane.doe@example.com").unwrap(), "j***@example.com");
        assert_eq!(p("+1 555-555-1234"), "+1 ***-***-1234");
        assert_eq!(p("555-555-1234"), "***-***-1234");
        assert_eq!(ticket_number("TCK-004512").unwrap(), "TCK-****12");
        assert_eq!(ticket_number("ZD-2019-88213").unwrap(), "ZD-2019-***13");
        assert_eq!(ticket_number("billing-42").unwrap(), "billing-**");
    }

    #[test]
    fn several_ticket_numbers_in_one_string_are_masked_one_by_one() {
        let t = |v: &str| ticket_number(v).unwrap();
        assert_eq!(
            t("billing-12345\nsupport-67890"),
            "billing-***45\nsupport-***90"
        );
        assert_eq!(t("T-12345, T-67890"), "T-***45, T-***90");
        assert_eq!(
            t("T-12345;T-67890 | ZD-2019-88213"),
            "T-***45;T-***90 | ZD-2019-***13"
        );
        // the rule over the whole string counts the trailing space among its last two
        assert_eq!(t(" T-12345 "), " T-****5 ");
        assert_eq!(t(", ,"), "***");
        assert_eq!(t(""), "");
        // never more than the rule over the whole string: 45 stays hidden here
        assert_eq!(t("T-12345, 67890"), "T-**********90");
        assert_eq!(t("a-1 b-2"), "a-* b-*");
    }

    #[test]
    fn digits_in_any_script_are_masked() {
        assert_eq!(p("０９０-１２３４-５６７８"), "***-****-５６７８");
        assert_eq!(p("٠٥٠١٢٣٤٥٦٧"), "******٤٥٦٧");
        assert_eq!(p("+९१ ९८७६५ ४३२१०"), "+९१ ***** *३२१०");
    }

    #[test]
    fn other_characters_are_masked_and_digitless_values_withheld() {
        assert_eq!(p("555-555-1234 ext. 12"), "***-***-**34 ***. 12");
        assert_eq!(p("call 555 1234"), "**** *** 1234");
        assert_eq!(phone("n/a"), None);
        assert_eq!(phone(""), None);
        assert_eq!(email("no-at-sign"), None);
    }

    #[test]
    fn names_in_any_script() {
        assert_eq!(name("Γιώργος Παπαδόπουλος"), "Γ****** Π***********");
        assert_eq!(name("王小明"), "王**");
        assert_eq!(name("👩‍👩‍👧 Family"), "👩‍👩‍👧 F*****");
        assert_eq!(name("E\u{301}mile"), "E\u{301}****");
    }

    #[test]
    fn edges() {
        assert_eq!(name(""), "");
        assert_eq!(name("  Ann  Lee "), "  A**  L** ");
        assert_eq!(email("@example.com").unwrap(), "***@example.com");
        assert_eq!(email("a@b@c.com").unwrap(), "a***@c.com");
        assert_eq!(p("12345"), "*****");
        assert_eq!(p("+1 23456"), "+* *****");
        assert_eq!(p("+44 20 7946 0958"), "+44 ** **** 0958");
        assert_eq!(p("(555) 555-1234"), "(***) ***-1234");
        assert_eq!(p("+4915112345678"), "+*********5678");
        // a country code that would leave nothing hidden is hidden itself
        assert_eq!(p("+123 4567"), "+*** 4567");
        assert_eq!(ticket_number("").unwrap(), "");
        assert_eq!(ticket_number("7").unwrap(), "*");
        assert_eq!(ticket_number("12345").unwrap(), "***45");
        assert_eq!(ticket_number("TCK-").unwrap(), "TCK-");
        assert_eq!(ticket_number("TCK-1").unwrap(), "TCK-*");
    }

    #[test]
    fn dispatch() {
        assert_eq!(
            mask_str("postal_address", "1 Main St").unwrap(),
            "1 M*** S*"
        );
        assert_eq!(mask_str("email", "bo@x.io").unwrap(), "b***@x.io");
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn kept_digits(masked: &str) -> usize {
            masked.chars().filter(|c| is_digit(*c)).count()
        }

        proptest! {
            #[test]
            fn a_phone_mask_shows_at_most_cc_plus_four_digits(v in "\\PC{0,40}") {
                if let Some(m) = phone(&v) {
                    let digits = v.chars().filter(|c| is_digit(*c)).count();
                    prop_assert_eq!(m.chars().count(), v.chars().count());
                    let kept = kept_digits(&m);
                    if digits < 7 { prop_assert_eq!(kept, 0); } else { prop_assert!(kept <= 7 && kept < digits); }
                    for (a, b) in v.chars().zip(m.chars()) {
                        // every character is kept as is, or starred
                        prop_assert!(a == b || b == '*');
                        if a == b && a != '*' && !is_digit(a) { prop_assert!(PHONE_SEPARATORS.contains(&a) || a == '+'); }
                    }
                    prop_assert!(m.chars().filter(|c| *c == '+').count() <= 1);
                } else {
                    prop_assert!(!v.chars().any(is_digit));
                }
            }

            #[test]
            fn a_ticket_mask_shows_the_prefix_and_at_most_two(v in "[A-Za-z0-9٠-٩\\-]{0,20}") {
                let m = ticket_number(&v).unwrap();
                let cut = v.rfind('-').map_or(0, |i| i + 1);
                prop_assert!(m.starts_with(&v[..cut]));
                let rest = &m[cut..];
                prop_assert!(rest.chars().filter(|c| *c != '*').count() <= 2);
                if v[cut..].chars().count() < 5 { prop_assert!(rest.chars().all(|c| c == '*')); }
            }

            #[test]
            fn a_string_of_ticket_numbers_shows_no_number_whole(
                v in "([A-Za-z]{1,4}-[0-9٠-٩]{5,9}[ ,;\n]{1,2}){1,4}"
            ) {
                let m = ticket_number(&v).unwrap();
                for (number, masked) in v.split(|c: char| ", ;\n".contains(c))
                    .zip(m.split(|c: char| ", ;\n".contains(c)))
                    .filter(|(n, _)| !n.is_empty())
                {
                    let shown = masked.chars().filter(|c| is_digit(*c)).count();
                    prop_assert!(shown <= 2, "{number} -> {masked}");
                }
            }

            #[test]
            fn a_ticket_mask_never_shows_what_the_rule_over_the_whole_string_hides(
                v in "[A-Za-z0-9٠-٩ ,;\\-]{0,30}"
            ) {
                let m = ticket_number(&v).unwrap();
                let whole = one_ticket_number(&v);
                prop_assert_eq!(m.chars().count(), whole.chars().count());
                for (a, b) in m.chars().zip(whole.chars()) {
                    prop_assert!(a == '*' || a == b, "{v:?}: {m:?} against {whole:?}");
                }
            }

            #[test]
            fn a_name_mask_shows_one_character_per_part(v in "\\PC{0,40}") {
                let m = name(&v);
                let parts = v.split_whitespace().count();
                let shown = m.graphemes(true).filter(|g| *g != "*" && !g.chars().all(char::is_whitespace)).count();
                prop_assert!(shown <= parts);
            }

            #[test]
            fn an_email_mask_shows_one_character_and_the_domain(v in "\\PC{0,30}") {
                match email(&v) {
                    Some(m) => {
                        let i = v.rfind('@').unwrap();
                        prop_assert!(m.ends_with(&v[i..]));
                        prop_assert!(m[..m.len() - (v.len() - i)].graphemes(true).count() <= 4);
                    }
                    None => prop_assert!(!v.contains('@')),
                }
            }
        }
    }
}
