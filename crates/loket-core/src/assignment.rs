//! Automatic assignment: round-robin among the online agents of a team, never beyond an
//! agent's maximum of open conversations.

use serde::{Deserialize, Serialize};

/// What the assignment rule needs to know about one agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLoad {
    pub user_id: i64,
    pub online: bool,
    /// Active conversations assigned to the agent now.
    pub open: u32,
    pub max_open: u32,
    /// When the agent last received a conversation (ms since the epoch).
    pub last_assigned_ms: Option<i64>,
}

impl AgentLoad {
    /// Online and below capacity.
    pub fn can_take(&self) -> bool {
        self.online && self.open < self.max_open
    }
}

/// The agent who should get the next conversation: among agents that can take one, the one
/// assigned longest ago (never-assigned first), then the fewest open, then the lowest id —
/// round-robin that respects capacity and is deterministic.
pub fn pick(agents: &[AgentLoad]) -> Option<i64> {
    agents
        .iter()
        .filter(|a| a.can_take())
        .min_by_key(|a| (a.last_assigned_ms, a.open, a.user_id))
        .map(|a| a.user_id)
}

/// Assigns a waiting backlog (conversation ids, oldest first) in one go, e.g. when an agent
/// comes online. Loads are updated as it goes; it stops when nobody has capacity left.
///
/// Every assignment in the batch is stamped `now_ms`, so after each agent has had its turn
/// the ties go to the agent with the fewest open conversations: the batch evens out load
/// instead of piling onto whoever was idle longest.
pub fn distribute(backlog: &[i64], agents: &[AgentLoad], now_ms: i64) -> Vec<(i64, i64)> {
    let mut loads = agents.to_vec();
    let mut out = Vec::with_capacity(backlog.len());
    for &conversation in backlog {
        let Some(user) = pick(&loads) else { break };
        for a in loads.iter_mut().filter(|a| a.user_id == user) {
            a.open += 1;
            a.last_assigned_ms = Some(now_ms);
        }
        out.push((conversation, user));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn agent(user_id: i64, online: bool, open: u32, max_open: u32, last: Option<i64>) -> AgentLoad {
        AgentLoad {
            user_id,
            online,
            open,
            max_open,
            last_assigned_ms: last,
        }
    }

    #[test]
    fn pick_prefers_longest_idle() {
        let agents = [
            agent(1, true, 0, 5, Some(300)),
            agent(2, true, 3, 5, Some(100)),
            agent(3, true, 0, 5, Some(200)),
        ];
        assert_eq!(pick(&agents), Some(2));
    }

    #[test]
    fn pick_never_assigned_first_then_fewest_open_then_lowest_id() {
        let agents = [
            agent(5, true, 2, 5, None),
            agent(4, true, 1, 5, None),
            agent(3, true, 1, 5, None),
            agent(1, true, 0, 5, Some(1)),
        ];
        assert_eq!(pick(&agents), Some(3));
    }

    #[test]
    fn pick_skips_offline_and_full() {
        let agents = [
            agent(1, false, 0, 5, None),
            agent(2, true, 5, 5, None),
            agent(3, true, 4, 5, Some(10)),
        ];
        assert_eq!(pick(&agents), Some(3));
        assert_eq!(pick(&agents[..2]), None);
        assert_eq!(pick(&[]), None);
        // A maximum of zero means the agent takes nothing automatically.
        assert_eq!(pick(&[agent(9, true, 0, 0, None)]), None);
    }

    #[test]
    fn distribute_round_robin_and_capacity() {
        let agents = [
            agent(1, true, 0, 2, Some(50)),
            agent(2, true, 0, 1, None),
            agent(3, false, 0, 9, None),
        ];
        let got = distribute(&[10, 11, 12, 13], &agents, 1_000);
        // 2 has never had one, then 1; then only 1 has room; 13 stays waiting.
        assert_eq!(got, vec![(10, 2), (11, 1), (12, 1)]);
    }

    #[test]
    fn distribute_when_agent_comes_online() {
        // Agent 7 just came online with nothing; agent 8 is busy but has room.
        let agents = [
            agent(7, true, 0, 3, Some(900)),
            agent(8, true, 2, 3, Some(100)),
        ];
        let got = distribute(&[1, 2, 3, 4], &agents, 1_000);
        assert_eq!(got, vec![(1, 8), (2, 7), (3, 7), (4, 7)]);
    }

    #[test]
    fn distribute_empty_inputs() {
        assert!(distribute(&[], &[agent(1, true, 0, 5, None)], 0).is_empty());
        assert!(distribute(&[1, 2], &[], 0).is_empty());
    }

    fn agents_strategy() -> impl Strategy<Value = Vec<AgentLoad>> {
        prop::collection::vec(
            (
                any::<bool>(),
                0u32..6,
                0u32..6,
                prop::option::of(0i64..1_000),
            ),
            0..8,
        )
        .prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (online, open, max_open, last))| {
                    agent(i as i64 + 1, online, open, max_open, last)
                })
                .collect()
        })
    }

    fn counts(assigned: &[(i64, i64)]) -> HashMap<i64, u32> {
        let mut m = HashMap::new();
        for (_, u) in assigned {
            *m.entry(*u).or_insert(0) += 1;
        }
        m
    }

    proptest! {
        #[test]
        fn never_exceeds_capacity_nor_assigns_offline(
            agents in agents_strategy(),
            n in 0usize..40,
        ) {
            let backlog: Vec<i64> = (100..100 + n as i64).collect();
            let got = distribute(&backlog, &agents, 5_000);
            let c = counts(&got);
            for a in &agents {
                let received = c.get(&a.user_id).copied().unwrap_or(0);
                if !a.online {
                    prop_assert_eq!(received, 0);
                }
                if received > 0 {
                    prop_assert!(a.open + received <= a.max_open);
                }
            }
            // Oldest first, each conversation at most once.
            let order: Vec<i64> = got.iter().map(|(c, _)| *c).collect();
            prop_assert_eq!(&order[..], &backlog[..got.len()]);
            // Either the backlog is done or nobody has room left.
            let free: u32 = agents.iter().filter(|a| a.online)
                .map(|a| a.max_open.saturating_sub(a.open)).sum();
            prop_assert_eq!(got.len(), n.min(free as usize));
        }

        #[test]
        fn spreads_evenly(agents in agents_strategy(), n in 0usize..40) {
            let backlog: Vec<i64> = (0..n as i64).collect();
            let got = distribute(&backlog, &agents, 5_000);
            let c = counts(&got);
            let fin = |a: &AgentLoad| a.open + c.get(&a.user_id).copied().unwrap_or(0);
            // An agent that got a second conversation in the batch was, at that moment, the
            // least loaded of those with room: nobody with room left ends more than one
            // below it.
            for x in agents.iter().filter(|a| c.get(&a.user_id).copied().unwrap_or(0) >= 2) {
                for y in agents.iter().filter(|a| a.can_take() && fin(a) < a.max_open) {
                    prop_assert!(fin(y) + 1 >= fin(x), "{:?} vs {:?}", x, y);
                }
            }
        }

        #[test]
        fn equal_agents_get_equal_shares(k in 1usize..8, n in 0usize..50) {
            let agents: Vec<AgentLoad> =
                (0..k).map(|i| agent(i as i64, true, 0, 100, None)).collect();
            let backlog: Vec<i64> = (0..n as i64).collect();
            let c = counts(&distribute(&backlog, &agents, 0));
            let shares: Vec<u32> = (0..k as i64).map(|u| c.get(&u).copied().unwrap_or(0)).collect();
            let (min, max) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
            prop_assert!(max - min <= 1, "{:?}", shares);
        }

        #[test]
        fn pick_is_an_eligible_agent(agents in agents_strategy()) {
            match pick(&agents) {
                Some(u) => {
                    let a = agents.iter().find(|a| a.user_id == u).unwrap();
                    prop_assert!(a.can_take());
                    for b in agents.iter().filter(|b| b.can_take()) {
                        prop_assert!(a.last_assigned_ms <= b.last_assigned_ms);
                    }
                }
                None => prop_assert!(agents.iter().all(|a| !a.can_take())),
            }
        }
    }
}
