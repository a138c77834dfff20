export interface WizardStepInfo {
  number: number;
  title: string;
  /** Whether the step can be opened now. */
  available: boolean;
}

interface WizardStepperProps {
  steps: WizardStepInfo[];
  current: number;
  onGo: (step: number) => void;
}

/** The wizard's steps as a numbered list; the current one is marked, reachable ones are buttons. */
export function WizardStepper({ steps, current, onGo }: WizardStepperProps) {
  return (
    <nav aria-label="Wizard steps" className="wizard-stepper">
      <ol>
        {steps.map((step) => {
          const state = step.number === current ? 'current' : step.number < current ? 'done' : 'todo';
          const content = (
            <>
              <span className="wizard-stepper-number" aria-hidden="true">
                {step.number}
              </span>
              <span className="wizard-stepper-title">
                <span className="visually-hidden">Step {step.number}: </span>
                {step.title}
              </span>
            </>
          );
          return (
            <li key={step.number} className={`wizard-stepper-step wizard-stepper-${state}`} aria-current={state === 'current' ? 'step' : undefined}>
              {state !== 'current' && step.available ? (
                <button type="button" className="wizard-stepper-button" onClick={() => onGo(step.number)}>
                  {content}
                </button>
              ) : (
                <span className="wizard-stepper-button" aria-disabled={state === 'current' ? undefined : true}>
                  {content}
                </span>
              )}
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
