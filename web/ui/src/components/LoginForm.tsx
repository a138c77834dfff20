import { useState, type FormEvent } from 'react';
import { ApiError } from '../api/client';
import { toApiError } from '../lib/useAsync';

interface LoginFormProps {
  onSubmit: (email: string, password: string) => Promise<void>;
  notice?: string;
}

export function LoginForm({ onSubmit, notice }: LoginFormProps) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit(email.trim(), password);
    } catch (err) {
      setError(toApiError(err));
      setBusy(false);
    }
  };

  const emailErrors = error?.fieldErrors('email') ?? [];
  const passwordErrors = error?.fieldErrors('password') ?? [];
  const general = error && emailErrors.length === 0 && passwordErrors.length === 0;
  // A wrong email or password is one message: the server does not say which, on purpose.
  const generalText =
    error?.status === 401 ? 'The email or password is not right.' : error ? error.problem.detail || error.problem.title : '';

  return (
    <form className="login-form" onSubmit={submit} noValidate aria-describedby={general ? 'login-error' : undefined}>
      {notice && (
        <p className="alert alert-info" role="status">
          {notice}
        </p>
      )}
      <div className="field">
        <label htmlFor="login-email">Email</label>
        <input
          id="login-email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          aria-invalid={emailErrors.length > 0 || undefined}
          aria-describedby={emailErrors.length ? 'login-email-error' : undefined}
        />
        {emailErrors.length > 0 && (
          <p id="login-email-error" className="field-error">
            {emailErrors.join(' ')}
          </p>
        )}
      </div>
      <div className="field">
        <label htmlFor="login-password">Password</label>
        <input
          id="login-password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          aria-invalid={passwordErrors.length > 0 || undefined}
          aria-describedby={passwordErrors.length ? 'login-password-error' : undefined}
        />
        {passwordErrors.length > 0 && (
          <p id="login-password-error" className="field-error">
            {passwordErrors.join(' ')}
          </p>
        )}
      </div>
      {general && (
        <p id="login-error" className="alert alert-error" role="alert">
          {generalText}
        </p>
      )}
      <button type="submit" className="button button-primary" disabled={busy || !email || !password}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
