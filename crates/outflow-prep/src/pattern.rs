//! Column-name patterns: case-insensitive globs (`*` any run, `?` one character) on trimmed names.
//!
//! Trimming matters: CICFlowMeter exports often write headers as `" Destination Port"`.

/// True when `name` matches `pattern` (case-insensitive, both trimmed; `*` and `?` are wildcards).
pub fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.trim().chars().flat_map(char::to_lowercase).collect();
    let n: Vec<char> = name.trim().chars().flat_map(char::to_lowercase).collect();
    glob(&p, &n)
}

/// True when any pattern matches.
pub fn matches_any<S: AsRef<str>>(patterns: &[S], name: &str) -> bool {
    patterns.iter().any(|p| matches(p.as_ref(), name))
}

// Iterative glob with single-star backtracking: linear in practice, never exponential.
fn glob(p: &[char], n: &[char]) -> bool {
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(matches("label", " Label"));
        assert!(matches("* Header Length", "Fwd Header Length"));
        assert!(!matches("* Header Length", "Fwd Header Length.1"));
        assert!(matches("id.*_h", "id.orig_h"));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "ac"));
        assert!(matches("*", ""));
        assert!(!matches("", "x"));
        assert!(matches("*a*b*", "xxaxxbxx"));
    }
}
