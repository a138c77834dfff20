import type { ReactNode } from 'react';
import type { WorkflowSummary } from '../api/types';
import { triggerInWords } from '../lib/triggerWords';

interface WizardTemplatePickerProps {
  templates: WorkflowSummary[];
  recommended?: string;
  busyId?: string | null;
  onPick: (id: string) => void;
}

/** Text with `backticks` shown as code, as the template descriptions write commands. */
function withCode(text: string): ReactNode[] {
  return text.split(/(`[^`]+`)/).map((part, i) => (part.startsWith('`') && part.endsWith('`') && part.length > 2 ? <code key={i}>{part.slice(1, -1)}</code> : part));
}

/** The templates as cards: name, what it does in plain words, when it runs, and a button to use it. */
export function WizardTemplatePicker({ templates, recommended, busyId, onPick }: WizardTemplatePickerProps) {
  return (
    <ul className="wizard-templates" aria-label="Templates">
      {templates.map((t) => {
        const headingId = `wizard-template-${t.id}`;
        return (
          <li key={t.id} className={`wizard-template card${t.id === recommended ? ' wizard-template-recommended' : ''}`}>
            <article aria-labelledby={headingId}>
              <h3 id={headingId}>{t.name}</h3>
              {t.id === recommended && <p className="wizard-template-badge">Recommended first workflow</p>}
              <p className="wizard-template-description">{t.description.trim() ? withCode(t.description.trim()) : 'No description.'}</p>
              <p className="wizard-template-when small muted">
                {t.triggers.length === 0 ? 'Started by hand' : t.triggers.map((tr) => triggerInWords(tr)).join('; ')}
              </p>
              <button
                type="button"
                className={`button${t.id === recommended ? ' button-primary' : ''}`}
                onClick={() => onPick(t.id)}
                disabled={Boolean(busyId)}
                aria-busy={busyId === t.id ? true : undefined}
                aria-label={`Use this template: ${t.name}`}
              >
                {busyId === t.id ? 'Opening…' : 'Use this template'}
              </button>
            </article>
          </li>
        );
      })}
    </ul>
  );
}
