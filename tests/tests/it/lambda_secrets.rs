//! The ingest secret read from Secrets Manager (moto), as the ingest function reads it once
//! per cold start from the ARN the template passes: the current version or a pinned one,
//! and errors that name the secret's ARN but never its value (issue #15, finding 8).

use aws_sdk_secretsmanager::primitives::Blob;
use aws_sdk_secretsmanager::Client;

use authhooks::adapters::secrets::{read_ingest_secret, SecretReadError};
use authhooks::domain::signature::Secret;
use authhooks_tests::moto::Moto;

const FIRST: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECOND: &str = "whsec_oKGio6SlpqeoqaqrrK2ur7CxsrOztba3uLm6u7y9vr8=";

async fn client() -> Client {
    Client::new(&Moto::shared().sdk_config().await)
}

#[tokio::test]
async fn the_current_value_is_read_and_a_pinned_version_stays_readable() {
    let client = client().await;
    // The value as `aws secretsmanager create-secret --secret-string` stores it, with the
    // newline a shell heredoc would add.
    let (arn, first_version) = Moto::shared().create_secret(&format!("{FIRST}\n")).await;
    let secret = read_ingest_secret(&client, &arn, None).await.unwrap();
    assert_eq!(secret, Secret::parse(FIRST).unwrap());

    // Rotated: the current version is the new value, the pinned one still the old.
    let second_version = client
        .put_secret_value()
        .secret_id(&arn)
        .secret_string(SECOND)
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    assert_eq!(
        read_ingest_secret(&client, &arn, None).await.unwrap(),
        Secret::parse(SECOND).unwrap()
    );
    assert_eq!(
        read_ingest_secret(&client, &arn, Some(&first_version))
            .await
            .unwrap(),
        Secret::parse(FIRST).unwrap()
    );
    assert_eq!(
        read_ingest_secret(&client, &arn, Some(&second_version))
            .await
            .unwrap(),
        Secret::parse(SECOND).unwrap()
    );
}

#[tokio::test]
async fn a_bad_or_missing_secret_fails_naming_its_arn_but_not_its_value() {
    let client = client().await;
    let not_whsec = "not-a-whsec-value-3f9a";
    let (arn, _) = Moto::shared().create_secret(not_whsec).await;
    let error = read_ingest_secret(&client, &arn, None).await.unwrap_err();
    let shown = format!("{error} / {error:?}");
    assert!(matches!(error, SecretReadError::Invalid { .. }), "{shown}");
    assert!(shown.contains(&arn), "{shown}");
    assert!(
        !shown.contains(not_whsec),
        "the error quotes the value: {shown}"
    );

    // Stored as binary (SecretBinary) rather than the plain string deploy.md asks for.
    let binary = client
        .create_secret()
        .name(Moto::unique("authhooks/binary-secret"))
        .secret_binary(Blob::new(FIRST.as_bytes()))
        .send()
        .await
        .unwrap();
    let error = read_ingest_secret(&client, binary.arn().unwrap(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(error, SecretReadError::NotAString { .. }),
        "{error}"
    );

    let missing = arn.replace("ingest-secret", "no-such-secret");
    let error = read_ingest_secret(&client, &missing, None)
        .await
        .unwrap_err();
    let shown = error.to_string();
    assert!(
        matches!(error, SecretReadError::Unreadable { .. }),
        "{shown}"
    );
    assert!(shown.contains("ResourceNotFoundException"), "{shown}");
    assert!(shown.contains(&missing), "{shown}");
}

/// The portal key, as the admin and portal functions read it: the same secret gives both
/// the same key (a link one makes, the other accepts); a short value is refused without
/// being quoted.
#[tokio::test]
async fn the_portal_key_is_read_alike_by_both_functions_and_a_short_one_refused() {
    use authhooks::adapters::secrets::read_portal_key;
    use authhooks::domain::portal::{verify, Grant};
    let client = client().await;
    let value = "k7P2xQ9vN4mR8tW1zY6bC3dF5gH0jL2aS8eU";
    let (arn, _) = Moto::shared().create_secret(&format!("{value}\n")).await;
    let admin_key = read_portal_key(&client, &arn).await.unwrap();
    let portal_key = read_portal_key(&client, &arn).await.unwrap();
    let now = chrono::Utc::now();
    let token = Grant::new("acme", 600, now).unwrap().sign(&admin_key);
    assert_eq!(verify(&token, &portal_key, now).unwrap().tenant_id, "acme");
    assert!(!format!("{admin_key:?}").contains(value));

    let short = "too-short-4b1e";
    let (arn, _) = Moto::shared().create_secret(short).await;
    let error = read_portal_key(&client, &arn).await.unwrap_err();
    let shown = format!("{error} / {error:?}");
    assert!(matches!(error, SecretReadError::Invalid { .. }), "{shown}");
    assert!(
        shown.contains(&arn) && shown.contains("portal key"),
        "{shown}"
    );
    assert!(
        !shown.contains(short),
        "the error quotes the value: {shown}"
    );
}
