import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { workflowsApi } from '../api/endpoints';
import type { Diagnostic, Workflow } from '../api/types';
import { usePermission } from '../auth/session';
import { toApiError } from '../lib/useAsync';
import { ProblemAlert } from './ProblemAlert';
import { YamlEditor, type YamlEditorHandle } from './YamlEditor';

const VALIDATE_DELAY_MS = 500;

type Check = { state: 'idle' | 'checking' | 'valid' | 'invalid' | 'error'; errors: Diagnostic[] };

export function WorkflowEditor({ workflow, onSaved }: { workflow: Workflow; onSaved: (workflow: Workflow) => void }) {
  const canWrite = usePermission('workflows:write');
  const fromFile = workflow.source === 'file';
  const readOnly = fromFile || !canWrite;
  const [text, setText] = useState(workflow.source_text);
  const [check, setCheck] = useState<Check>({ state: 'idle', errors: [] });
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<ApiError | null>(null);
  const [savedNote, setSavedNote] = useState('');
  const editorRef = useRef<YamlEditorHandle>(null);
  const dirty = text !== workflow.source_text;

  useEffect(() => {
    setText(workflow.source_text);
  }, [workflow.source_text]);

  useEffect(() => {
    if (!dirty) {
      setCheck({ state: 'idle', errors: [] });
      return;
    }
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      setCheck((prev) => ({ state: 'checking', errors: prev.errors }));
      workflowsApi
        .validate(text, workflow.format, controller.signal)
        .then((result) => setCheck({ state: result.valid ? 'valid' : 'invalid', errors: result.errors }))
        .catch((err: unknown) => {
          if (controller.signal.aborted) return;
          const apiError = toApiError(err);
          const placed = (apiError.problem.errors ?? []).filter((e) => e.line !== undefined);
          if (placed.length > 0) {
            setCheck({
              state: 'invalid',
              errors: placed.map((e) => ({ line: e.line ?? 0, column: e.column ?? 0, message: e.message, suggestion: e.suggestion })),
            });
          } else {
            setCheck({ state: 'error', errors: [] });
          }
        });
    }, VALIDATE_DELAY_MS);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [text, dirty, workflow.format]);

  const save = async () => {
    setSaving(true);
    setSaveError(null);
    setSavedNote('');
    try {
      const saved = await workflowsApi.save(workflow.id, text, workflow.format);
      setSavedNote(`Saved as revision ${saved.revision}.`);
      onSaved(saved);
    } catch (err) {
      const apiError = toApiError(err);
      const placed = (apiError.problem.errors ?? []).filter((e) => e.line !== undefined);
      if (placed.length > 0) {
        setCheck({ state: 'invalid', errors: placed.map((e) => ({ line: e.line ?? 0, column: e.column ?? 0, message: e.message, suggestion: e.suggestion })) });
      }
      setSaveError(apiError);
    } finally {
      setSaving(false);
    }
  };

  const status =
    check.state === 'checking'
      ? 'Checking…'
      : check.state === 'valid'
        ? 'The definition is valid.'
        : check.state === 'invalid'
          ? `${check.errors.length} problem${check.errors.length === 1 ? '' : 's'} found.`
          : check.state === 'error'
            ? 'The definition could not be checked.'
            : '';

  return (
    <div className="workflow-editor">
      {fromFile && (
        <p className="alert alert-info">
          This workflow is read from the file <code>{workflow.source_file}</code>, which is its source of truth: it is read-only here. Change the file
          instead.
        </p>
      )}
      {!fromFile && !canWrite && <p className="alert alert-info">Your role can read this definition but not change it.</p>}
      <YamlEditor
        ref={editorRef}
        value={text}
        onChange={setText}
        readOnly={readOnly}
        diagnostics={check.errors}
        language={workflow.format}
        label={`Definition of ${workflow.name} (${workflow.format.toUpperCase()})${readOnly ? ', read-only' : ''}`}
      />
      <div className="editor-bar">
        <span className={`check check-${check.state}`} role="status" aria-live="polite">
          {status}
        </span>
        {!readOnly && (
          <div className="button-row">
            <button type="button" className="button" disabled={!dirty || saving} onClick={() => setText(workflow.source_text)}>
              Discard changes
            </button>
            <button type="button" className="button button-primary" disabled={!dirty || saving || check.state === 'invalid'} onClick={() => void save()}>
              {saving ? 'Saving…' : 'Save'}
            </button>
          </div>
        )}
      </div>
      {savedNote && <p className="alert alert-success" role="status">{savedNote}</p>}
      {check.errors.length > 0 && (
        <ul className="diagnostics" aria-label="Problems in the definition">
          {check.errors.map((d, i) => (
            <li key={i}>
              <button type="button" className="link-button mono" onClick={() => editorRef.current?.goTo(d.line, d.column)}>
                {d.line}:{d.column}
              </button>{' '}
              {d.message}
              {d.suggestion && <span className="muted"> (did you mean {d.suggestion}?)</span>}
            </li>
          ))}
        </ul>
      )}
      {saveError && <ProblemAlert error={saveError} action="Could not save" />}
    </div>
  );
}
