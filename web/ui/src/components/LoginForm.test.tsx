import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { LoginForm } from './LoginForm';

describe('LoginForm', () => {
  it('submits the email and password', async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    render(<LoginForm onSubmit={onSubmit} />);
    const button = screen.getByRole('button', { name: 'Sign in' });
    expect(button).toHaveProperty('disabled', true);
    await userEvent.type(screen.getByLabelText('Email'), ' ana@example.com ');
    await userEvent.type(screen.getByLabelText('Password'), 'correct horse battery');
    await userEvent.click(button);
    expect(onSubmit).toHaveBeenCalledWith('ana@example.com', 'correct horse battery');
  });

  it('says that the credentials are wrong on 401, without saying which', async () => {
    const onSubmit = vi.fn().mockRejectedValue(new ApiError({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'invalid credentials' }));
    render(<LoginForm onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText('Email'), 'ana@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'wrong password!');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('The email or password is not right.');
    expect(screen.getByRole('button', { name: 'Sign in' })).toHaveProperty('disabled', false);
  });

  it('puts a field error beside the field it names', async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError({
        type: 'about:blank',
        title: 'Bad request',
        status: 400,
        detail: 'bad email',
        errors: [{ path: 'email', message: 'x is not an email address' }],
      }),
    );
    render(<LoginForm onSubmit={onSubmit} />);
    await userEvent.type(screen.getByLabelText('Email'), 'x');
    await userEvent.type(screen.getByLabelText('Password'), 'whatever-long');
    await userEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const email = screen.getByLabelText('Email');
    expect(await screen.findByText('x is not an email address')).toBeTruthy();
    expect(email.getAttribute('aria-invalid')).toBe('true');
    expect(email.getAttribute('aria-describedby')).toBe('login-email-error');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('tells why the user is back at sign-in', () => {
    render(<LoginForm onSubmit={vi.fn()} notice="Your session ended. Sign in again to continue." />);
    expect(screen.getByRole('status').textContent).toContain('Your session ended');
  });
});
