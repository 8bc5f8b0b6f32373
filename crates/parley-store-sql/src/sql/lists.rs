//! The conversation list statements (the list, its count, its summaries), built for each
//! filter with only the conditions it sets, so each engine's planner can use the
//! conversation indexes (a generic `$n IS NULL OR …` for every condition cannot; at
//! 100,000 conversations that was a full scan per count). Values are numbered in the order
//! they appear in the text (SQLite numbers `$n` by first appearance) and handed back with
//! the text for the engine to bind.

use parley_store::ConversationFilter;

/// A value a statement binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bind {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
}

/// A statement and its values in binding order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The SQL text.
    pub sql: String,
    /// The values of `$1`, `$2`, … in order.
    pub binds: Vec<Bind>,
}

/// Which of the list statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    /// The conversations, newest first.
    List,
    /// How many match.
    Count,
    /// The conversations with what a person tells each apart by (`summaries_parts`).
    Summaries,
}

/// How an engine reaches a conversation's contact (`c`) as `ct`: the join, the
/// contact's address of a channel kind (`{kind}` stands for the kind's SQL expression),
/// its fields as JSON text, and the ids of the organization's contacts a search finds.
/// The engines keep contacts differently (SQLite with compact integer keys, see its
/// migration 0004), so each says its own.
#[derive(Debug, Clone, Copy)]
pub struct ContactJoin {
    /// `JOIN … ct ON …` (and any table it needs).
    pub join: &'static str,
    /// A scalar subquery giving the address of kind `{kind}`.
    pub address: &'static str,
    /// The fields as JSON text.
    pub fields: &'static str,
    /// A subquery of the ids of organization `{org}`'s contacts whose customer id is
    /// `{text}`, or with an address `{address}` (of any kind), or whose name (first and
    /// last name, or the `name` field) in lower case is `LIKE` `{name}` (`\` escapes).
    /// `{address}` and `{name}` may be `NULL` (matching nothing); the name branch must
    /// then cost nothing (guard it with `{name} IS NOT NULL`).
    pub matching: &'static str,
}

/// An engine's conversation list statements.
#[derive(Debug, Clone)]
pub struct ConversationLists {
    contact: ContactJoin,
    /// The summaries' `SELECT …` list.
    summaries_select: String,
    /// What the summaries join to the page of conversations `c`.
    summaries_join: String,
}

/// Numbers values in the order they appear.
struct Params(Vec<Bind>);

impl Params {
    fn add(&mut self, value: Bind) -> String {
        self.0.push(value);
        format!("${}", self.0.len())
    }

    fn text(&mut self, value: impl Into<String>) -> String {
        self.add(Bind::Text(value.into()))
    }
}

impl ConversationLists {
    /// The statements with `contact` as the engine reaches contacts.
    #[must_use]
    pub fn new(contact: ContactJoin) -> Self {
        let (summaries_select, summaries_join) = summaries_parts(&contact);
        Self {
            summaries_select,
            summaries_join,
            contact,
        }
    }

    /// The `kind` statement for `organization`'s conversations matching `filter`, below
    /// the cursor `after` (ids), at most `limit` of them (lists only).
    #[must_use]
    pub fn statement(
        &self,
        kind: ListKind,
        organization: &str,
        filter: &ConversationFilter,
        after: Option<&str>,
        limit: i64,
    ) -> Statement {
        let mut p = Params(Vec::new());
        let org = p.text(organization);
        let mut conditions = vec![format!("c.organization_id = {org}")];
        if let Some(state) = filter.state {
            conditions.push(format!("c.state = {}", p.text(state.as_str())));
        }
        if let Some(queue) = &filter.queue {
            conditions.push(format!("c.queue = {}", p.text(queue.as_str())));
        }
        if let Some(user) = filter.assignee {
            conditions.push(format!("c.assignee = {}", p.text(user.to_string())));
        }
        if let Some(status) = &filter.status {
            conditions.push(format!("c.status = {}", p.text(status.as_str())));
        }
        if let Some(channel) = filter.channel {
            conditions.push(format!("c.channel_id = {}", p.text(channel.to_string())));
        }
        if let Some(contact) = filter.contact {
            conditions.push(format!("c.contact_id = {}", p.text(contact.to_string())));
        }
        if let Some(pattern) = filter.text_pattern() {
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id \
                 AND LOWER(m.body) LIKE {} ESCAPE '\\')",
                p.text(pattern)
            ));
        }
        if let Some(user) = filter.visible_to {
            let user = p.text(user.to_string());
            conditions.push(format!(
                "(c.assignee = {user} OR c.queue IN (SELECT q.queue FROM queue_members q \
                 WHERE q.organization_id = {org} AND q.user_id = {user}))"
            ));
        }
        if filter.open {
            conditions.push("c.state <> 'closed'".to_owned());
        }
        if let Some(after) = after {
            conditions.push(format!("c.id < {}", p.text(after)));
        }
        if let Some(search) = &filter.search {
            let text = p.text(search.text.as_str());
            let address = match &search.address {
                Some(a) => p.text(a.as_str()),
                None => "NULL".to_owned(),
            };
            let name = match search.name_pattern() {
                Some(n) => p.text(n),
                None => "NULL".to_owned(),
            };
            let matching = self
                .contact
                .matching
                .replace("{org}", &org)
                .replace("{text}", &text)
                .replace("{address}", &address)
                .replace("{name}", &name);
            conditions.push(format!("c.contact_id IN ({matching})"));
        }
        let filter = conditions.join(" AND ");
        let sql = match kind {
            ListKind::Count => format!("SELECT COUNT(*) FROM conversations c WHERE {filter}"),
            ListKind::List => format!(
                "SELECT * FROM conversations c WHERE {filter} ORDER BY c.id DESC LIMIT {}",
                p.add(Bind::Int(limit))
            ),
            // The page is chosen first and only its rows are joined: a join before the
            // limit would look up every match's contact and last message before sorting.
            ListKind::Summaries => format!(
                "{} FROM (SELECT * FROM conversations c WHERE {filter} ORDER BY c.id DESC \
                 LIMIT {}) c {} ORDER BY c.id DESC",
                self.summaries_select,
                p.add(Bind::Int(limit)),
                self.summaries_join,
            ),
        };
        Statement { sql, binds: p.0 }
    }
}

/// The summaries' `SELECT` list and joins (no parameters): each conversation with its
/// contact's customer id and fields, the contact's address on the channel's kind, the
/// channel's provider and name, the assignee's name, and the last message (its first 200
/// characters).
fn summaries_parts(contact: &ContactJoin) -> (String, String) {
    // The address kind of each provider, from the domain's own mapping.
    let cases: String = parley_domain::Provider::ALL
        .iter()
        .map(|p| {
            format!(
                " WHEN '{}' THEN '{}'",
                p.as_str(),
                p.address_kind().as_str()
            )
        })
        .collect();
    let kind = format!("CASE ch.provider{cases} END");
    let address = contact.address.replace("{kind}", &kind);
    let select = format!(
        "SELECT c.*, ct.customer_id AS contact_customer_id, {fields} AS contact_fields, \
         ch.provider AS channel_provider, ch.name AS channel_name, u.name AS assignee_name, \
         {address} AS contact_address, \
         lm.direction AS last_direction, lm.sender AS last_sender, \
         SUBSTR(lm.body, 1, 200) AS last_body, lm.created_at AS last_at",
        fields = contact.fields,
    );
    let join = format!(
        "{join} JOIN channels ch ON ch.id = c.channel_id \
         LEFT JOIN users u ON u.id = c.assignee \
         LEFT JOIN messages lm ON lm.id = (SELECT m.id FROM messages m \
          WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1)",
        join = contact.join,
    );
    (select, join)
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_store::ContactSearch;

    const JOIN: ContactJoin = ContactJoin {
        join: "JOIN contacts ct ON ct.id = c.contact_id",
        address: "NULL",
        fields: "ct.fields",
        matching: "SELECT id FROM contacts WHERE organization_id = {org} AND \
                   (customer_id = {text} OR id IN (SELECT contact_id FROM contact_addresses \
                   WHERE address = {address}) OR ({name} IS NOT NULL AND name LIKE {name}))",
    };

    #[test]
    fn only_the_conditions_set_are_written_and_numbered_in_order() {
        let lists = ConversationLists::new(JOIN);
        let plain = lists.statement(
            ListKind::Count,
            "org_1",
            &ConversationFilter::default(),
            None,
            50,
        );
        assert_eq!(
            plain.sql,
            "SELECT COUNT(*) FROM conversations c WHERE c.organization_id = $1"
        );
        assert_eq!(plain.binds, [Bind::Text("org_1".into())]);
        let filter = ConversationFilter {
            queue: Some("collections".into()),
            open: true,
            search: Some(ContactSearch {
                text: "Ann".into(),
                address: None,
                in_names: true,
            }),
            ..ConversationFilter::default()
        };
        let listed = lists.statement(ListKind::List, "org_1", &filter, Some("conv_9"), 51);
        assert_eq!(
            listed.sql,
            "SELECT * FROM conversations c WHERE c.organization_id = $1 AND c.queue = $2 \
             AND c.state <> 'closed' AND c.id < $3 AND c.contact_id IN (SELECT id FROM \
             contacts WHERE organization_id = $1 AND (customer_id = $4 OR id IN (SELECT \
             contact_id FROM contact_addresses WHERE address = NULL) OR ($5 IS NOT NULL AND \
             name LIKE $5))) ORDER BY c.id DESC LIMIT $6"
        );
        assert_eq!(
            listed.binds,
            [
                Bind::Text("org_1".into()),
                Bind::Text("collections".into()),
                Bind::Text("conv_9".into()),
                Bind::Text("Ann".into()),
                Bind::Text("%ann%".into()),
                Bind::Int(51),
            ]
        );
        // Every `$n` appears first in the order of its number (SQLite's numbering).
        let mut seen = 0;
        for part in listed.sql.split('$').skip(1) {
            let n: usize = part
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .unwrap();
            assert!(n <= seen + 1, "${n} before ${}", seen + 1);
            seen = seen.max(n);
        }
    }
}
