//! Suites as files: importing a file creates or updates its cases (matched by name within its
//! suite) after every case is checked, so a bad file changes nothing; exporting writes a suite
//! with widgets named, ready to keep beside the code that CI runs it for.

use std::collections::BTreeMap;

use sb_domain::suite_file::{SuiteFile, SuiteFileCase};
use sb_domain::{
    PageRequest, Role, TestCase, TestCaseDefinition, TestCaseId, ValidationError, Widget, WidgetId,
    display_name,
};
use schemars::JsonSchema;
use serde::Serialize;

use super::{SuitesService, TestCaseUpdate};
use crate::{Actor, EngineError};

/// The most cases one file may hold.
pub const MAX_FILE_CASES: usize = 500;

/// What an import did (or, dry, would do).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ImportOutcome {
    pub suite: Option<String>,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// The file's cases, in its order: what `POST /test-runs {case_ids}` runs (empty when dry).
    pub case_ids: Vec<TestCaseId>,
    pub dry_run: bool,
}

/// The account's widgets, found by id or by a name only one of them has.
struct Widgets(Vec<Widget>);

impl Widgets {
    fn find(&self, reference: &str, field: String) -> Result<WidgetId, ValidationError> {
        let reference = reference.trim();
        if let Some(w) = self.0.iter().find(|w| w.id.as_str() == reference) {
            return Ok(w.id.clone());
        }
        let named: Vec<&Widget> = self.0.iter().filter(|w| w.name == reference).collect();
        match named.as_slice() {
            [one] => Ok(one.id.clone()),
            [] => {
                let message = format!("no widget is named or has the id “{reference}”");
                Err(ValidationError::new(field, "unknown_widget", message))
            }
            _ => {
                let message = format!("several widgets are named “{reference}”: give its id");
                Err(ValidationError::new(field, "ambiguous_widget", message))
            }
        }
    }

    /// How a file names a widget: by its name, unless another widget has it too.
    fn reference(&self, id: &WidgetId) -> String {
        let Some(widget) = self.0.iter().find(|w| &w.id == id) else {
            return id.to_string();
        };
        let alike = self.0.iter().filter(|w| w.name == widget.name).count();
        if alike == 1 { widget.name.clone() } else { id.to_string() }
    }
}

fn at(index: usize, mut error: ValidationError) -> ValidationError {
    error.field = format!("cases[{index}].{}", error.field).into();
    error
}

impl SuitesService {
    async fn widgets(&self, actor: &Actor) -> Result<Widgets, EngineError> {
        let mut widgets = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let listed = self.store.widgets.list_widgets(&actor.tenant_id, &page).await?;
            widgets.extend(listed.items.into_iter().map(|w| w.widget));
            match listed.next {
                Some(next) => page.after = Some(next),
                None => return Ok(Widgets(widgets)),
            }
        }
    }

    /// Creates or updates the file's cases; checks all of them first, so an error (with the
    /// case's field, `cases[3].fakes[0].endpoint`) leaves every case as it was.
    pub async fn import_suite(
        &self,
        actor: &Actor,
        file: SuiteFile,
        dry_run: bool,
    ) -> Result<ImportOutcome, EngineError> {
        actor.require(Role::Admin)?;
        if file.cases.is_empty() || file.cases.len() > MAX_FILE_CASES {
            let message = format!("a suite file holds 1–{MAX_FILE_CASES} cases");
            return Err(ValidationError::new("cases", "invalid_field", message).into());
        }
        let widgets = self.widgets(actor).await?;
        let mut checked: Vec<(String, TestCaseDefinition)> = Vec::new();
        for (i, case) in file.cases.into_iter().enumerate() {
            let name = display_name(&case.name, "name", 200).map_err(|e| at(i, e))?;
            if checked.iter().any(|(n, _)| *n == name) {
                let message = format!("another case of the file is named “{name}”");
                return Err(ValidationError::new(
                    format!("cases[{i}].name"),
                    "duplicate_name",
                    message,
                )
                .into());
            }
            let widget = match (&case.widget, &file.widget) {
                (Some(w), _) => widgets.find(w, format!("cases[{i}].widget"))?,
                (None, Some(w)) => widgets.find(w, "widget".into())?,
                (None, None) => {
                    let message = "name the widget, for the file or for this case";
                    return Err(ValidationError::new(
                        format!("cases[{i}].widget"),
                        "missing_field",
                        message,
                    )
                    .into());
                }
            };
            let definition = TestCaseDefinition {
                suite: file.suite.clone(),
                widget_id: widget,
                visitor: case.visitor,
                turns: case.turns,
                fakes: case.fakes,
                expect: case.expect,
                simulate: case.simulate,
            };
            match self.check(actor, &definition).await {
                Err(EngineError::Invalid(e)) if e.field == "suite" => return Err(e.into()),
                Err(EngineError::Invalid(e)) => return Err(at(i, e).into()),
                other => other?,
            }
            checked.push((name, definition));
        }

        let existing: BTreeMap<String, TestCase> = self
            .store
            .test_cases
            .list_test_cases(&actor.tenant_id, file.suite.as_deref())
            .await?
            .into_iter()
            .filter(|c| c.definition.suite == file.suite)
            .map(|c| (c.name.clone(), c))
            .collect();
        let mut outcome = ImportOutcome {
            suite: file.suite,
            created: 0,
            updated: 0,
            unchanged: 0,
            case_ids: Vec::new(),
            dry_run,
        };
        for (name, definition) in checked {
            let id = match existing.get(&name) {
                Some(case) if case.definition == definition => {
                    outcome.unchanged += 1;
                    case.id.clone()
                }
                Some(case) => {
                    outcome.updated += 1;
                    if !dry_run {
                        self.replace_definition(actor, &case.id, definition).await?;
                    }
                    case.id.clone()
                }
                None if dry_run => {
                    outcome.created += 1;
                    continue;
                }
                None => {
                    outcome.created += 1;
                    self.create_test_case(actor, &name, definition).await?.id
                }
            };
            if !dry_run {
                outcome.case_ids.push(id);
            }
        }
        Ok(outcome)
    }

    async fn replace_definition(
        &self,
        actor: &Actor,
        id: &TestCaseId,
        d: TestCaseDefinition,
    ) -> Result<TestCase, EngineError> {
        let update = TestCaseUpdate {
            name: None,
            suite: Some(d.suite),
            widget_id: Some(d.widget_id),
            visitor: Some(d.visitor),
            turns: Some(d.turns),
            fakes: Some(d.fakes),
            expect: Some(d.expect),
            simulate: Some(d.simulate),
        };
        self.update_test_case(actor, id, update).await
    }

    /// The cases of `suite` (or of no suite) as a file; the widget is named once when every
    /// case has the same one.
    pub async fn export_suite(
        &self,
        actor: &Actor,
        suite: Option<&str>,
    ) -> Result<SuiteFile, EngineError> {
        actor.require(Role::Admin)?;
        let cases: Vec<TestCase> = self
            .store
            .test_cases
            .list_test_cases(&actor.tenant_id, suite)
            .await?
            .into_iter()
            .filter(|c| c.definition.suite.as_deref() == suite)
            .collect();
        let widgets = self.widgets(actor).await?;
        let first = cases.first().map(|c| c.definition.widget_id.clone());
        let shared = first.filter(|w| cases.iter().all(|c| &c.definition.widget_id == w));
        let cases = cases
            .into_iter()
            .map(|c| {
                let d = c.definition;
                SuiteFileCase {
                    name: c.name,
                    widget: shared.is_none().then(|| widgets.reference(&d.widget_id)),
                    visitor: d.visitor,
                    turns: d.turns,
                    fakes: d.fakes,
                    expect: d.expect,
                    simulate: d.simulate,
                }
            })
            .collect();
        Ok(SuiteFile {
            suite: suite.map(str::to_owned),
            widget: shared.map(|w| widgets.reference(&w)),
            cases,
        })
    }
}
