//! At start: the subscriptions of the config file are stored (new or changed ones start a
//! handshake), those removed from the file are deleted, and handshakes a stop interrupted
//! start again.

use std::collections::HashSet;

use super::handshake::new_validation;
use super::subscription::SubscriptionSpec;
use crate::clock;
use crate::storage::Storage;
use crate::storage::events::{SubscriptionRecord, state};

/// Brings the stored subscriptions in step with `specs`; returns those whose handshake must run.
pub async fn sync_subscriptions(
    storage: &dyn Storage,
    specs: &[SubscriptionSpec],
) -> Result<Vec<SubscriptionRecord>, String> {
    let mut names = HashSet::new();
    for spec in specs {
        spec.validate()
            .map_err(|e| format!("events.subscriptions '{}': {}", spec.name, e.message))?;
        if !names.insert(spec.name.as_str()) {
            return Err(format!(
                "events.subscriptions: '{}' is defined twice",
                spec.name
            ));
        }
    }
    let storage_err = |e: crate::storage::StorageError| e.to_string();
    let mut to_validate = Vec::new();
    for spec in specs {
        let now = clock::now_ms();
        let put = storage
            .put_subscription(spec, true, &new_validation(now), now)
            .await
            .map_err(storage_err)?;
        if put.validate {
            to_validate.push(put.record);
        }
    }
    for record in storage.subscriptions().await.map_err(storage_err)? {
        let name = record.spec.name.as_str();
        if record.from_config && !names.contains(name) {
            storage
                .delete_subscription(name)
                .await
                .map_err(storage_err)?;
            tracing::info!(
                subscription = name,
                "event subscription removed from the config file: deleted"
            );
        } else if record.state == state::CREATING
            && !to_validate.iter().any(|r| r.spec.name == name)
        {
            let now = clock::now_ms();
            if let Some(r) = storage
                .restart_validation(name, &new_validation(now), now)
                .await
                .map_err(storage_err)?
            {
                to_validate.push(r);
            }
        }
    }
    Ok(to_validate)
}
