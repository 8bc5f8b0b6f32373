//! A `fetch` step's request to the custom value endpoint, and its answer as the flow
//! reads it (a field answered `null` is an empty value).

use serde_json::Value;

use super::FetchJob;
use crate::conversations::turn::address_of;
use crate::{App, AppError};
use parley_domain::ChannelKind;

impl App {
    /// Asks the custom value endpoint for a fetch step's fields; `Err(why)` is the
    /// flow's failure branch, an `AppError` a fault to retry.
    pub(super) async fn fetch_for(
        &self,
        job: &FetchJob,
    ) -> Result<Result<std::collections::BTreeMap<String, String>, String>, AppError> {
        let Some(c) = self
            .store
            .get_conversation(job.organization, job.conversation)
            .await?
        else {
            return Ok(Err("the conversation is gone".to_owned()));
        };
        let contact = self.event_contact(&c).await?;
        let kind = self
            .store
            .find_channel(job.organization, c.channel_id)
            .await?
            .map_or(ChannelKind::Sms, |ch| ch.provider.address_kind());
        let request = crate::webhooks::custom_values::ValueRequest {
            customer_id: contact.customer_id.clone(),
            channel_id: address_of(&contact, kind),
            fields: job.fields.clone(),
        };
        let answer = self
            .fetch_custom_values(job.organization, &request)
            .await?
            .map_err(|failure| failure.to_string());
        Ok(answer.map(|fetched| {
            let mut values: std::collections::BTreeMap<String, String> = fetched
                .values
                .into_iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, text)
                })
                .collect();
            // A good answer holds every field; one answered `null` has no value, which is
            // an empty value to the flow (it goes on), not a failure.
            for field in &job.fields {
                values.entry(field.clone()).or_default();
            }
            values
        }))
    }
}
