//! Dutch-aware full-text search over messages, notes and contacts. Stemming and diacritic
//! folding happen in Rust, so SQLite (FTS5) and PostgreSQL (GIN over `simple` tsvector) index
//! the same tokens and give the same answers.

use crate::{Backend, Result, SearchHit, Store, placeholders, with_pool};
use rust_stemmers::{Algorithm, Stemmer};
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

fn stemmer() -> &'static Stemmer {
    static S: OnceLock<Stemmer> = OnceLock::new();
    S.get_or_init(|| Stemmer::create(Algorithm::Dutch))
}

/// Lower-cased, diacritic-free, Snowball-Dutch-stemmed word tokens.
pub fn search_tokens(text: &str) -> Vec<String> {
    let folded: String = text
        .nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .collect::<String>()
        .to_lowercase();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.len() <= 40)
        .map(|w| stemmer().stem(w).into_owned())
        .collect()
}

impl Store {
    /// Searches what `tenants` may see; every query word matches as a prefix so that results
    /// appear while typing.
    pub async fn search(
        &self,
        tenants: &[String],
        query: &str,
        limit: i64,
    ) -> Result<Vec<SearchHit>> {
        let words: Vec<String> = search_tokens(query)
            .into_iter()
            .filter(|w| w.chars().all(|c| c.is_alphanumeric()))
            .take(8)
            .collect();
        if tenants.is_empty() || words.is_empty() {
            return Ok(vec![]);
        }
        let n = tenants.len();
        let (sql, q) = match self.backend() {
            Backend::Sqlite => (
                format!(
                    "SELECT d.kind, d.tenant_code, t.display_name AS tenant_name, d.conversation_id, d.contact_id, d.ref_id, d.snippet FROM search_fts f JOIN search_docs d ON d.id = f.rowid JOIN tenants t ON t.code = d.tenant_code
                     WHERE search_fts MATCH ${} AND d.tenant_code IN ({}) ORDER BY f.rank LIMIT {}",
                    n + 1,
                    placeholders(1, n),
                    limit.clamp(1, 100)
                ),
                words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "),
            ),
            Backend::Postgres => (
                format!(
                    "SELECT d.kind, d.tenant_code, t.display_name AS tenant_name, d.conversation_id, d.contact_id, d.ref_id, d.snippet FROM search_docs d JOIN tenants t ON t.code = d.tenant_code
                     WHERE to_tsvector('simple', d.tokens) @@ to_tsquery('simple', ${}) AND d.tenant_code IN ({})
                     ORDER BY ts_rank(to_tsvector('simple', d.tokens), to_tsquery('simple', ${})) DESC, d.id DESC LIMIT {}",
                    n + 1,
                    placeholders(1, n),
                    n + 1,
                    limit.clamp(1, 100)
                ),
                words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & "),
            ),
        };
        with_pool!(self, p => {
            let mut qq = sqlx::query_as::<_, SearchHit>(&sql);
            for t in tenants { qq = qq.bind(t); }
            Ok(qq.bind(&q).fetch_all(p).await?)
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_stemmed_and_folded() {
        let t = super::search_tokens("Losse stoeptegels bij de Café-ingang!");
        assert!(t.contains(&"stoeptegel".to_string()), "{t:?}");
        assert_eq!(super::search_tokens("cafe"), super::search_tokens("Café"));
    }
}
