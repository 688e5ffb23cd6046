//! The webhook store's contract: endpoints per workspace in creation order, versioned updates,
//! deliveries newest first with cursors, and removing an endpoint taking its deliveries along.

use vitasync_domain::StoreError;
use vitasync_domain::announce::webhooks::{
    Attempt, Delivery, DeliveryId, DeliveryStatus, EndpointStatus, EventId, EventType,
    WebhookEndpoint, WebhookId,
};
use vitasync_domain::kernel::ids::WorkspaceId;
use vitasync_domain::kernel::page::PageRequest;
use vitasync_domain::kernel::secrets::SealedSecret;
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::Ports;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_millis(1_790_000_000_000 + seconds * 1000).unwrap()
}

fn endpoint(ws: &WorkspaceId, url: &str) -> WebhookEndpoint {
    WebhookEndpoint {
        id: WebhookId::generate(),
        workspace_id: ws.clone(),
        url: url.into(),
        events: vec![EventType::UserCreated, EventType::DataUpdated],
        description: Some("backend".into()),
        enabled: true,
        status: EndpointStatus::Active,
        secret: SealedSecret {
            wrapped_key: vec![1, 2, 3],
            nonce: vec![4; 12],
            ciphertext: vec![5; 40],
        },
        created_at: at(0),
        updated_at: at(0),
        version: 1,
    }
}

fn delivery(endpoint: &WebhookEndpoint, n: i64) -> Delivery {
    Delivery {
        id: DeliveryId::generate(),
        workspace_id: endpoint.workspace_id.clone(),
        endpoint_id: endpoint.id.clone(),
        event_id: EventId::generate(),
        event_type: EventType::UserCreated,
        payload: format!(r#"{{"type":"user.created","n":{n}}}"#),
        status: DeliveryStatus::Pending,
        attempts: Vec::new(),
        round_attempts: 0,
        next_attempt_at: Some(at(n)),
        created_at: at(n),
        version: 1,
    }
}

pub async fn webhook_store(ports: &Ports) {
    let store = &ports.webhooks;
    let ws = WorkspaceId::generate();
    let other_ws = WorkspaceId::generate();

    // Endpoints: per workspace, in creation order; ids unique.
    let first = endpoint(&ws, "https://one.example.com/hook");
    let second = endpoint(&ws, "https://two.example.com/hook");
    let elsewhere = endpoint(&other_ws, "https://other.example.com/hook");
    for item in [&first, &second, &elsewhere] {
        store.insert_endpoint(item).await.unwrap();
    }
    assert!(matches!(
        store.insert_endpoint(&first).await,
        Err(StoreError::Conflict(_))
    ));
    let listed = store.list_endpoints(&ws).await.unwrap();
    assert_eq!(listed, vec![first.clone(), second.clone()]);
    assert_eq!(
        store.get_endpoint(&ws, &first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.get_endpoint(&other_ws, &first.id).await.unwrap(),
        None
    );

    // Versioned updates: the stale writer loses.
    let failing = WebhookEndpoint {
        status: EndpointStatus::Failing,
        version: 2,
        ..first.clone()
    };
    assert!(store.update_endpoint(&failing).await.unwrap());
    let stale = WebhookEndpoint {
        enabled: false,
        version: 2,
        ..first.clone()
    };
    assert!(!store.update_endpoint(&stale).await.unwrap());
    assert_eq!(
        store.get_endpoint(&ws, &first.id).await.unwrap(),
        Some(failing.clone())
    );

    // Deliveries: newest first, a page at a time, without repeats or gaps.
    let mut made = Vec::new();
    for n in 0..5 {
        let item = delivery(&first, n);
        store.insert_delivery(&item, &[]).await.unwrap();
        made.push(item);
    }
    store
        .insert_delivery(&delivery(&second, 9), &[])
        .await
        .unwrap();
    assert!(matches!(
        store.insert_delivery(&made[0], &[]).await,
        Err(StoreError::Conflict(_))
    ));
    let mut seen = Vec::new();
    let mut page = PageRequest {
        limit: 2,
        after: None,
    };
    loop {
        let got = store.list_deliveries(&ws, &first.id, &page).await.unwrap();
        seen.extend(got.items.into_iter().map(|d| d.id));
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    let newest_first: Vec<_> = made.iter().rev().map(|d| d.id.clone()).collect();
    assert_eq!(seen, newest_first);

    // A delivery's attempts are saved by versioned updates.
    let attempted = Delivery {
        status: DeliveryStatus::Succeeded,
        attempts: vec![Attempt {
            at: at(1),
            status_code: Some(204),
            latency_ms: 12,
            error: None,
        }],
        round_attempts: 1,
        next_attempt_at: None,
        version: 2,
        ..made[0].clone()
    };
    assert!(store.update_delivery(&attempted, &[]).await.unwrap());
    assert!(!store.update_delivery(&attempted, &[]).await.unwrap());
    assert_eq!(
        store
            .get_delivery(&ws, &first.id, &made[0].id)
            .await
            .unwrap(),
        Some(attempted)
    );
    assert_eq!(
        store
            .get_delivery(&other_ws, &first.id, &made[0].id)
            .await
            .unwrap(),
        None
    );

    // Removing an endpoint removes its deliveries, and nothing of its neighbours.
    assert!(store.delete_endpoint(&ws, &first.id).await.unwrap());
    assert!(!store.delete_endpoint(&ws, &first.id).await.unwrap());
    assert_eq!(store.get_endpoint(&ws, &first.id).await.unwrap(), None);
    assert_eq!(
        store
            .get_delivery(&ws, &first.id, &made[1].id)
            .await
            .unwrap(),
        None
    );
    let remaining = store
        .list_deliveries(
            &ws,
            &second.id,
            &PageRequest {
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(remaining.items.len(), 1);
    assert_eq!(
        store.list_endpoints(&other_ws).await.unwrap(),
        vec![elsewhere]
    );
}

/// A delivery made or reopened outside the relay commits its queue message with it, and a
/// write that does not happen commits nothing.
pub async fn delivery_writes_commit_their_outbox_entries(ports: &Ports) {
    use vitasync_domain::kernel::outbox::{OutboxAction, OutboxEntry};
    let store = &ports.webhooks;
    let ws = WorkspaceId::generate();
    let target = endpoint(&ws, "https://hooks.example.com/a");
    store.insert_endpoint(&target).await.unwrap();
    let message = |body: &str| {
        OutboxEntry::new(
            ws.clone(),
            at(0),
            OutboxAction::Delivery { body: body.into() },
        )
    };
    let made = delivery(&target, 1);
    store
        .insert_delivery(&made, &[message("made")])
        .await
        .unwrap();
    assert!(matches!(
        store.insert_delivery(&made, &[message("made twice")]).await,
        Err(StoreError::Conflict(_))
    ));
    let reopened = Delivery {
        version: made.version + 1,
        ..made.clone()
    };
    assert!(
        store
            .update_delivery(&reopened, &[message("reopened")])
            .await
            .unwrap()
    );
    assert!(
        !store
            .update_delivery(&reopened, &[message("stale")])
            .await
            .unwrap()
    );
    let written = ports.outbox.due_entries(at(60), 10).await.unwrap();
    assert_eq!(crate::outbox::bodies(&written), ["made", "reopened"]);
}
