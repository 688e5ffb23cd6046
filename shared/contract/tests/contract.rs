//! Every port's contract, against the embedded adapters and against the AWS adapters talking to
//! a real AWS API emulator over the wire.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use vitasync_contract::{
    apps, connections, fixtures, health, jobs, outbox, queue, sessions, states, stores, vault,
    webhooks,
};

mod embedded {
    use super::*;
    use fixtures::Embedded;

    #[tokio::test]
    async fn workspace_store() {
        stores::workspace_store(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn api_key_store() {
        stores::api_key_store(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn user_store() {
        stores::user_store(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn connection_store() {
        connections::connection_store(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn provider_app_store() {
        apps::provider_app_store(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn connections_due() {
        connections::connections_due(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn call_counter() {
        connections::call_counter(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn connections_for_account() {
        connections::connections_for_account(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn record_sync() {
        connections::record_sync(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn state_store() {
        states::state_store(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn key_manager() {
        vault::vault(Embedded::new().key_manager()).await;
    }

    #[tokio::test]
    async fn health_store() {
        health::health_store(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn job_store() {
        jobs::job_store(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn job_queue() {
        queue::job_queue(&Embedded::new().queue()).await;
    }

    #[tokio::test]
    async fn webhook_store() {
        webhooks::webhook_store(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn delivery_writes_commit_their_outbox_entries() {
        webhooks::delivery_writes_commit_their_outbox_entries(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn session_store() {
        sessions::session_store(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn sessions_go_with_their_user() {
        sessions::sessions_go_with_their_user(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn outbox_store() {
        outbox::outbox_store(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn health_writes_commit_their_outbox_entries() {
        outbox::health_writes_commit_their_entries(&Embedded::new().ports()).await;
    }

    #[tokio::test]
    async fn user_writes_commit_their_outbox_entries() {
        outbox::user_writes_commit_their_entries_only_when_they_change_something(
            &Embedded::new().ports(),
        )
        .await;
    }

    #[tokio::test]
    async fn connection_writes_commit_their_outbox_entries() {
        connections::connection_writes_commit_their_outbox_entries(&Embedded::new().ports()).await;
    }

    /// The local host is its queues' only consumer: at start it takes back what a killed
    /// process held, instead of waiting out the visibility timeout.
    #[tokio::test]
    async fn a_restart_reclaims_held_messages_but_not_deferred_ones() {
        use std::time::Duration;
        use vitasync_domain::kernel::queue::{JobQueue, Outgoing};
        let queue = Embedded::new().queue();
        queue
            .send(Outgoing::now(String::from("crashed")))
            .await
            .unwrap();
        queue
            .send(Outgoing::now(String::from("deferred")))
            .await
            .unwrap();
        let held = queue.receive(10, Duration::from_secs(300)).await.unwrap();
        assert_eq!(held.len(), 2);
        let deferred = held.iter().find(|m| m.body == "deferred").unwrap();
        queue
            .retry_after(&deferred.receipt, Duration::from_secs(600))
            .await
            .unwrap();
        assert!(
            queue
                .receive(10, Duration::from_secs(300))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(queue.reclaim_held().await.unwrap(), 1);
        let again = queue.receive(10, Duration::from_secs(300)).await.unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].body, "crashed");
        assert_eq!(
            again[0].receive_count, 2,
            "a crash still counts as a receive"
        );
        // The old receipt is void: the process that held it is gone.
        let crashed = held.iter().find(|m| m.body == "crashed").unwrap();
        assert!(queue.delete(&crashed.receipt).await.is_err());
        queue.delete(&again[0].receipt).await.unwrap();
    }
}

mod aws {
    use super::*;

    #[tokio::test]
    async fn workspace_store() {
        stores::workspace_store(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn api_key_store() {
        stores::api_key_store(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn user_store() {
        stores::user_store(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn connection_store() {
        connections::connection_store(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn provider_app_store() {
        apps::provider_app_store(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn connections_due() {
        connections::connections_due(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn call_counter() {
        connections::call_counter(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn connections_for_account() {
        connections::connections_for_account(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn record_sync() {
        connections::record_sync(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn state_store() {
        states::state_store(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn key_manager() {
        vault::vault(fixtures::kms_key_manager().await).await;
    }

    /// Provider app secrets are read by name, over the wire, as rotated.
    #[tokio::test]
    async fn secret_reader() {
        use secrecy::ExposeSecret;
        use vitasync_aws::SecretsManagerReader;
        use vitasync_domain::providers::secrets::{SecretError, SecretReader};
        let reader = SecretsManagerReader::new(fixtures::secrets_client().await);
        let name = fixtures::new_secret("first-value").await;
        assert_eq!(
            reader.read(&name).await.unwrap().expose_secret(),
            "first-value"
        );
        fixtures::rotate_secret(&name, "rotated-value").await;
        assert_eq!(
            reader.read(&name).await.unwrap().expose_secret(),
            "rotated-value"
        );
        let missing = reader.read("vitasync/no-such-secret").await;
        assert!(
            matches!(missing, Err(SecretError::Missing(ref n)) if n == "vitasync/no-such-secret"),
            "{missing:?}"
        );
    }

    #[tokio::test]
    async fn health_store() {
        health::health_store(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn job_store() {
        jobs::job_store(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn job_queue() {
        queue::job_queue(&fixtures::sqs_queue().await).await;
    }

    #[tokio::test]
    async fn webhook_store() {
        webhooks::webhook_store(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn delivery_writes_commit_their_outbox_entries() {
        webhooks::delivery_writes_commit_their_outbox_entries(&fixtures::dynamo_ports().await.0)
            .await;
    }

    #[tokio::test]
    async fn session_store() {
        sessions::session_store(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn sessions_go_with_their_user() {
        sessions::sessions_go_with_their_user(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn outbox_store() {
        outbox::outbox_store(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn health_writes_commit_their_outbox_entries() {
        outbox::health_writes_commit_their_entries(&fixtures::dynamo_ports().await.0).await;
    }

    #[tokio::test]
    async fn user_writes_commit_their_outbox_entries() {
        outbox::user_writes_commit_their_entries_only_when_they_change_something(
            &fixtures::dynamo_ports().await.0,
        )
        .await;
    }

    #[tokio::test]
    async fn connection_writes_commit_their_outbox_entries() {
        connections::connection_writes_commit_their_outbox_entries(
            &fixtures::dynamo_ports().await.0,
        )
        .await;
    }
}
