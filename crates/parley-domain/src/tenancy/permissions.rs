//! The roles of SPEC §1 and the permission matrix, written once as data.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::ValueError;

/// A role held on an organization; it applies to that organization and its descendants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read-only access to conversations, contacts, campaigns and flows.
    Viewer,
    /// Works conversations in their own queues.
    Agent,
    /// Runs the operation: conversations, contacts, campaigns, flows.
    Supervisor,
    /// Everything but retention and erasure.
    Admin,
    /// Everything.
    Owner,
}

impl Role {
    /// Every role, least powerful first.
    pub const ALL: [Role; 5] = [
        Role::Viewer,
        Role::Agent,
        Role::Supervisor,
        Role::Admin,
        Role::Owner,
    ];

    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// The permission matrix of SPEC §1.
    #[must_use]
    pub fn permissions(self) -> PermissionSet {
        use Permission as P;
        let list: &[Permission] = match self {
            Role::Owner => &Permission::ALL,
            Role::Admin => &[
                P::ConversationsRead,
                P::ConversationsReadOwnQueues,
                P::ConversationsWrite,
                P::ContactsRead,
                P::ContactsWrite,
                P::CampaignsRead,
                P::CampaignsWrite,
                P::Administer,
            ],
            Role::Supervisor => &[
                P::ConversationsRead,
                P::ConversationsReadOwnQueues,
                P::ConversationsWrite,
                P::ContactsRead,
                P::ContactsWrite,
                P::CampaignsRead,
                P::CampaignsWrite,
            ],
            Role::Agent => &[
                P::ConversationsReadOwnQueues,
                P::ConversationsWrite,
                P::ContactsRead,
            ],
            Role::Viewer => &[
                P::ConversationsRead,
                P::ConversationsReadOwnQueues,
                P::ContactsRead,
                P::CampaignsRead,
            ],
        };
        PermissionSet::from_slice(list)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                ValueError::new("role", "one of viewer, agent, supervisor, admin, owner")
            })
    }
}

/// One thing a principal may do. Columns of the SPEC §1 table, split into read and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    /// Read every conversation.
    #[serde(rename = "conversations:read")]
    ConversationsRead,
    /// Read conversations of one's own queues.
    #[serde(rename = "conversations:read_own_queues")]
    ConversationsReadOwnQueues,
    /// Reply, assign, add notes, set statuses.
    #[serde(rename = "conversations:write")]
    ConversationsWrite,
    /// Read contacts and imports.
    #[serde(rename = "contacts:read")]
    ContactsRead,
    /// Change contacts, run imports.
    #[serde(rename = "contacts:write")]
    ContactsWrite,
    /// Read campaigns and flows.
    #[serde(rename = "campaigns:read")]
    CampaignsRead,
    /// Change campaigns and flows.
    #[serde(rename = "campaigns:write")]
    CampaignsWrite,
    /// Webhooks, channels, API keys, users, sub-organizations, the audit log.
    #[serde(rename = "admin")]
    Administer,
    /// Retention settings and erasure.
    #[serde(rename = "retention")]
    Retention,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 9] = [
        Permission::ConversationsRead,
        Permission::ConversationsReadOwnQueues,
        Permission::ConversationsWrite,
        Permission::ContactsRead,
        Permission::ContactsWrite,
        Permission::CampaignsRead,
        Permission::CampaignsWrite,
        Permission::Administer,
        Permission::Retention,
    ];

    const fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of permissions, stored as a small bit set and serialised as a list of names.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermissionSet(u16);

impl PermissionSet {
    /// The set holding exactly `list`.
    #[must_use]
    pub fn from_slice(list: &[Permission]) -> Self {
        Self(list.iter().fold(0, |acc, p| acc | p.bit()))
    }

    /// True when `p` is in the set.
    #[must_use]
    pub const fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// True when every permission of `self` is also in `other`.
    #[must_use]
    pub const fn is_subset_of(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The permissions, in the order of [`Permission::ALL`].
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }

    /// The compact form stored by the engines.
    #[must_use]
    pub const fn bits(self) -> i64 {
        self.0 as i64
    }

    /// Reads the compact form; unknown bits are dropped rather than granted.
    #[must_use]
    pub fn from_bits(bits: i64) -> Self {
        let known = PermissionSet::from_slice(&Permission::ALL).0;
        Self((bits as u16) & known)
    }
}

impl fmt::Debug for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for PermissionSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for PermissionSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(PermissionSet::from_slice(&Vec::<Permission>::deserialize(
            d,
        )?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_matches_spec_table() {
        use Permission as P;
        let can = |r: Role, p: P| r.permissions().contains(p);
        assert!(Permission::ALL.iter().all(|p| can(Role::Owner, *p)));
        assert!(!can(Role::Admin, P::Retention) && can(Role::Admin, P::Administer));
        assert!(!can(Role::Supervisor, P::Administer) && can(Role::Supervisor, P::CampaignsWrite));
        assert!(
            !can(Role::Agent, P::ConversationsRead)
                && can(Role::Agent, P::ConversationsReadOwnQueues)
        );
        assert!(can(Role::Agent, P::ConversationsWrite) && !can(Role::Agent, P::ContactsWrite));
        assert!(!can(Role::Agent, P::CampaignsRead));
        assert!(can(Role::Viewer, P::CampaignsRead) && !can(Role::Viewer, P::ConversationsWrite));
    }

    #[test]
    fn roles_are_ordered_by_power_and_nest() {
        for pair in Role::ALL.windows(2) {
            assert!(pair[0] < pair[1]);
        }
        assert!(
            Role::Supervisor
                .permissions()
                .is_subset_of(Role::Admin.permissions())
        );
        assert!(
            Role::Admin
                .permissions()
                .is_subset_of(Role::Owner.permissions())
        );
        assert!(
            !Role::Owner
                .permissions()
                .is_subset_of(Role::Admin.permissions())
        );
    }

    #[test]
    fn permission_sets_serialise_as_names_and_round_trip_bits() {
        let set = Role::Agent.permissions();
        let json = serde_json::to_string(&set).expect("serialise");
        assert_eq!(
            json,
            r#"["conversations:read_own_queues","conversations:write","contacts:read"]"#
        );
        assert_eq!(
            serde_json::from_str::<PermissionSet>(&json).expect("parse"),
            set
        );
        assert_eq!(PermissionSet::from_bits(set.bits()), set);
        assert_eq!(PermissionSet::from_bits(-1), Role::Owner.permissions());
    }
}
