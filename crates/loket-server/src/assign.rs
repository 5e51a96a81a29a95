//! Automatic assignment: round-robin among online agents who have room, using the pure rules
//! in `loket_core::assignment`.

use crate::hub::HubEvent;
use crate::state::AppState;
use loket_core::assignment::{AgentLoad, distribute, pick};
use loket_store::conversations::{Actor, Change};

/// Agents who may take conversations of `tenant`: its own agents, plus the agents of its pool
/// while the pool serves it.
async fn candidates(state: &AppState, tenant: &str) -> anyhow::Result<Vec<(AgentLoad, String)>> {
    let mut codes = vec![tenant.to_string()];
    if let Some(t) = state.tenant(tenant)
        && let Some(pool) = &t.pool_code
    {
        let waiting = state.store.waiting_count(tenant).await? as u32;
        if t.settings.handover.pool_serves(t.is_open_now(), waiting) {
            codes.push(pool.clone());
        }
    }
    let users = state.store.tenant_users(&codes).await?;
    let agents: Vec<_> = users
        .into_iter()
        .filter(|(u, ms)| u.online && ms.iter().any(|m| m.role == "agent"))
        .map(|(u, _)| u)
        .collect();
    let ids: Vec<i64> = agents.iter().map(|u| u.id).collect();
    let open: std::collections::HashMap<i64, i64> =
        state.store.open_counts(&ids).await?.into_iter().collect();
    Ok(agents
        .into_iter()
        .map(|u| {
            (
                AgentLoad {
                    user_id: u.id,
                    online: u.online,
                    open: *open.get(&u.id).unwrap_or(&0) as u32,
                    max_open: u.max_open.max(0) as u32,
                    last_assigned_ms: u.last_assigned_at,
                },
                u.name,
            )
        })
        .collect())
}

/// Assigns one new conversation if its tenant wants automatic assignment and someone has room.
pub async fn auto_assign(state: &AppState, conversation_id: i64) -> anyhow::Result<Option<i64>> {
    let c = state.store.conversation_system(conversation_id).await?;
    let Some(t) = state.tenant(&c.tenant_code) else {
        return Ok(None);
    };
    if !t.settings.auto_assign || c.assignee_id.is_some() {
        return Ok(None);
    }
    let mut cands = candidates(state, &c.tenant_code).await?;
    if let Some(team) = c.team_id {
        let members = state.store.team_members(team).await?;
        cands.retain(|(a, _)| members.contains(&a.user_id));
    }
    let loads: Vec<AgentLoad> = cands.iter().map(|(a, _)| a.clone()).collect();
    let Some(user) = pick(&loads) else {
        return Ok(None);
    };
    let name = cands
        .iter()
        .find(|(a, _)| a.user_id == user)
        .map(|(_, n)| n.clone())
        .unwrap_or_default();
    state
        .store
        .change(
            conversation_id,
            std::slice::from_ref(&c.tenant_code),
            None,
            &Actor::system(),
            &Change::Assign(Some((user, name))),
        )
        .await?;
    state.hub.publish(HubEvent::Conversation {
        tenant: c.tenant_code,
        conversation_id,
        change: "updated".into(),
        previous_tenant: None,
    });
    Ok(Some(user))
}

/// When an agent comes online, hands them (and their online colleagues) the waiting backlog of
/// the tenants they work for.
pub async fn distribute_backlog(state: &AppState, tenants: &[String]) -> anyhow::Result<usize> {
    let mut n = 0;
    for tenant in tenants {
        let Some(t) = state.tenant(tenant) else {
            continue;
        };
        if !t.settings.auto_assign {
            continue;
        }
        let backlog = state
            .store
            .unassigned_backlog(std::slice::from_ref(tenant), None, 200)
            .await?;
        if backlog.is_empty() {
            continue;
        }
        let cands = candidates(state, tenant).await?;
        let loads: Vec<AgentLoad> = cands.iter().map(|(a, _)| a.clone()).collect();
        for (conv, user) in distribute(&backlog, &loads, loket_store::now_ms()) {
            let name = cands
                .iter()
                .find(|(a, _)| a.user_id == user)
                .map(|(_, n)| n.clone())
                .unwrap_or_default();
            if state
                .store
                .change(
                    conv,
                    std::slice::from_ref(tenant),
                    None,
                    &Actor::system(),
                    &Change::Assign(Some((user, name))),
                )
                .await
                .is_ok()
            {
                state.hub.publish(HubEvent::Conversation {
                    tenant: tenant.clone(),
                    conversation_id: conv,
                    change: "updated".into(),
                    previous_tenant: None,
                });
                n += 1;
            }
        }
    }
    Ok(n)
}
