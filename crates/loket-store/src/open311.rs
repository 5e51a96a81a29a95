//! Open311 GeoReport v2 service requests: read back with the state of their conversation.

use crate::{Open311Filter, Open311Row, Result, Store, placeholders, with_pool};

const SELECT: &str = "SELECT r.conversation_id, r.token, r.jurisdiction_id, r.service_code, r.description, r.lat, r.lon,
    r.address, r.address_id, r.zipcode, r.media_url, r.created_at, c.tenant_code, c.state, c.updated_at, c.resolved_at
    FROM open311_requests r JOIN conversations c ON c.id = r.conversation_id";

/// States an Open311 client sees as `closed`.
const CLOSED: &str = "('opgelost', 'gesloten')";

impl Store {
    /// One service request by its id (the conversation id).
    pub async fn open311_request(&self, conversation_id: i64) -> Result<Open311Row> {
        let sql = format!("{SELECT} WHERE r.conversation_id = $1");
        with_pool!(self, p => Ok(sqlx::query_as(&sql).bind(conversation_id).fetch_one(p).await?))
    }

    /// One service request by its token.
    pub async fn open311_by_token(&self, token: &str) -> Result<Open311Row> {
        let sql = format!("{SELECT} WHERE r.token = $1");
        with_pool!(self, p => Ok(sqlx::query_as(&sql).bind(token).fetch_one(p).await?))
    }

    /// Service requests of a jurisdiction (posted to it, or now in it), newest first. With
    /// `ids` only those requests, without the date, code and status filters (as the spec says).
    pub async fn open311_requests(&self, f: &Open311Filter) -> Result<Vec<Open311Row>> {
        let mut sql = format!("{SELECT} WHERE (r.jurisdiction_id = $1 OR c.tenant_code = $1)");
        let mut n = 2;
        if !f.ids.is_empty() {
            sql.push_str(&format!(
                " AND r.conversation_id IN ({})",
                placeholders(n, f.ids.len())
            ));
        } else {
            sql.push_str(&format!(
                " AND r.created_at >= ${} AND r.created_at <= ${}",
                n,
                n + 1
            ));
            n += 2;
            if !f.service_codes.is_empty() {
                sql.push_str(&format!(
                    " AND r.service_code IN ({})",
                    placeholders(n, f.service_codes.len())
                ));
            }
            match f.closed {
                Some(true) => sql.push_str(&format!(" AND c.state IN {CLOSED}")),
                Some(false) => sql.push_str(&format!(" AND c.state NOT IN {CLOSED}")),
                None => {}
            }
        }
        sql.push_str(&format!(
            " ORDER BY r.created_at DESC, r.conversation_id DESC LIMIT {}",
            f.limit.clamp(1, 1000)
        ));
        with_pool!(self, p => {
            let mut q = sqlx::query_as::<_, Open311Row>(&sql).bind(&f.jurisdiction);
            if !f.ids.is_empty() {
                for id in &f.ids {
                    q = q.bind(id);
                }
            } else {
                q = q.bind(f.from).bind(f.until);
                for c in &f.service_codes {
                    q = q.bind(c);
                }
            }
            Ok(q.fetch_all(p).await?)
        })
    }
}
