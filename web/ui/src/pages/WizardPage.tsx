import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { runsApi, workflowsApi } from '../api/endpoints';
import type { Workflow, WorkflowSummary } from '../api/types';
import { connectionsApi } from '../api/connections';
import { wizardApi } from '../api/wizard';
import { usePermission } from '../auth/session';
import { EmptyState } from '../components/EmptyState';
import { LoadingState } from '../components/LoadingState';
import { PageHeader } from '../components/PageHeader';
import { ProblemAlert } from '../components/ProblemAlert';
import { WizardDryRun } from '../components/WizardDryRun';
import { WizardPreview, type DefinitionCheck } from '../components/WizardPreview';
import { WizardScheduleField, type ScheduleMode } from '../components/WizardScheduleField';
import { WizardSettingsForm } from '../components/WizardSettingsForm';
import { WizardStepper } from '../components/WizardStepper';
import { WizardTemplatePicker } from '../components/WizardTemplatePicker';
import { cronInWords } from '../lib/cronWords';
import { cronToSchedule, defaultTimezone, scheduleInWords, scheduleToCron, type Schedule } from '../lib/scheduleWords';
import { toApiError, useAsync } from '../lib/useAsync';
import { fieldKind, fieldLabel, initialConnection, initialValue, parseWizardValues, suggestedName, type FieldValue } from '../lib/wizardForm';
import { idFromName, workflowIdProblem } from '../lib/wizardId';
import { buildWorkflowYaml, readCronTrigger } from '../lib/wizardYaml';
import { navigate } from '../router/router';
import { paths } from '../router/paths';
import '../styles/wizard.css';

const RECOMMENDED = 'cpa-guardrail';
const VALIDATE_DELAY_MS = 400;

/** File workflows written in YAML are the templates; the CPA guardrail comes first. */
function templatesOf(items: WorkflowSummary[]): WorkflowSummary[] {
  return items
    .filter((w) => w.source === 'file' && /\.ya?ml$/i.test(w.source_file ?? ''))
    .sort((a, b) => Number(b.id === RECOMMENDED) - Number(a.id === RECOMMENDED) || a.name.localeCompare(b.name));
}

interface Draft {
  template: Workflow;
  name: string;
  id: string;
  idEdited: boolean;
  values: Record<string, FieldValue>;
  scheduleMode: ScheduleMode;
  schedule: Schedule;
  keepWords?: string;
}

function startDraft(template: Workflow, takenIds: string[]): Draft {
  const name = suggestedName(template.name, takenIds);
  const found = readCronTrigger(template.source_text);
  const zone = defaultTimezone();
  const parsed = found ? cronToSchedule(found.cron, found.timezone) : null;
  const schedule: Schedule = parsed ? { ...parsed, timezone: zone } : { frequency: 'daily', day: 1, hour: 8, minute: 0, timezone: zone };
  return {
    template,
    name,
    id: idFromName(name),
    idEdited: false,
    values: Object.fromEntries(template.inputs.map((i) => [i.name, initialValue(i)])),
    scheduleMode: found ? (parsed ? 'schedule' : 'keep') : 'none',
    schedule,
    keepWords: found && !parsed ? cronInWords(found.cron, found.timezone) : undefined,
  };
}

type Busy = null | 'validate' | 'dry-run' | 'activate';

export function WizardPage() {
  const canWrite = usePermission('workflows:write');
  const canRun = usePermission('runs:write');
  const list = useAsync((signal) => workflowsApi.list(signal), []);
  const connections = useAsync((signal) => connectionsApi.list(signal), []);
  const [step, setStep] = useState(1);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [opening, setOpening] = useState<string | null>(null);
  const [openError, setOpenError] = useState<ApiError | null>(null);
  const [showErrors, setShowErrors] = useState(false);
  const [check, setCheck] = useState<DefinitionCheck>({ state: 'idle', errors: [], workflow: null });
  const [busy, setBusy] = useState<Busy>(null);
  const [actionError, setActionError] = useState<{ action: string; error: ApiError } | null>(null);
  const [serverIdError, setServerIdError] = useState<string | null>(null);
  const [saved, setSaved] = useState<{ id: string; yaml: string } | null>(null);
  const [dryRunId, setDryRunId] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const headingRef = useRef<HTMLHeadingElement>(null);

  const items = list.data?.items ?? [];
  const templates = useMemo(() => templatesOf(items), [items]);
  const takenIds = useMemo(() => items.map((w) => w.id), [items]);

  // Connection fields start with a connection that exists, once the list is known.
  const connectionItems = connections.data?.items;
  useEffect(() => {
    if (!connectionItems) return;
    setDraft((d) => {
      if (!d) return d;
      let changed = false;
      const values = { ...d.values };
      for (const input of d.template.inputs) {
        if (fieldKind(input) !== 'connection') continue;
        const names = connectionItems.filter((c) => c.type === input.connection).map((c) => c.name);
        const current = values[input.name];
        if (typeof current === 'string' && names.includes(current)) continue;
        const first = initialConnection(input, names);
        if (first !== current) {
          values[input.name] = first;
          changed = true;
        }
      }
      return changed ? { ...d, values } : d;
    });
  }, [connectionItems, draft?.template]);

  const parsed = useMemo(() => (draft ? parseWizardValues(draft.template.inputs, draft.values) : { values: {}, errors: {} }), [draft]);
  const idProblem = draft ? (saved ? null : workflowIdProblem(draft.id, takenIds)) : null;
  const nameProblem = draft && draft.name.trim() === '' ? 'Enter a name.' : null;
  const scheduleSetting = draft
    ? draft.scheduleMode === 'schedule'
      ? { cron: scheduleToCron(draft.schedule), timezone: draft.schedule.timezone, words: scheduleInWords(draft.schedule) }
      : draft.scheduleMode === 'none'
        ? null
        : undefined
    : undefined;

  const built = useMemo(() => {
    if (!draft) return { text: '', notApplied: [] as string[] };
    return buildWorkflowYaml(draft.template.source_text, {
      id: draft.id,
      name: draft.name.trim() || draft.id,
      // Only values that differ from the template's are written, so the rest of the text stays as it was.
      defaults: Object.fromEntries(Object.entries(parsed.values).filter(([name, value]) => draft.template.inputs.find((i) => i.name === name)?.default !== value)),
      schedule: scheduleSetting,
      webhookPath: draft.id,
    });
    // scheduleSetting is derived from draft.
  }, [draft, parsed.values, scheduleSetting?.cron, scheduleSetting?.timezone, scheduleSetting === null]);
  const yaml = built.text;

  const runCheck = useCallback(async (text: string, signal?: AbortSignal): Promise<boolean> => {
    setCheck((prev) => ({ ...prev, state: 'checking' }));
    try {
      const result = await workflowsApi.validate(text, 'yaml', signal);
      setCheck((prev) => ({ state: result.valid ? 'valid' : 'invalid', errors: result.errors, workflow: result.workflow ?? prev.workflow }));
      return result.valid;
    } catch (err) {
      if (signal?.aborted) return false;
      setCheck((prev) => ({ ...prev, state: 'error', errors: [], message: toApiError(err).message }));
      return false;
    }
  }, []);

  useEffect(() => {
    if (!yaml) return;
    const controller = new AbortController();
    const timer = window.setTimeout(() => void runCheck(yaml, controller.signal), VALIDATE_DELAY_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [yaml, runCheck]);

  // Moving to another step puts focus on its heading, so keyboard and screen-reader users follow.
  const firstStep = useRef(true);
  useEffect(() => {
    if (firstStep.current) {
      firstStep.current = false;
      return;
    }
    headingRef.current?.focus();
  }, [step]);

  // A message about the last action goes stale once anything changes.
  useEffect(() => setNotice(''), [draft]);

  const pick = async (id: string) => {
    setOpening(id);
    setOpenError(null);
    try {
      const template = await workflowsApi.get(id);
      setDraft(startDraft(template, takenIds));
      setCheck({ state: 'idle', errors: [], workflow: null });
      setSaved(null);
      setDryRunId(null);
      setActionError(null);
      setServerIdError(null);
      setShowErrors(false);
      setNotice('');
      setStep(2);
    } catch (err) {
      setOpenError(toApiError(err));
    } finally {
      setOpening(null);
    }
  };

  const update = (change: Partial<Draft>) => setDraft((d) => (d ? { ...d, ...change } : d));

  const formErrors = { ...(showErrors ? parsed.errors : {}) };
  const formValid = Object.keys(parsed.errors).length === 0 && !idProblem && !nameProblem;

  const fail = (action: string, err: unknown) => {
    const error = toApiError(err);
    const placed = (error.problem.errors ?? []).filter((e) => e.line !== undefined);
    if (placed.length > 0) {
      setCheck((prev) => ({ ...prev, state: 'invalid', errors: placed.map((e) => ({ line: e.line ?? 0, column: e.column ?? 0, message: e.message, suggestion: e.suggestion })) }));
    }
    if (error.status === 409 && !saved) setServerIdError(error.problem.detail || 'This id is taken.');
    setActionError({ action, error });
  };

  /** Saves the definition (disabled the first time); later saves update it. */
  const ensureSaved = async (): Promise<string> => {
    if (!draft) throw new Error('no template');
    if (!saved) {
      const created = await wizardApi.create(yaml, { enabled: false });
      // A server that does not know ?enabled=false creates it enabled: switch it off at once.
      if (created.enabled) await wizardApi.setEnabled(created.id, false);
      setSaved({ id: created.id, yaml });
      return created.id;
    }
    if (saved.yaml !== yaml) {
      await wizardApi.update(saved.id, yaml);
      setSaved({ id: saved.id, yaml });
    }
    return saved.id;
  };

  const ready = (): boolean => {
    setShowErrors(true);
    if (!formValid) {
      setNotice('Some settings need attention first.');
      return false;
    }
    return true;
  };

  const validate = async () => {
    setActionError(null);
    setNotice('');
    if (!ready()) return;
    setBusy('validate');
    const ok = await runCheck(yaml);
    setBusy(null);
    setNotice(ok ? 'The definition is valid.' : 'The definition has problems: see the preview.');
  };

  const dryRun = async () => {
    setActionError(null);
    setNotice('');
    if (!ready()) return;
    setBusy('dry-run');
    try {
      const id = await ensureSaved();
      const started = await wizardApi.dryRun(id, parsed.values);
      setDryRunId(started.run_id);
      setStep(3);
    } catch (err) {
      fail('Could not start the dry run', err);
    } finally {
      setBusy(null);
    }
  };

  const activate = async () => {
    setActionError(null);
    setNotice('');
    if (!ready()) return;
    setBusy('activate');
    try {
      const id = await ensureSaved();
      if (dryRunId) {
        // A dry run still waiting (at an approval) would hold the workflow's concurrency slot.
        const run = await runsApi.get(dryRunId).catch(() => null);
        if (run && (run.status === 'queued' || run.status === 'running')) await runsApi.cancel(dryRunId).catch(() => undefined);
      }
      await wizardApi.setEnabled(id, true);
      navigate(paths.workflow(id));
    } catch (err) {
      fail('Could not save and activate', err);
      setBusy(null);
    }
  };

  const steps = [
    { number: 1, title: 'Template', available: true },
    { number: 2, title: 'Settings', available: draft !== null },
    { number: 3, title: 'Review', available: draft !== null },
  ];

  const actions = draft && (
    <div className="wizard-actions">
      {!canWrite && <p className="hint">Your role can look at templates but not save workflows.</p>}
      <div className="button-row">
        {step === 2 && (
          <button type="button" className="button" onClick={() => setStep(3)}>
            Next: review
          </button>
        )}
        {step === 3 && (
          <button type="button" className="button" onClick={() => setStep(2)}>
            Back to settings
          </button>
        )}
        <button type="button" className="button" onClick={() => void validate()} disabled={busy !== null}>
          {busy === 'validate' ? 'Validating…' : 'Validate'}
        </button>
        <button type="button" className="button" onClick={() => void dryRun()} disabled={busy !== null || !canWrite || !canRun} title="Saves the workflow switched off, then runs it once without side effects">
          {busy === 'dry-run' ? 'Starting the dry run…' : 'Dry run'}
        </button>
        <button type="button" className="button button-primary" onClick={() => void activate()} disabled={busy !== null || !canWrite || check.state === 'invalid'}>
          {busy === 'activate' ? 'Saving…' : 'Save and activate'}
        </button>
      </div>
      <p className="wizard-notice" role="status" aria-live="polite">
        {notice}
      </p>
      {actionError && <ProblemAlert error={actionError.error} action={actionError.action} />}
    </div>
  );

  return (
    <div className="wizard">
      <PageHeader title="New workflow from a template" subtitle="Pick a template, adjust its settings, check it, and switch it on." />
      <WizardStepper steps={steps} current={step} onGo={setStep} />

      {step === 1 && (
        <section aria-labelledby="wizard-step-title">
          <h2 id="wizard-step-title" tabIndex={-1} ref={headingRef} className="wizard-step-title">
            Choose a template
          </h2>
          {list.error && <ProblemAlert error={list.error} action="Could not load the templates" onRetry={list.reload} />}
          {openError && <ProblemAlert error={openError} action="Could not open the template" />}
          {list.loading && !list.data && <LoadingState label="Loading the templates…" />}
          {list.data && templates.length === 0 && (
            <EmptyState title="No templates here.">The templates are the YAML files of the server's workflow folder (workflows/); none is loaded.</EmptyState>
          )}
          {templates.length > 0 && <WizardTemplatePicker templates={templates} recommended={RECOMMENDED} busyId={opening} onPick={(id) => void pick(id)} />}
        </section>
      )}

      {step > 1 && draft && (
        <div className="wizard-columns">
          <div className="wizard-main">
            <h2 id="wizard-step-title" tabIndex={-1} ref={headingRef} className="wizard-step-title">
              {step === 2 ? 'Settings' : 'Review'}
              <span className="wizard-step-template muted"> · {draft.template.name}</span>
            </h2>
            {step === 2 && (
              <>
                <p className="muted wizard-template-text">{draft.template.description.trim()}</p>
                <WizardSettingsForm
                  inputs={draft.template.inputs}
                  values={draft.values}
                  errors={formErrors}
                  onChange={(name, value) => setDraft((d) => (d ? { ...d, values: { ...d.values, [name]: value } } : d))}
                  connections={connections.error ? [] : connectionItems}
                  connectionsProblem={connections.error ? `The connections could not be listed (${connections.error.message}).` : null}
                  name={draft.name}
                  id={saved ? saved.id : draft.id}
                  idLocked={saved !== null}
                  nameError={nameProblem}
                  idError={serverIdError ?? idProblem}
                  onNameChange={(name) => {
                    setServerIdError(null);
                    update(draft.idEdited || saved ? { name } : { name, id: idFromName(name) });
                  }}
                  onIdChange={(id) => {
                    setServerIdError(null);
                    update({ id, idEdited: true });
                  }}
                  schedule={
                    <WizardScheduleField
                      mode={draft.scheduleMode}
                      schedule={draft.schedule}
                      keepWords={draft.keepWords}
                      onChange={(scheduleMode, schedule) => update({ scheduleMode, schedule })}
                    />
                  }
                />
              </>
            )}
            {step === 3 && (
              <WizardReview draft={draft} values={parsed.values} errors={parsed.errors} idProblem={idProblem} savedId={saved?.id ?? null} />
            )}
            {built.notApplied.length > 0 && (
              <p className="alert alert-warn">The template is written in a way the wizard cannot change for: {built.notApplied.join(', ')}. These keep the template's values.</p>
            )}
            {step === 3 && dryRunId && (
              <section className="card">
                <WizardDryRun key={dryRunId} runId={dryRunId} stepOrder={check.workflow?.steps.map((s) => s.id) ?? draft.template.steps.map((s) => s.id)} />
              </section>
            )}
            {actions}
          </div>
          <div className="wizard-side">
            <WizardPreview yaml={yaml} check={check} name={draft.name} />
          </div>
        </div>
      )}
    </div>
  );
}

function WizardReview({
  draft,
  values,
  errors,
  idProblem,
  savedId,
}: {
  draft: Draft;
  values: Record<string, unknown>;
  errors: Record<string, string>;
  idProblem: string | null;
  savedId: string | null;
}) {
  const schedule =
    draft.scheduleMode === 'schedule' ? scheduleInWords(draft.schedule) : draft.scheduleMode === 'keep' ? (draft.keepWords ?? '') : 'not on a schedule (started by hand)';
  return (
    <section className="card wizard-review" aria-label="Summary">
      <dl className="kv">
        <div className="kv-row">
          <dt>Template</dt>
          <dd>{draft.template.name}</dd>
        </div>
        <div className="kv-row">
          <dt>Name</dt>
          <dd>{draft.name}</dd>
        </div>
        <div className="kv-row">
          <dt>Id</dt>
          <dd className="mono">
            {savedId ?? draft.id}
            {idProblem && <span className="field-error"> {idProblem}</span>}
          </dd>
        </div>
        <div className="kv-row">
          <dt>Runs</dt>
          <dd>{schedule}</dd>
        </div>
        {draft.template.inputs
          .filter((i) => fieldKind(i) !== 'kept')
          .map((i) => (
            <div className="kv-row" key={i.name}>
              <dt>{fieldLabel(i)}</dt>
              <dd>
                {errors[i.name] ? (
                  <span className="field-error">{errors[i.name]}</span>
                ) : (
                  <>
                    {String(values[i.name])}
                    {i.unit ? ` ${i.unit}` : ''}
                  </>
                )}
              </dd>
            </div>
          ))}
      </dl>
      <p className="hint">
        {savedId
          ? 'Saved, switched off, for the dry run. It stays off until you press Save and activate.'
          : 'Nothing is saved yet. Dry run saves it switched off first; Save and activate saves it and switches its schedule on.'}
      </p>
    </section>
  );
}
