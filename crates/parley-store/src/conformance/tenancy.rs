//! Conformance: organizations, bootstrap, users and memberships.

use parley_domain::{AuditAction, Membership, OrganizationPatch, Role};

use super::fixtures::{at, audit, create_org, new_key, new_org, new_user, t0};
use crate::{Bootstrap, PageRequest, Store, StoreError};

pub async fn bootstrap_runs_once_and_writes_everything(s: &dyn Store) {
    assert_eq!(s.count_organizations().await.unwrap(), 0);
    let org = new_org("Acme", None);
    let owner = new_user("Owner");
    let key = new_key(org.id, Role::Owner.permissions());
    let bootstrap = Bootstrap {
        organization: org.clone(),
        owner: owner.clone(),
        role: Role::Owner,
        api_key: key.clone(),
        audit: vec![
            audit(Some(org.id), AuditAction::OrganizationCreated, 0),
            audit(Some(org.id), AuditAction::ApiKeyCreated, 0),
        ],
    };
    assert!(s.bootstrap(bootstrap.clone()).await.unwrap());
    let again = Bootstrap {
        organization: new_org("Other", None),
        owner: new_user("Other"),
        ..bootstrap
    };
    assert!(
        !s.bootstrap(again).await.unwrap(),
        "a second bootstrap must do nothing"
    );
    assert_eq!(s.count_organizations().await.unwrap(), 1);
    assert_eq!(s.get_organization(org.id).await.unwrap().name, "Acme");
    let creds = s.find_user_by_email(&owner.email).await.unwrap().unwrap();
    assert_eq!(creds.password_hash, owner.password_hash);
    let m = s.find_membership(owner.id, org.id).await.unwrap().unwrap();
    assert_eq!(m.role, Role::Owner);
    assert_eq!(
        s.find_api_key(key.key.id)
            .await
            .unwrap()
            .unwrap()
            .secret_hash,
        key.secret_hash
    );
    assert_eq!(
        s.list_audit(
            org.id,
            &crate::AuditFilter::default(),
            PageRequest::first(10)
        )
        .await
        .unwrap()
        .items
        .len(),
        2
    );
}

pub async fn organizations_form_a_tree(s: &dyn Store) {
    let root = create_org(s, "Root", None).await;
    let a = create_org(s, "A", Some(root.id)).await;
    let a1 = create_org(s, "A1", Some(a.id)).await;
    let b = create_org(s, "B", Some(root.id)).await;
    assert!(root.ancestors.is_empty() && root.parent_id.is_none());
    assert_eq!(a1.ancestors, vec![root.id, a.id]);
    assert_eq!(a1.parent_id, Some(a.id));
    assert!(a1.is_within(root.id) && a1.is_within(a.id) && !a1.is_within(b.id));
    assert!(!root.is_within(a.id), "roles never apply upward");
    let fetched = s.get_organization(a1.id).await.unwrap();
    assert_eq!(fetched, a1);
    assert_eq!(fetched.default_country.as_str(), "IE");
    let ids = |p: crate::Page<parley_domain::Organization>| {
        p.items.into_iter().map(|o| o.id).collect::<Vec<_>>()
    };
    let mut all = vec![root.id, a.id, a1.id, b.id];
    all.sort();
    assert_eq!(
        ids(s
            .list_organizations(root.id, PageRequest::first(50))
            .await
            .unwrap()),
        all
    );
    assert_eq!(
        ids(s
            .list_organizations(a.id, PageRequest::first(50))
            .await
            .unwrap()),
        vec![a.id, a1.id]
    );
    assert_eq!(
        ids(s
            .list_organizations(b.id, PageRequest::first(50))
            .await
            .unwrap()),
        vec![b.id]
    );
    assert!(matches!(
        s.get_organization(new_org("ghost", None).id).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn root_organizations_are_listed_alone(s: &dyn Store) {
    let root = create_org(s, "Root", None).await;
    create_org(s, "Child", Some(root.id)).await;
    let other = create_org(s, "Other root", None).await;
    let roots = s
        .list_root_organizations(PageRequest::first(1))
        .await
        .unwrap();
    let more = s
        .list_root_organizations(PageRequest::after(roots.next_cursor.clone().unwrap(), 5))
        .await
        .unwrap();
    let mut want = vec![root.id, other.id];
    want.sort();
    assert_eq!(
        roots
            .items
            .iter()
            .chain(&more.items)
            .map(|o| o.id)
            .collect::<Vec<_>>(),
        want,
        "only roots"
    );
    assert!(more.next_cursor.is_none());
}

pub async fn organization_with_missing_parent_is_not_found(s: &dyn Store) {
    let orphan = new_org("Orphan", Some(new_org("ghost", None).id));
    let id = orphan.id;
    let result = s
        .create_organization(orphan, audit(None, AuditAction::OrganizationCreated, 0))
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
    assert!(matches!(
        s.get_organization(id).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.count_organizations().await.unwrap(),
        0,
        "nothing half-written"
    );
}

pub async fn organization_update_patches_and_audits(s: &dyn Store) {
    let org = create_org(s, "Before", None).await;
    let weekdays = parley_domain::ContactHours {
        days: vec!["mon".into(), "fri".into()],
        opens: "09:30".into(),
        closes: "17:00".into(),
    };
    let patch = OrganizationPatch {
        name: Some("After".into()),
        timezone: Some("Europe/London".parse().unwrap()),
        locale: Some(parley_domain::DateOrder::Mdy),
        help_text: parley_domain::Patch::Set("Call 0800 000 000".into()),
        contact_hours: Some(weekdays.clone()),
        ..OrganizationPatch::default()
    };
    let updated = s
        .update_organization(
            org.id,
            patch,
            at(60),
            audit(Some(org.id), AuditAction::OrganizationUpdated, 60),
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "After");
    assert_eq!(updated.timezone.as_str(), "Europe/London");
    assert_eq!(updated.locale, parley_domain::DateOrder::Mdy);
    assert_eq!(updated.help_text.as_deref(), Some("Call 0800 000 000"));
    assert_eq!(updated.contact_hours, weekdays);
    assert_eq!(updated.region, org.region, "absent fields are kept");
    assert_eq!(org.contact_hours, parley_domain::ContactHours::default());
    let cleared = s
        .update_organization(
            org.id,
            OrganizationPatch {
                help_text: parley_domain::Patch::Clear,
                ..OrganizationPatch::default()
            },
            at(61),
            audit(Some(org.id), AuditAction::OrganizationUpdated, 61),
        )
        .await
        .unwrap();
    assert_eq!(cleared.help_text, None, "the help text is cleared");
    assert_eq!(cleared.contact_hours, weekdays, "kept when absent");
    let updated = s
        .update_organization(
            org.id,
            OrganizationPatch {
                help_text: parley_domain::Patch::Set("Call 0800 000 000".into()),
                ..OrganizationPatch::default()
            },
            at(60),
            audit(Some(org.id), AuditAction::OrganizationUpdated, 60),
        )
        .await
        .unwrap();
    assert_eq!(updated.created_at, t0());
    assert_eq!(updated.updated_at, at(60));
    assert_eq!(s.get_organization(org.id).await.unwrap(), updated);
    let log = s
        .list_audit(
            org.id,
            &crate::AuditFilter::default(),
            PageRequest::first(10),
        )
        .await
        .unwrap();
    assert_eq!(log.items[0].action, AuditAction::OrganizationUpdated);
    let missing = s
        .update_organization(
            new_org("x", None).id,
            OrganizationPatch::default(),
            at(1),
            audit(None, AuditAction::OrganizationUpdated, 1),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
}

pub async fn organizations_paginate_by_cursor(s: &dyn Store) {
    let root = create_org(s, "Root", None).await;
    for i in 0..6 {
        create_org(s, &format!("child {i}"), Some(root.id)).await;
    }
    let mut seen = Vec::new();
    let mut page = s
        .list_organizations(root.id, PageRequest::first(3))
        .await
        .unwrap();
    loop {
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|o| o.id));
        let Some(cursor) = page.next_cursor.clone() else {
            break;
        };
        page = s
            .list_organizations(root.id, PageRequest::after(cursor, 3))
            .await
            .unwrap();
    }
    assert_eq!(seen.len(), 7, "every organization exactly once");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen);
}

pub async fn users_have_unique_emails(s: &dyn Store) {
    let user = new_user("Ann");
    let created = s.create_user(user.clone()).await.unwrap();
    assert_eq!(created.email, user.email);
    assert_eq!(s.get_user(user.id).await.unwrap(), created);
    let mut twin = new_user("Twin");
    twin.email.clone_from(&user.email);
    let twin_id = twin.id;
    assert!(matches!(
        s.create_user(twin).await,
        Err(StoreError::Conflict {
            constraint: "users_email_key"
        })
    ));
    assert!(matches!(
        s.get_user(twin_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        s.find_user_by_email("nobody@example.test")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        s.find_user_by_email(&user.email)
            .await
            .unwrap()
            .unwrap()
            .user,
        created
    );
}

pub async fn memberships_upsert_list_and_remove(s: &dyn Store) {
    let org = create_org(s, "Org", None).await;
    let sub = create_org(s, "Sub", Some(org.id)).await;
    let (ann, bob) = (new_user("Ann"), new_user("Bob"));
    s.create_user(ann.clone()).await.unwrap();
    s.create_user(bob.clone()).await.unwrap();
    let membership = |user, org, role, secs| Membership {
        user_id: user,
        organization_id: org,
        role,
        created_at: at(secs),
        updated_at: at(secs),
    };
    s.set_membership(
        membership(ann.id, org.id, Role::Agent, 0),
        audit(Some(org.id), AuditAction::RoleChanged, 0),
    )
    .await
    .unwrap();
    let changed = s
        .set_membership(
            membership(ann.id, org.id, Role::Admin, 30),
            audit(Some(org.id), AuditAction::RoleChanged, 30),
        )
        .await
        .unwrap();
    assert_eq!(changed.role, Role::Admin);
    assert_eq!(
        changed.created_at,
        at(0),
        "a role change keeps the membership's creation time"
    );
    assert_eq!(changed.updated_at, at(30));
    s.set_membership(
        membership(bob.id, org.id, Role::Viewer, 0),
        audit(Some(org.id), AuditAction::RoleChanged, 0),
    )
    .await
    .unwrap();
    s.set_membership(
        membership(ann.id, sub.id, Role::Agent, 0),
        audit(Some(sub.id), AuditAction::RoleChanged, 0),
    )
    .await
    .unwrap();
    let members = s.list_members(org.id, PageRequest::first(1)).await.unwrap();
    assert_eq!(members.items.len(), 1);
    let rest = s
        .list_members(
            org.id,
            PageRequest::after(members.next_cursor.clone().unwrap(), 10),
        )
        .await
        .unwrap();
    let mut both: Vec<_> = members
        .items
        .iter()
        .chain(&rest.items)
        .map(|m| (m.user.id, m.membership.role))
        .collect();
    both.sort();
    let mut expected = vec![(ann.id, Role::Admin), (bob.id, Role::Viewer)];
    expected.sort();
    assert_eq!(both, expected);
    assert_eq!(s.list_memberships_of_user(ann.id).await.unwrap().len(), 2);
    let ghost = membership(new_user("Ghost").id, org.id, Role::Agent, 0);
    assert!(matches!(
        s.set_membership(ghost, audit(None, AuditAction::RoleChanged, 0))
            .await,
        Err(StoreError::NotFound)
    ));
    s.remove_membership(
        bob.id,
        org.id,
        audit(Some(org.id), AuditAction::MemberRemoved, 40),
    )
    .await
    .unwrap();
    assert!(s.find_membership(bob.id, org.id).await.unwrap().is_none());
    let again = s
        .remove_membership(
            bob.id,
            org.id,
            audit(Some(org.id), AuditAction::MemberRemoved, 41),
        )
        .await;
    assert!(matches!(again, Err(StoreError::NotFound)));
    let actions: Vec<_> = s
        .list_audit(
            org.id,
            &crate::AuditFilter::default(),
            PageRequest::first(50),
        )
        .await
        .unwrap()
        .items
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == AuditAction::RoleChanged)
            .count(),
        3
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == AuditAction::MemberRemoved)
            .count(),
        1,
        "the failed removal wrote no audit row"
    );
}

fn invitation(
    org: parley_domain::OrgId,
    email: &str,
    role: Role,
    secs: i64,
) -> parley_domain::Invitation {
    parley_domain::Invitation {
        id: parley_domain::InvitationId::generate(),
        organization_id: org,
        email: email.to_owned(),
        role,
        invited_by: "cli".to_owned(),
        created_at: at(secs),
        expires_at: at(secs + 3600),
        accepted_at: None,
        accepted_by: None,
        revoked_at: None,
    }
}

pub async fn invitations_are_pending_until_used_once(s: &dyn Store) {
    use parley_domain::InvitationState;

    use crate::AcceptInvitation;
    let org = create_org(s, "Acme", None).await;
    let other = create_org(s, "Other", None).await;

    // A new account by invitation: user, membership and the invitation used, together.
    let first = invitation(org.id, "new@example.test", Role::Agent, 0);
    s.create_invitation(
        first.clone(),
        "hash-1".into(),
        audit(Some(org.id), AuditAction::InvitationCreated, 0),
    )
    .await
    .unwrap();
    // Inviting the same email again replaces the first link.
    let second = invitation(org.id, "new@example.test", Role::Supervisor, 10);
    s.create_invitation(
        second.clone(),
        "hash-2".into(),
        audit(Some(org.id), AuditAction::InvitationCreated, 10),
    )
    .await
    .unwrap();
    let replaced = s.find_invitation_by_token("hash-1").await.unwrap().unwrap();
    assert_eq!(replaced.state(at(11)), InvitationState::Revoked);
    assert_eq!(replaced.revoked_at, Some(at(10)));
    let found = s.find_invitation_by_token("hash-2").await.unwrap().unwrap();
    assert_eq!(found, second);
    assert_eq!(found.state(at(11)), InvitationState::Pending);
    assert_eq!(found.state(at(10 + 3600)), InvitationState::Expired);
    assert!(s.find_invitation_by_token("nope").await.unwrap().is_none());

    let user = new_user("New");
    let accept = |inv: &parley_domain::Invitation, user: parley_domain::UserId, new_user, secs| {
        AcceptInvitation {
            invitation: inv.id,
            at: at(secs),
            user,
            new_user,
            role: inv.role,
            organization: inv.organization_id,
            audit: vec![audit(
                Some(inv.organization_id),
                AuditAction::InvitationAccepted,
                secs,
            )],
        }
    };
    // The replaced one can no longer be used.
    assert!(matches!(
        s.accept_invitation(accept(&first, user.id, Some(user.clone()), 20))
            .await,
        Err(StoreError::Conflict {
            constraint: "invitation_not_pending"
        })
    ));
    assert!(
        s.find_user_by_email(&user.email).await.unwrap().is_none(),
        "a refused acceptance creates no account"
    );
    let membership = s
        .accept_invitation(accept(&second, user.id, Some(user.clone()), 20))
        .await
        .unwrap();
    assert_eq!(membership.role, Role::Supervisor);
    assert_eq!(membership.organization_id, org.id);
    assert!(s.find_user_by_email(&user.email).await.unwrap().is_some());
    let used = s.find_invitation_by_token("hash-2").await.unwrap().unwrap();
    assert_eq!(used.state(at(21)), InvitationState::Accepted);
    assert_eq!(used.accepted_by, Some(user.id));
    // Only once.
    assert!(matches!(
        s.accept_invitation(accept(&second, user.id, None, 21))
            .await,
        Err(StoreError::Conflict {
            constraint: "invitation_not_pending"
        })
    ));

    // An existing account joins another organization; a member keeps its role.
    let elsewhere = invitation(other.id, &user.email, Role::Viewer, 30);
    s.create_invitation(
        elsewhere.clone(),
        "hash-3".into(),
        audit(Some(other.id), AuditAction::InvitationCreated, 30),
    )
    .await
    .unwrap();
    let joined = s
        .accept_invitation(accept(&elsewhere, user.id, None, 31))
        .await
        .unwrap();
    assert_eq!(
        (joined.organization_id, joined.role),
        (other.id, Role::Viewer)
    );
    let again = invitation(org.id, &user.email, Role::Owner, 40);
    s.create_invitation(
        again.clone(),
        "hash-4".into(),
        audit(Some(org.id), AuditAction::InvitationCreated, 40),
    )
    .await
    .unwrap();
    let kept = s
        .accept_invitation(accept(&again, user.id, None, 41))
        .await
        .unwrap();
    assert_eq!(
        kept.role,
        Role::Supervisor,
        "an invitation never changes a role"
    );

    // An expired invitation cannot be used.
    let late = invitation(org.id, "late@example.test", Role::Agent, 50);
    s.create_invitation(
        late.clone(),
        "hash-5".into(),
        audit(Some(org.id), AuditAction::InvitationCreated, 50),
    )
    .await
    .unwrap();
    let late_user = new_user("Late");
    assert!(matches!(
        s.accept_invitation(accept(
            &late,
            late_user.id,
            Some(late_user.clone()),
            50 + 3600
        ))
        .await,
        Err(StoreError::Conflict { .. })
    ));

    // Revoking: only a pending one, only in its organization.
    let pending = invitation(org.id, "maybe@example.test", Role::Agent, 60);
    s.create_invitation(
        pending.clone(),
        "hash-6".into(),
        audit(Some(org.id), AuditAction::InvitationCreated, 60),
    )
    .await
    .unwrap();
    assert!(matches!(
        s.revoke_invitation(
            other.id,
            pending.id,
            at(61),
            audit(Some(other.id), AuditAction::InvitationRevoked, 61)
        )
        .await,
        Err(StoreError::NotFound)
    ));
    let revoked = s
        .revoke_invitation(
            org.id,
            pending.id,
            at(61),
            audit(Some(org.id), AuditAction::InvitationRevoked, 61),
        )
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at(61)));
    assert!(matches!(
        s.revoke_invitation(
            org.id,
            second.id,
            at(62),
            audit(Some(org.id), AuditAction::InvitationRevoked, 62)
        )
        .await,
        Err(StoreError::Conflict {
            constraint: "invitation_not_pending"
        })
    ));

    // Listing is per organization, in the order made, by cursor.
    let page = s
        .list_invitations(org.id, PageRequest::first(3))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        [first.id, second.id, again.id]
    );
    let rest = s
        .list_invitations(
            org.id,
            PageRequest::after(page.next_cursor.clone().unwrap(), 3),
        )
        .await
        .unwrap();
    assert_eq!(
        rest.items.iter().map(|i| i.id).collect::<Vec<_>>(),
        [late.id, pending.id]
    );
    let theirs = s
        .list_invitations(other.id, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(theirs.items.len(), 1);
}

/// The first value claimed for an installation fact stays; later claims read it back.
pub async fn installation_facts_are_claimed_once(s: &dyn Store) {
    assert_eq!(s.installation_fact("key_check").await.unwrap(), None);
    assert_eq!(
        s.claim_installation_fact("key_check", "aaaa")
            .await
            .unwrap(),
        "aaaa"
    );
    assert_eq!(
        s.claim_installation_fact("key_check", "bbbb")
            .await
            .unwrap(),
        "aaaa",
        "a second claim must not replace the first"
    );
    assert_eq!(
        s.installation_fact("key_check").await.unwrap().as_deref(),
        Some("aaaa")
    );
    assert_eq!(s.installation_fact("other").await.unwrap(), None);
}
