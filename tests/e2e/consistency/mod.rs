//! The consistency suite (after SpiceDB's): on generated worlds — a tree of a
//! few hundred nodes several levels deep, roles with exact permissions and
//! `X:*` / `*` patterns, identities in every status, assignments with past,
//! current and future windows at inherited and direct nodes — Check, BatchCheck
//! and CheckStream must answer what the one reference evaluator
//! (`support::decision_rule`) answers, ListPermissions and the paged lookups
//! must name exactly what Check allows, and all of it again after a round of
//! random writes.
//!
//! Each world comes from a seed, printed with every disagreement. The first
//! world's seed is `RBACD_CONSISTENCY_SEED` (random when unset), the next ones
//! follow it; `RBACD_CONSISTENCY_WORLDS` says how many worlds (default 3).

use crate::support::decision_rule::Rows;
use crate::support::*;
use rbacd::proto::v1 as pb;

mod build;
mod decisions;
mod generate;
mod lookups;
mod mirror;
mod questions;
mod writes;

const QUESTIONS: usize = 400;

/// Disagreements found in one stage of one world; the first few are kept whole.
pub struct Report {
    seed: u64,
    stage: &'static str,
    count: usize,
    kept: Vec<String>,
    /// Lookups whose answer took more than one page.
    pub multi_page: usize,
}

impl Report {
    fn new(seed: u64) -> Self {
        Self {
            seed,
            stage: "",
            count: 0,
            kept: Vec::new(),
            multi_page: 0,
        }
    }

    pub fn disagree(&mut self, what: String) {
        self.count += 1;
        if self.kept.len() < 12 {
            self.kept.push(what);
        }
    }

    /// Panics with every kept disagreement and how to reproduce them.
    fn assert_clean(&self) {
        assert!(
            self.count == 0,
            "consistency: {} disagreement(s) {}, world seed {} \
             (rerun: RBACD_CONSISTENCY_SEED={} RBACD_CONSISTENCY_WORLDS=1 cargo test --test e2e consistency)\n\n{}",
            self.count,
            self.stage,
            self.seed,
            self.seed,
            self.kept.join("\n\n")
        );
    }
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok()?;
    Some(
        text.parse()
            .unwrap_or_else(|e| panic!("{name}={text}: {e}")),
    )
}

/// Every cross-check over the world as it is now.
async fn cross_check(
    server: &TestServer,
    mirror: &mirror::Mirror,
    rng: &mut generate::Rng,
    report: &mut Report,
) {
    let client = server.authorization();
    let asker = questions::Asker::new(mirror);
    let mut questions = asker.edge_questions(rng);
    questions.extend((0..QUESTIONS).map(|_| asker.question(rng)));
    let mut reasons = std::collections::BTreeMap::new();
    for q in &questions {
        *reasons
            .entry(format!("{:?}", q.expected(mirror).reason))
            .or_insert(0) += 1;
    }
    println!(
        "consistency: seed {}: {} questions, expected {reasons:?}",
        report.seed,
        questions.len()
    );
    assert_eq!(
        reasons.len(),
        5,
        "the sample reaches every decision reason: {reasons:?}"
    );
    decisions::cross_check(&client, mirror, &questions, report).await;
    lookups::list_permissions(&asker, &client, rng, report).await;
    lookups::lookup_nodes(&asker, &client, rng, report).await;
    lookups::lookup_identities(&asker, &client, rng, report).await;
}

async fn one_world(seed: u64) {
    let server = TestServer::start().await;
    let mut rng = generate::Rng::new(seed);
    let now = questions::now_micros();
    let mut report = Report::new(seed);
    let mut mirror = build::build_world(&server, &mut rng, now).await;
    println!(
        "consistency: seed {seed}: {} nodes, {} roles, {} identities, {} assignments",
        mirror.rows.nodes.len(),
        mirror.rows.roles.len(),
        mirror.rows.identities.len(),
        mirror.rows.assignments.len()
    );
    report.stage = "in the generated world";
    cross_check(&server, &mirror, &mut rng, &mut report).await;
    report.assert_clean();
    report.stage = "during random writes";
    writes::random_writes(&server, &mut mirror, &mut rng, now, &mut report).await;
    report.assert_clean();
    report.stage = "after random writes";
    cross_check(&server, &mirror, &mut rng, &mut report).await;
    report.assert_clean();
    println!(
        "consistency: seed {seed}: {} lookups spanned pages",
        report.multi_page
    );
    assert!(report.multi_page > 5, "lookups span several pages");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_worlds_agree_with_the_reference_and_with_themselves() {
    let first = env_number("RBACD_CONSISTENCY_SEED").unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.expect("after 1970").as_nanos() as u64
    });
    let worlds = env_number("RBACD_CONSISTENCY_WORLDS").unwrap_or(3);
    for world in 0..worlds {
        let seed = first.wrapping_add(world);
        println!("consistency: world {world} of {worlds}, seed {seed}");
        one_world(seed).await;
    }
}
