//! The rules stage: the message's account rules, then its org's, evaluated
//! natively by `mailroom-rules` over the message as normalised by the
//! provider plugin; and the dry run, which evaluates a rule set over stored
//! mail and changes nothing.
//!
//! A rule set is compiled once and kept while its rules are unchanged
//! (checked once per batch and account by the rules' ids and change times),
//! so regexes are not recompiled, nor the rules read, per message.

use crate::context::BatchCache;
use crate::contract::to_contract;
use mailroom_core::ids::{AccountId, MessageId, OrgId, RuleId};
use mailroom_plugin_host::bindings::latest::types as wit;
use mailroom_rules::model as rules;
use mailroom_rules::{Address, Attachment, MessageView, Rule, RuleSet};
use mailroom_store::rules::StoredRule;
use mailroom_store::{Store, StoreError};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;

/// The prefix of an action's source when a rule asked for it: the action
/// rows of a run then say which rule matched (`rule:rul_…`).
pub const RULE_SOURCE_PREFIX: &str = "rule:";

/// A compiled rule set with what it was compiled from.
struct CachedSet {
    /// Each rule's id and last change, in order.
    stamp: Vec<(RuleId, i64)>,
    set: Arc<RuleSet<RuleId>>,
    /// Stored rules the engine refuses now (saved under older limits).
    refused: Arc<Vec<String>>,
}

/// Compiled rule sets per (org, account), reused while unchanged.
#[derive(Default)]
pub(crate) struct RuleSets {
    sets: Mutex<HashMap<(OrgId, AccountId), CachedSet>>,
}

/// The rules that run on one account's mail, compiled.
#[derive(Clone)]
pub(crate) struct AccountRules {
    pub set: Arc<RuleSet<RuleId>>,
    /// Why some stored rules were left out, for the run's record.
    pub refused: Arc<Vec<String>>,
}

impl RuleSets {
    /// The account's rules then the org's, compiled (or the set compiled
    /// earlier from the same rules), as they were when `batch` first asked.
    pub async fn for_account(
        &self,
        store: &Store,
        batch: &BatchCache,
        org: &OrgId,
        account: &AccountId,
    ) -> Result<AccountRules, StoreError> {
        if let Some(rules) = batch.account_rules(account) {
            return Ok(rules);
        }
        let rules = self.read(store, org, account).await?;
        batch.keep_account_rules(account, rules.clone());
        Ok(rules)
    }

    async fn read(
        &self,
        store: &Store,
        org: &OrgId,
        account: &AccountId,
    ) -> Result<AccountRules, StoreError> {
        let stored = store.rules_for_account(org, account).await?;
        let stamp: Vec<(RuleId, i64)> = stored
            .iter()
            .map(|r| (r.id.clone(), r.updated_at))
            .collect();
        let key = (org.clone(), account.clone());
        if let Some(cached) = self.sets.lock().get(&key)
            && cached.stamp == stamp
        {
            return Ok(AccountRules {
                set: cached.set.clone(),
                refused: cached.refused.clone(),
            });
        }
        let (set, refused) = compile_stored(stored);
        let (set, refused) = (Arc::new(set), Arc::new(refused));
        self.sets.lock().insert(
            key,
            CachedSet {
                stamp,
                set: set.clone(),
                refused: refused.clone(),
            },
        );
        Ok(AccountRules { set, refused })
    }
}

/// Compiles stored rules, leaving out (and naming) any the engine refuses:
/// one bad rule must not stop the others.
fn compile_stored(stored: Vec<StoredRule>) -> (RuleSet<RuleId>, Vec<String>) {
    let (set, refused) = RuleSet::compile_lenient(stored.into_iter().map(|r| (r.id, r.rule)));
    let refused = refused
        .into_iter()
        .map(|(id, e)| format!("{RULE_SOURCE_PREFIX}{id}: {e}"))
        .collect();
    (set, refused)
}

/// The actions the matching rules ask for, each with its rule as source,
/// in rule order (`stop` included, as the record of why later rules did
/// not run).
pub(crate) fn wanted<K: std::fmt::Display>(
    set: &RuleSet<K>,
    message: &wit::Message,
) -> Vec<(String, wit::Action)> {
    set.evaluate(&view(message))
        .into_iter()
        .flat_map(|m| {
            let source = format!("{RULE_SOURCE_PREFIX}{}", m.key);
            m.rule
                .actions
                .iter()
                .map(move |a| (source.clone(), to_contract(a)))
        })
        .collect()
}

/// The engine's view of a contract message (borrowed, nothing copied).
pub fn view(m: &wit::Message) -> MessageView<'_> {
    fn addresses(list: &[wit::Address]) -> Vec<Address<'_>> {
        list.iter()
            .map(|a| Address {
                name: a.name.as_deref(),
                email: &a.email,
            })
            .collect()
    }
    MessageView {
        from: addresses(&m.from),
        to: addresses(&m.to),
        cc: addresses(&m.cc),
        bcc: addresses(&m.bcc),
        reply_to: addresses(&m.reply_to),
        subject: &m.subject,
        body: &m.text_body,
        headers: m
            .headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str()))
            .collect(),
        attachments: m
            .attachments
            .iter()
            .map(|a| Attachment {
                filename: a.filename.as_deref(),
                inline: a.inline,
            })
            .collect(),
        size: m.size,
    }
}

/// The most messages one dry run reads.
pub const DRY_RUN_MAX_MESSAGES: u32 = 500;

/// What a rule set would do to one stored message.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DryRunMessage {
    /// The stored message.
    pub message: MessageId,
    /// Its subject, so a preview can list it.
    pub subject: String,
    /// The first `From` address, if any.
    pub from: Option<String>,
    /// Date header, unix ms.
    pub date: Option<i64>,
    /// The rules that matched, in the order they would run.
    pub matched: Vec<DryRunMatch>,
}

/// One rule that matched, and what it asks for.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DryRunMatch {
    /// The stored rule's id (`null` for a rule given inline).
    pub rule_id: Option<RuleId>,
    /// Its place in the evaluated set, 0-based (account rules first).
    pub index: usize,
    /// The rule's name.
    pub name: String,
    /// Every action, in order, as the rule gives it.
    pub actions: Vec<rules::Action>,
    /// Which of `actions` would change the message's view with the run
    /// (labels, read, star, folder); the others would be queued for their
    /// executors.
    pub applied_with_run: Vec<bool>,
}

/// A rule of a dry run: its place in the evaluated set, and its id when
/// it is stored.
#[derive(Clone, Debug)]
pub struct DryRunRule {
    /// Its place in the evaluated set, 0-based.
    pub index: usize,
    /// The stored rule's id; `None` for a rule given inline.
    pub id: Option<RuleId>,
}

/// Compiles a dry run's rules (stored ones with their id, inline ones
/// without), refusing the first bad one with its place.
pub fn dry_run_set(
    rules: Vec<(Option<RuleId>, Rule)>,
) -> Result<RuleSet<DryRunRule>, mailroom_rules::RuleError> {
    RuleSet::compile(
        rules
            .into_iter()
            .enumerate()
            .map(|(index, (id, rule))| (DryRunRule { index, id }, rule)),
    )
}

/// Evaluates `set` over `messages` (in the order given) and reports what it
/// would do; nothing is written. The message is read as the pipeline reads
/// it (its raw bytes parsed), without the provider plugin's normalisation.
pub async fn dry_run(
    store: &Store,
    org: &OrgId,
    set: &RuleSet<DryRunRule>,
    messages: &[MessageId],
) -> Result<Vec<DryRunMessage>, StoreError> {
    let mut report = Vec::with_capacity(messages.len());
    for id in messages {
        let raw = store.get_raw_message(org, id).await?;
        let parsed = mailroom_core::mime::parse(&raw);
        let message = mailroom_plugin_host::convert::plugin_message(
            &parsed,
            mailroom_plugin_host::convert::MessageContext {
                id: id.as_str().to_owned(),
                outgoing: false,
                account: String::new(),
                folder: None,
                folder_role: None,
                seen: false,
                flagged: false,
                answered: false,
                labels: Vec::new(),
            },
        );
        let matched = set
            .evaluate(&view(&message))
            .into_iter()
            .map(|m| DryRunMatch {
                rule_id: m.key.id.clone(),
                index: m.key.index,
                name: m.rule.name.clone(),
                applied_with_run: m
                    .rule
                    .actions
                    .iter()
                    .map(rules::Action::changes_view)
                    .collect(),
                actions: m.rule.actions.clone(),
            })
            .collect();
        report.push(DryRunMessage {
            message: id.clone(),
            from: parsed.from.first().map(|a| a.email.clone()),
            subject: parsed.subject,
            date: parsed.date,
            matched,
        });
    }
    Ok(report)
}
