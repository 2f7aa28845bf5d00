//! Root causes: cases whose reasons say the same thing once the details that
//! vary from case to case (session ids, numbers, durations) are set aside.
//! A server that refuses every CONNECT fails dozens of cases with one
//! reason; a person should read it once.

use crate::runner::CaseReport;

/// Cases that share a cause, and the reason they share.
#[derive(Debug)]
pub struct Cause<'a> {
    /// The members' reason, with the details on which they differ shown
    /// as `…`.
    pub reason: String,
    /// In the report's order.
    pub cases: Vec<&'a CaseReport>,
}

/// Groups `cases` by normalised reason: the groups by size, largest first,
/// ties in order of first appearance.
pub fn group<'a>(cases: impl IntoIterator<Item = &'a CaseReport>) -> Vec<Cause<'a>> {
    let mut groups: Vec<(String, Vec<&'a CaseReport>)> = Vec::new();
    for case in cases {
        let key = normalised(&case.reason);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(case),
            None => groups.push((key, vec![case])),
        }
    }
    // A stable sort keeps first appearance among equal sizes.
    groups.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
    groups
        .into_iter()
        .map(|(_, cases)| Cause {
            reason: shared_reason(&cases),
            cases,
        })
        .collect()
}

/// The reason with every varying detail replaced by a placeholder: session
/// ids by `<id>`, runs of digits by `#` (so `after 10000 ms` and `after
/// 250 ms`, or `c1` and `c2`, read the same).
pub fn normalised(reason: &str) -> String {
    tokens(reason)
        .iter()
        .map(|token| match token.kind {
            Kind::Literal => token.text,
            Kind::Number => "#",
            Kind::Id => "<id>",
        })
        .collect()
}

/// The first member's reason, its varying details kept where every member
/// agrees on them and `…` where they differ.
fn shared_reason(cases: &[&CaseReport]) -> String {
    let Some((first, rest)) = cases.split_first() else {
        return String::new();
    };
    let mut shown = tokens(&first.reason);
    for case in rest {
        let other = tokens(&case.reason);
        if other.len() != shown.len() {
            // Not reachable with equal keys; keep the first reason as it is.
            continue;
        }
        for (token, theirs) in shown.iter_mut().zip(other) {
            if token.kind != Kind::Literal && token.text != theirs.text {
                token.text = "…";
            }
        }
    }
    shown.iter().map(|t| t.text).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Literal,
    Number,
    /// A session id or any long random-looking word.
    Id,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
}

/// `reason` cut into words (ASCII letters, digits, `_`, `-`) and what lies
/// between them; an id-like word is one token, other words are cut into
/// their runs of digits and the rest.
fn tokens(reason: &str) -> Vec<Token<'_>> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut tokens = Vec::new();
    let mut rest = reason;
    while let Some(first) = rest.chars().next() {
        let run = rest
            .find(|c: char| is_word(c) != is_word(first))
            .unwrap_or(rest.len());
        let (piece, after) = rest.split_at(run);
        rest = after;
        if !is_word(first) {
            tokens.push(Token {
                kind: Kind::Literal,
                text: piece,
            });
        } else if looks_like_an_id(piece) {
            tokens.push(Token {
                kind: Kind::Id,
                text: piece,
            });
        } else {
            split_digits(piece, &mut tokens);
        }
    }
    tokens
}

fn split_digits<'a>(word: &'a str, tokens: &mut Vec<Token<'a>>) {
    let mut rest = word;
    while let Some(first) = rest.chars().next() {
        let digits = first.is_ascii_digit();
        let run = rest
            .find(|c: char| c.is_ascii_digit() != digits)
            .unwrap_or(rest.len());
        let (piece, after) = rest.split_at(run);
        rest = after;
        tokens.push(Token {
            kind: if digits { Kind::Number } else { Kind::Literal },
            text: piece,
        });
    }
}

/// Session ids are long random base64url words: 12 characters or more
/// with digits and letters, or 16 or more with upper and lower case (a
/// camelCase field name is shorter, a snake_case one has one case).
fn looks_like_an_id(word: &str) -> bool {
    let has = |test: fn(&char) -> bool| word.chars().any(|c| test(&c));
    let digit = has(char::is_ascii_digit);
    let upper = has(char::is_ascii_uppercase);
    let lower = has(char::is_ascii_lowercase);
    (word.len() >= 12 && digit && (upper || lower)) || (word.len() >= 16 && upper && lower)
}
