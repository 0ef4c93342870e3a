//! Change images in the API's shape: `before`/`after` are the proto JSON of
//! the objects the Get*/List* RPCs answer with, field for field, and never a
//! storage row (microsecond integers, `environment_id`) or a secret.

use serde_json::Value;

use super::*;

/// An image as the JSON it stands for.
fn json(image: &Option<prost_types::Struct>) -> Value {
    fn value(v: &prost_types::Value) -> Value {
        match &v.kind {
            None | Some(Kind::NullValue(_)) => Value::Null,
            Some(Kind::BoolValue(b)) => Value::Bool(*b),
            Some(Kind::NumberValue(n)) => serde_json::json!(n),
            Some(Kind::StringValue(s)) => Value::String(s.clone()),
            Some(Kind::ListValue(list)) => Value::Array(list.values.iter().map(value).collect()),
            Some(Kind::StructValue(s)) => object(s),
        }
    }
    fn object(s: &prost_types::Struct) -> Value {
        Value::Object(
            s.fields
                .iter()
                .map(|(k, v)| (k.clone(), value(v)))
                .collect(),
        )
    }
    object(image.as_ref().expect("an image"))
}

/// `image` holds exactly the fields of `expected` (the API's own answer),
/// each equal; compared one by one so a failure names the field.
#[track_caller]
fn assert_same_fields(image: &Value, expected: &Value, what: &str) {
    let (image, expected) = (image.as_object().unwrap(), expected.as_object().unwrap());
    for (field, value) in expected {
        assert_eq!(image.get(field), Some(value), "{what}: field `{field}`");
    }
    for field in image.keys() {
        assert!(
            expected.contains_key(field),
            "{what}: the image has `{field}`, which the API's answer does not: {image:?}"
        );
    }
}

/// Every change after `base`, by action.
async fn changes_after(server: &TestServer, base: u64) -> Vec<pb::Change> {
    list_all(
        &server.audit(),
        pb::ListChangesRequest {
            after_revision: base,
            ..Default::default()
        },
    )
    .await
}

fn one<'a>(changes: &'a [pb::Change], action: &str, object_id: &str) -> &'a pb::Change {
    changes
        .iter()
        .find(|c| c.action == action && c.object_id == object_id)
        .unwrap_or_else(|| panic!("no {action} of {object_id} in {changes:#?}"))
}

fn proto<M: rbacd::proto::json::Named>(message: &M) -> Value {
    rbacd::proto::json::to_value(message).expect("proto JSON")
}

#[tokio::test]
async fn images_are_the_objects_as_get_answers_them() {
    let server = TestServer::start().await;
    let base = latest(&server.audit()).await;
    let role = create_role(&server, "Viewer", &["Wallets:Read"]).await;
    let ada = create_user(&server, "ada@example.com").await;
    let payments = create_node(&server, "payments", None).await;
    let assignment = assign(&server, &ada, &role, &payments).await;
    let renamed = server
        .roles()
        .update_role(pb::UpdateRoleRequest {
            role: role_by_id(&role.id),
            description: Some("reads wallets".into()),
            ..Default::default()
        })
        .await
        .expect("update the role")
        .into_inner()
        .role
        .unwrap();
    let changes = changes_after(&server, base).await;

    let got_ada = server
        .identities()
        .get_identity(pb::GetIdentityRequest {
            identity: identity_by_id(&ada.id),
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    let got_node = server
        .nodes()
        .get_node(pb::GetNodeRequest {
            node: node_by_id(&payments.id),
        })
        .await
        .unwrap()
        .into_inner()
        .node
        .unwrap();
    let got_assignment = server
        .assignments()
        .get_assignment(pb::GetAssignmentRequest {
            id: assignment.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .assignment
        .unwrap();

    let created_role = json(&one(&changes, "CreateRole", &role.id).after);
    assert_same_fields(&created_role, &proto(&role), "CreateRole after");
    let update = one(&changes, "UpdateRole", &role.id);
    assert_same_fields(&json(&update.before), &proto(&role), "UpdateRole before");
    assert_same_fields(&json(&update.after), &proto(&renamed), "UpdateRole after");
    let identity = json(&one(&changes, "CreateIdentity", &ada.id).after);
    assert_same_fields(&identity, &proto(&got_ada), "CreateIdentity after");
    let node = json(&one(&changes, "CreateNode", &payments.id).after);
    assert_same_fields(&node, &proto(&got_node), "CreateNode after");
    let granted = json(&one(&changes, "CreateAssignment", &assignment.id).after);
    assert_same_fields(&granted, &proto(&got_assignment), "CreateAssignment after");

    // The API's shape, spelled out: camelCase, RFC 3339, enums by name, names beside ids.
    assert_eq!(identity["status"], "IDENTITY_STATUS_ACTIVE");
    assert_eq!(granted["roleName"], "Viewer");
    assert_eq!(granted["nodeKey"], "payments");
    assert_eq!(granted["state"], "ASSIGNMENT_STATE_ACTIVE");
    let created = created_role["createTime"].as_str().expect("a time string");
    chrono::DateTime::parse_from_rfc3339(created).expect("RFC 3339");
    for image in [&created_role, &identity, &node, &granted] {
        assert!(image.get("environment_id").is_none(), "{image}");
        assert!(image.get("environmentId").is_none(), "{image}");
        assert!(image.get("created_at").is_none(), "{image}");
    }
    server.stop().await;
}

#[tokio::test]
async fn deletions_show_the_object_as_it_was_and_api_keys_no_secret() {
    let server = TestServer::start().await;
    let base = latest(&server.audit()).await;
    let role = create_role(&server, "Viewer", &["Wallets:Read"]).await;
    let ada = create_user(&server, "ada@example.com").await;
    let payments = create_node(&server, "payments", None).await;
    let assignment = assign(&server, &ada, &role, &payments).await;
    let robot = server
        .identities()
        .create_identity(pb::CreateIdentityRequest {
            kind: pb::IdentityKind::ServiceAccount.into(),
            email: "robot".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .identity
        .unwrap();
    let created_key = server
        .identities()
        .create_api_key(pb::CreateApiKeyRequest {
            identity: identity_by_id(&robot.id),
            name: "ci".into(),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let listed_key = server
        .identities()
        .list_api_keys(pb::ListApiKeysRequest {
            identity: identity_by_id(&robot.id),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .api_keys
        .remove(0);
    server
        .assignments()
        .delete_assignment(pb::DeleteAssignmentRequest {
            id: assignment.id.clone(),
            ..Default::default()
        })
        .await
        .expect("unassign");
    let changes = changes_after(&server, base).await;

    let removed = one(&changes, "DeleteAssignment", &assignment.id);
    assert!(removed.after.is_none());
    assert_same_fields(
        &json(&removed.before),
        &proto(&assignment),
        "DeleteAssignment before",
    );

    let key_image = json(&one(&changes, "CreateApiKey", &listed_key.id).after);
    assert_same_fields(&key_image, &proto(&listed_key), "CreateApiKey after");
    let text = key_image.to_string();
    assert!(!text.contains(&created_key.secret), "{text}");
    for secretish in ["secret", "secretHash", "secret_hash"] {
        assert!(key_image.get(secretish).is_none(), "{text}");
    }
    server.stop().await;
}
