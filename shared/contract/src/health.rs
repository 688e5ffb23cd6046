//! The health-record store's contract: keyed bytes per connection, batch reads and writes in
//! any size, key-ordered ranges, replacement in place, and cleanup with the user (not with the
//! connection's disconnection).

use vitasync_domain::kernel::ids::{ConnectionId, WorkspaceId};
use vitasync_domain::kernel::time::Timestamp;
use vitasync_domain::ports::{Ports, RecordOwner};

pub async fn health_store(ports: &Ports) {
    let store = &ports.health;
    let ws = WorkspaceId::generate();
    let now = Timestamp::from_millis(1_790_000_000_000).unwrap();
    let user = crate::fixtures::user_in(ports, &ws, "wearer", now).await;
    let owner = RecordOwner {
        workspace: ws.clone(),
        user: user.id.clone(),
        connection: ConnectionId::generate(),
    };
    let other = RecordOwner {
        connection: ConnectionId::generate(),
        ..owner.clone()
    };

    // More than one batch's worth (25 writes, 100 reads), with binary data.
    let records: Vec<(String, Vec<u8>)> = (0..130)
        .map(|n| (format!("M#steps#2026-01-{n:03}"), vec![n as u8, 0, 255, 7]))
        .collect();
    store.put_records(&owner, &records, &[]).await.unwrap();
    store
        .put_records(&other, &[("M#steps#2026-01-001".into(), vec![9])], &[])
        .await
        .unwrap();

    let mut keys: Vec<String> = records.iter().map(|(key, _)| key.clone()).collect();
    keys.push("M#steps#missing".into());
    let read = store.get_records(&owner, &keys).await.unwrap();
    assert_eq!(read.len(), 131);
    for (n, found) in read.iter().take(130).enumerate() {
        assert_eq!(found.as_deref(), Some(&records[n].1[..]));
    }
    assert_eq!(read[130], None);

    // Removing keys removes those records only; absent keys are no error.
    store
        .put_records(
            &owner,
            &[
                ("X#sleep#gone".into(), vec![1]),
                ("X#sleep#kept".into(), vec![2]),
            ],
            &[],
        )
        .await
        .unwrap();
    store
        .delete_keys(&owner, &["X#sleep#gone".into(), "X#sleep#never".into()])
        .await
        .unwrap();
    let sleeps = store
        .records_between(&owner, "X#sleep#", "X#sleep#~")
        .await
        .unwrap();
    assert_eq!(sleeps, vec![("X#sleep#kept".to_owned(), vec![2])]);
    store
        .delete_keys(&owner, &["X#sleep#kept".into()])
        .await
        .unwrap();

    // The newest key of a range, found without reading the range: end-exclusive, per
    // connection, none in an empty range.
    let newest = |from: &'static str, to: &'static str| {
        let owner = owner.clone();
        async move { store.newest_key_between(&owner, from, to).await.unwrap() }
    };
    assert_eq!(
        newest("M#steps#2026-01-010", "M#steps#2026-01-020")
            .await
            .as_deref(),
        Some("M#steps#2026-01-019")
    );
    assert_eq!(
        newest("M#steps#", "M#steps#~").await.as_deref(),
        Some("M#steps#2026-01-129")
    );
    assert_eq!(newest("M#steps#2027", "M#steps#2028").await, None);
    assert_eq!(newest("M#weight#", "M#weight#~").await, None);
    assert_eq!(
        store
            .newest_key_between(&other, "M#steps#", "M#steps#~")
            .await
            .unwrap()
            .as_deref(),
        Some("M#steps#2026-01-001")
    );

    // Ranges are key-ordered, end-exclusive, and per connection.
    let range = store
        .records_between(&owner, "M#steps#2026-01-010", "M#steps#2026-01-020")
        .await
        .unwrap();
    let range_keys: Vec<&str> = range.iter().map(|(key, _)| key.as_str()).collect();
    let expected: Vec<String> = (10..20)
        .map(|n| format!("M#steps#2026-01-{n:03}"))
        .collect();
    assert_eq!(range_keys, expected);
    assert_eq!(range[0].1, records[10].1);
    let others = store.records_between(&other, "M#", "M#~").await.unwrap();
    assert_eq!(others, vec![("M#steps#2026-01-001".to_owned(), vec![9])]);

    // Writing a key again replaces it.
    store
        .put_records(&owner, &[("M#steps#2026-01-005".into(), vec![42])], &[])
        .await
        .unwrap();
    let replaced = store
        .get_records(&owner, &["M#steps#2026-01-005".to_owned()])
        .await
        .unwrap();
    assert_eq!(replaced, vec![Some(vec![42])]);

    // Erasing one connection's records counts them and leaves the other connection's.
    assert_eq!(store.delete_records(&owner).await.unwrap(), 130);
    assert!(
        store
            .records_between(&owner, "", "~")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.records_between(&other, "", "~").await.unwrap().len(),
        1
    );
    assert_eq!(store.delete_records(&owner).await.unwrap(), 0);
    store.put_records(&owner, &records[..3], &[]).await.unwrap();

    // Deleting the user deletes their records.
    assert!(ports.users.delete_user(&ws, &user.id, &[]).await.unwrap());
    assert!(
        store
            .records_between(&owner, "", "~")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .records_between(&other, "", "~")
            .await
            .unwrap()
            .is_empty()
    );
}
