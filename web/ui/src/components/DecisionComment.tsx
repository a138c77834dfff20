import { useId } from 'react';

interface DecisionCommentProps {
  value: string;
  onChange: (value: string) => void;
  /** The server's messages about the comment, if it refused it. */
  errors: string[];
}

/** The optional comment that goes with an approval or a recommendation decision. */
export function DecisionComment({ value, onChange, errors }: DecisionCommentProps) {
  const id = useId();
  const errorId = `${id}-error`;
  return (
    <div className="field">
      <label htmlFor={id}>Comment (optional)</label>
      <textarea
        id={id}
        rows={2}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={errors.length > 0 || undefined}
        aria-describedby={errors.length > 0 ? errorId : undefined}
      />
      {errors.length > 0 && (
        <p id={errorId} className="field-error">
          {errors.join(' ')}
        </p>
      )}
    </div>
  );
}
