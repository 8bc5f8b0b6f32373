//! The behaviour suite every engine must pass (HOUSE_STYLE B.5, refinement 5).
//!
//! Each check is an `async fn(&dyn Store)` asserting one behaviour of one port. The
//! [`conformance_suite!`](crate::conformance_suite) macro turns every check into a
//! `#[tokio::test]` for an engine, so the list below is the single place checks are named;
//! `cargo xtask check` verifies every port method is called somewhere in this folder.
//! [`model`] adds a property test: random operation sequences applied to an engine and to
//! an in-memory model must give equal results.

#![allow(missing_docs, clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod fixtures;
pub mod model;

mod access;
mod audit_outbox;
mod campaigns;
mod channels;
mod contacts;
mod conversation_reads;
mod conversations;
mod flows;
mod idempotency;
mod inboxes;
mod jobs;
mod recipients;
mod sealed;
mod tenancy;
mod webhooks;

pub use access::*;
pub use audit_outbox::*;
pub use campaigns::*;
pub use channels::*;
pub use contacts::*;
pub use conversation_reads::*;
pub use conversations::*;
pub use flows::*;
pub use idempotency::*;
pub use inboxes::*;
pub use jobs::*;
pub use recipients::*;
pub use sealed::*;
pub use tenancy::*;
pub use webhooks::*;

/// Declares one `#[tokio::test]` per conformance check. `$store` is an async expression
/// giving `Option<impl Deref<Target = dyn Store>>`; `None` skips (the engine is not
/// configured), and the expression is expected to print why.
#[macro_export]
macro_rules! conformance_suite {
    ($store:expr) => {
        $crate::conformance_suite!(@tests $store;
            bootstrap_runs_once_and_writes_everything,
            organizations_form_a_tree,
            root_organizations_are_listed_alone,
            organization_with_missing_parent_is_not_found,
            organization_update_patches_and_audits,
            organizations_paginate_by_cursor,
            users_have_unique_emails,
            memberships_upsert_list_and_remove,
            invitations_are_pending_until_used_once,
            api_keys_store_hash_and_revoke_once,
            api_keys_are_scoped_to_their_organization,
            sessions_expire_and_end,
            audit_lists_newest_first_per_organization,
            audit_is_filtered_by_actor_action_and_period,
            completing_a_job_writes_its_effects_atomically,
            outbox_dispatch_marks_each_event_once,
            a_conversations_events_are_read_back_in_order,
            appended_events_commit_all_or_none,
            jobs_deduplicate_while_pending_or_running,
            jobs_claim_due_jobs_only_once,
            job_lanes_run_one_job_at_a_time_in_order,
            expired_leases_are_reclaimed_and_fence_the_old_worker,
            failed_jobs_retry_or_give_up,
            job_stats_and_purge,
            canaries_count_runs_per_key,
            idempotency_keys_start_replay_and_mismatch,
            idempotency_keys_expire_and_abandon,
            fields_are_defined_per_organization,
            import_batches_upsert_and_count,
            import_writers_commit_on_finish_and_roll_back_when_dropped,
            import_batches_create_their_new_fields_with_the_first_imported_row,
            contacts_filter_update_and_delete,
            contacts_are_created_whole_or_not_at_all,
            flows_channels_and_campaigns_are_archived_not_deleted,
            flows_keep_drafts_and_number_immutable_versions,
            flows_are_scoped_to_their_organization,
            webhooks_fan_out_to_subscribed_enabled_endpoints_once,
            fan_out_leases_the_deliveries_it_hands_over,
            webhook_deliveries_are_leased_fenced_and_logged,
            webhook_replays_start_a_new_round,
            webhook_endpoints_are_scoped_updated_and_deleted,
            custom_value_endpoints_are_one_per_organization,
            sftp_inboxes_belong_to_sftp_endpoints_of_their_organization,
            sftp_inbox_claims_are_leased_and_polls_recorded,
            channels_are_scoped_updated_and_found_for_callbacks,
            turns_open_continue_and_close_conversations,
            conversations_list_newest_first_by_filters,
            conversation_summaries_name_contact_channel_assignee_and_last_message,
            conversations_are_found_by_their_contact,
            read_marks_move_forward_per_person,
            notes_belong_to_conversations_of_their_organization,
            queue_members_and_waiting_conversations,
            turns_of_one_conversation_never_interleave,
            message_changes_see_their_conversation_and_write_events,
            contact_for_address_finds_or_creates_exactly_one,
            outcome_statuses_are_defined_per_organization,
            queues_are_defined_per_organization,
            canned_replies_are_kept_per_organization,
            campaigns_are_scoped_and_move_only_as_allowed,
            campaign_recipients_come_from_the_audience_and_are_sent_once,
            processes_share_a_campaigns_recipients_and_its_pace,
            ping_answers,
            installation_facts_are_claimed_once,
            sealed_values_are_resealed_wholly_or_not_at_all,
            close_refuses_later_calls,
        );
    };
    (@tests $store:expr; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                if let Some(store) = $store.await {
                    $crate::conformance::$check(&*store).await;
                }
            }
        )*
    };
}
