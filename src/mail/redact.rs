//! Keeping SMTP credentials out of what is shown and stored.
//!
//! A server may echo the login back in its error (the AUTH command, base64-encoded), cut
//! short or folded over several lines, or quote the decoded password. Any run of 8 or
//! more characters of the password, or of the base64 a client sends for it, is cut,
//! whatever line breaks fall inside it.

use base64::Engine as _;

/// The shortest fragment of a secret that is cut (a whole secret is cut even if shorter).
const MIN_FRAGMENT: usize = 8;

/// Removes authentication content from an SMTP error before it is shown or stored: a
/// server that echoes the AUTH command would otherwise put the base64-encoded password
/// into the sends log and on screen. Cuts everything after `AUTH <mechanism>` on each
/// line, and every fragment of 8+ characters of the secrets (the password, and the
/// forms a client sends for PLAIN and LOGIN, raw and base64), even split across lines.
pub fn redact_smtp_error(text: &str, user: Option<&str>, password: Option<&str>) -> String {
    let text = cut_after_auth(text);
    let Some(pw) = password.filter(|p| !p.is_empty()) else {
        return text;
    };
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut secrets: Vec<String> = vec![pw.to_string(), b64(pw)];
    if let Some(u) = user {
        for raw in [format!("\0{u}\0{pw}"), format!("{u}\0{u}\0{pw}")] {
            secrets.push(b64(&raw));
            // As a library or a log might show the NULs.
            secrets.push(raw.replace('\0', "\\0"));
        }
    }
    let secrets: Vec<Vec<char>> = secrets.iter().map(|s| s.chars().collect()).collect();
    cut_fragments(&text, &secrets)
}

/// `AUTH <mechanism> <anything>` becomes `AUTH <mechanism> [redacted]` on each line.
fn cut_after_auth(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            if let Some(at) = line.to_ascii_uppercase().find("AUTH ") {
                let rest = &line[at + 5..];
                let mech_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                if mech_end < rest.len() {
                    return format!("{} [redacted]", &line[..at + 5 + mech_end]);
                }
            }
            line.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces each stretch of `text` that matches 8+ characters of a secret (or a whole
/// secret) with `[redacted]`. Line breaks, and the indentation after them, are skipped
/// while matching, so a secret folded over lines is cut whole.
fn cut_fragments(text: &str, secrets: &[Vec<char>]) -> String {
    let chars: Vec<char> = text.chars().collect();
    // The characters compared, each with its index in `chars`: line breaks, and what
    // starts a continuation line (indentation, an SMTP reply code such as `535-` and an
    // enhanced code such as `5.7.8 `), are left out.
    let mut seq: Vec<(char, usize)> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\r' || chars[i] == '\n' {
            i += 1;
            while i < chars.len() && matches!(chars[i], '\r' | '\n' | ' ' | '\t') {
                i += 1;
            }
            i += reply_prefix_len(&chars[i..]);
            continue;
        }
        seq.push((chars[i], i));
        i += 1;
    }
    let mut cut = vec![false; chars.len()];
    for s in secrets {
        let need = MIN_FRAGMENT.min(s.len());
        if need == 0 {
            continue;
        }
        for start in 0..seq.len() {
            // The longest run from `start` that appears anywhere in the secret.
            let longest = (0..s.len())
                .map(|j| {
                    seq[start..]
                        .iter()
                        .zip(&s[j..])
                        .take_while(|((c, _), k)| c == *k)
                        .count()
                })
                .max()
                .unwrap_or(0);
            if longest >= need {
                let (from, to) = (seq[start].1, seq[start + longest - 1].1);
                cut[from..=to].iter_mut().for_each(|x| *x = true);
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if cut[i] {
            out.push_str("[redacted]");
            while i < chars.len() && cut[i] {
                i += 1;
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The length of an SMTP reply line's prefix: `535-` or `535 `, then `5.7.8 ` if there.
fn reply_prefix_len(line: &[char]) -> usize {
    let digits = |from: usize, n: usize| {
        line.len() >= from + n && line[from..from + n].iter().all(char::is_ascii_digit)
    };
    if !(digits(0, 3) && matches!(line.get(3), Some('-' | ' '))) {
        return 0;
    }
    let mut n = 4;
    let enhanced: String = line[n..]
        .iter()
        .take_while(|c| !c.is_whitespace())
        .collect();
    let parts: Vec<&str> = enhanced.split('.').collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        n += enhanced.chars().count();
        if line.get(n) == Some(&' ') {
            n += 1;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn the_auth_command_and_whole_secrets_are_cut() {
        let plain = b64("\0ptk\0s3cret-pw");
        let echoed = format!(
            "permanent error (535): 5.7.8 bad credentials: AUTH PLAIN {plain}\nretry later"
        );
        let r = redact_smtp_error(&echoed, Some("ptk"), Some("s3cret-pw"));
        assert!(!r.contains(&plain) && !r.contains("s3cret"), "{r}");
        assert!(
            r.contains("AUTH PLAIN [redacted]") && r.contains("retry later"),
            "{r}"
        );
        let r = redact_smtp_error(
            &format!("535 {} s3cret-pw rejected", b64("s3cret-pw")),
            Some("ptk"),
            Some("s3cret-pw"),
        );
        assert_eq!(r, "535 [redacted] [redacted] rejected");
        assert_eq!(
            redact_smtp_error("550 mailbox unavailable", None, None),
            "550 mailbox unavailable"
        );
    }

    #[test]
    fn a_truncated_echo_of_the_decoded_login_is_cut() {
        // As reported: the server quoted the decoded AUTH PLAIN string, cut short.
        let pw = "Tr0ub4dor&3-Sekret-2026";
        let said = "535 5.7.8 rejected \\0ptk\\0Tr0ub4dor&3-Sekr (truncated)";
        let r = redact_smtp_error(said, Some("ptk"), Some(pw));
        assert!(!r.contains("Tr0ub4do") && !r.contains("3-Sekr"), "{r}");
        assert!(
            r.starts_with("535 5.7.8 rejected ") && r.ends_with(" (truncated)"),
            "{r}"
        );
    }

    #[test]
    fn base64_split_over_lines_or_cut_short_is_cut() {
        let pw = "Tr0ub4dor&3-Sekret-2026";
        let full = b64(&format!("\0ptk\0{pw}"));
        let (a, b) = full.split_at(full.len() - 5);
        let said = format!("535-5.7.8 Authentication failed: {a}\r\n535 5.7.8 {b}");
        let r = redact_smtp_error(&said, Some("ptk"), Some(pw));
        assert_eq!(r, "535-5.7.8 Authentication failed: [redacted]");
        // Cut short: only the first 20 characters echoed.
        let said = format!("535 bad: {}", &full[..20]);
        let r = redact_smtp_error(&said, Some("ptk"), Some(pw));
        assert_eq!(r, "535 bad: [redacted]");
        // The base64 of the password alone (LOGIN), folded with indentation.
        let login = b64(pw);
        let said = format!("535 {}\r\n   {}", &login[..10], &login[10..]);
        let r = redact_smtp_error(&said, Some("ptk"), Some(pw));
        assert_eq!(r, "535 [redacted]");
    }

    #[test]
    fn fragments_shorter_than_eight_characters_are_kept() {
        let pw = "Tr0ub4dor&3-Sekret-2026";
        // "Sekret" (6) and "2026" alone are ordinary words in an error.
        let said = "550 Sekret mailbox 2026 full";
        assert_eq!(redact_smtp_error(said, Some("ptk"), Some(pw)), said);
        // A short password is still cut whole.
        assert_eq!(
            redact_smtp_error("535 pw4 no", Some("ptk"), Some("pw4")),
            "535 [redacted] no"
        );
    }
}
