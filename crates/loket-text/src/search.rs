//! Dutch-aware search tokens: the same analysis on both database backends.

use crate::normalize::fold;
use rust_stemmers::{Algorithm, Stemmer};
use std::collections::HashSet;
use std::sync::OnceLock;

const STOPWORDS_TXT: &str = include_str!("../data/stopwords.txt");

pub(crate) fn stemmer() -> &'static Stemmer {
    static S: OnceLock<Stemmer> = OnceLock::new();
    S.get_or_init(|| Stemmer::create(Algorithm::Dutch))
}

/// The Dutch stop-word list (folded), shared with the classifiers.
pub(crate) fn stopwords() -> &'static HashSet<&'static str> {
    static S: OnceLock<HashSet<&'static str>> = OnceLock::new();
    S.get_or_init(|| {
        STOPWORDS_TXT
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    })
}

/// Snowball Dutch stem of one word, after lowercasing and folding diacritics.
pub fn stem_nl(word: &str) -> String {
    let f = fold(word);
    let w = f.text.trim();
    if w.contains(' ') {
        return w
            .split(' ')
            .map(|t| stemmer().stem(t).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
    }
    stemmer().stem(w).into_owned()
}

/// Normalised, stemmed tokens without stop words, for full-text indexing and queries.
pub fn search_tokens(text: &str) -> Vec<String> {
    let f = fold(text);
    let sw = stopwords();
    f.text
        .split(' ')
        .filter(|t| !t.is_empty() && !sw.contains(t))
        .map(|t| stemmer().stem(t).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_and_stopwords() {
        assert_eq!(stem_nl("Stoeptegels"), "stoeptegel");
        assert_eq!(stem_nl("lantaarnpalen"), stem_nl("lantaarnpaal"));
        let t = search_tokens("De stoeptegels in de straat liggen los!");
        assert!(t.contains(&"stoeptegel".to_string()));
        assert!(!t.iter().any(|x| x == "de" || x == "in"));
    }
}
