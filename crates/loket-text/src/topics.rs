//! The national topic taxonomy and its mapping onto Signalen categories.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// One topic of `onderwerpen.csv`; groups have `kind == "group"` and no parent.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    /// Stable API code, e.g. `openbare-ruimte.bestrating`.
    pub code: &'static str,
    /// Group code (`openbare-ruimte`), `None` for groups themselves.
    pub parent: Option<&'static str>,
    pub label_nl: &'static str,
    pub label_en: &'static str,
    /// `melding`, `vraag`, `klacht`, `compliment`, `reactie` or `group`.
    pub kind: &'static str,
    /// Default priority: `laag`, `normaal`, `hoog`, `spoed` (empty for groups).
    pub priority: &'static str,
    /// Matching Signalen sub-category slug, when the topic is a public-space report.
    pub signalen_category: Option<&'static str>,
}

/// Classifier answer: the best sub-topic and the next best.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TopicMatch {
    pub code: String,
    pub confidence: f64,
    pub alternatives: Vec<TopicAlternative>,
}

/// A runner-up topic.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TopicAlternative {
    pub code: String,
    pub confidence: f64,
}

const TOPICS_TSV: &str = include_str!("../data/topics.tsv");

/// All topics, groups included, in taxonomy order.
pub fn all() -> &'static [Topic] {
    static ALL: OnceLock<Vec<Topic>> = OnceLock::new();
    ALL.get_or_init(|| {
        TOPICS_TSV
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&'static str> = l.split('\t').collect();
                if f.len() < 7 {
                    return None;
                }
                let opt = |s: &'static str| if s.is_empty() { None } else { Some(s) };
                Some(Topic {
                    code: f[0],
                    parent: opt(f[1]),
                    label_nl: f[2],
                    label_en: f[3],
                    kind: f[4],
                    priority: f[5],
                    signalen_category: opt(f[6]),
                })
            })
            .collect()
    })
}

/// Look a topic up by code.
pub fn get(code: &str) -> Option<&'static Topic> {
    all().iter().find(|t| t.code == code)
}

/// The sub-topics (leaves) the classifier chooses from.
pub fn leaves() -> impl Iterator<Item = &'static Topic> {
    all().iter().filter(|t| t.parent.is_some())
}

/// Group code of a topic code (`afval.container` -> `afval`).
pub fn group_of(code: &str) -> &str {
    code.split('.').next().unwrap_or(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taxonomy_loaded() {
        assert_eq!(all().len(), 68);
        assert_eq!(leaves().count(), 52);
        let t = get("openbare-ruimte.verlichting").unwrap();
        assert_eq!(t.signalen_category, Some("straatverlichting-openbare-klok"));
        assert_eq!(t.parent, Some("openbare-ruimte"));
        assert_eq!(group_of("afval.container"), "afval");
    }
}
