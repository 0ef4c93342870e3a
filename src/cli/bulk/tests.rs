//! The document's reading, checking and planning, without a server.

use super::{check, document::Document, normalized, plan::plan};

/// The YAML example of the README's Provisioning section.
fn readme_example() -> String {
    let readme = include_str!("../../../README.md");
    let section = &readme[readme.find("## Provisioning").expect("the section")..];
    let start = section.find("```yaml\n").expect("a YAML example") + "```yaml\n".len();
    section[start..start + section[start..].find("```").unwrap()].to_owned()
}

#[test]
fn the_readme_example_is_a_valid_document_that_plans_its_own_objects() {
    let text = readme_example();
    let doc = Document::parse(&text).expect("the example parses");
    check::check(&doc, &text, "env.yaml").expect("the example is valid");
    let doc = normalized(doc);
    assert_eq!(
        doc.assignments[1].to.as_deref(),
        Some("2031-01-01T00:00:00Z")
    );
    // Against an environment holding only what its creation made, the plan
    // creates the rest and leaves the built-in objects alone.
    let empty = Document {
        roles: doc.roles[..1].to_vec(),
        identities: doc.identities[..1].to_vec(),
        assignments: doc.assignments[..1].to_vec(),
        ..Document::default()
    };
    let steps: Vec<String> = plan(&empty, &doc, true)
        .steps
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        steps,
        [
            "+ role Wallet_Read_User [Wallets:Read]",
            "+ identity jdoe@example.co (USER, ACTIVE)",
            "+ node payments under root",
            "+ assignment jdoe@example.co holds Wallet_Read_User at payments until 2031-01-01T00:00:00Z",
        ]
    );
    assert!(
        plan(&doc, &doc, true).steps.is_empty(),
        "a document matches itself"
    );
}

#[test]
fn problems_name_the_line_of_their_object() {
    let text = "roles:\n- name: A\n  permissions: ['Bad Permission']\n\
                nodes:\n- key: a\n  parent: b\n- key: b\n  parent: a\n";
    let doc = Document::parse(text).unwrap();
    let problems = check::check(&doc, text, "f.yaml").unwrap_err();
    assert!(
        problems.contains("f.yaml:2: roles[0].permissions[0]"),
        "{problems}"
    );
    assert!(
        problems.contains("f.yaml:5: nodes[0].parent: the parents form a cycle"),
        "{problems}"
    );
    assert!(problems.contains("f.yaml:7: nodes[1].parent"), "{problems}");
    let shape = Document::parse("roles:\n- name: A\n  colour: blue\n").unwrap_err();
    assert!(shape.starts_with("line 3"), "{shape}");
}
