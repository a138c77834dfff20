import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import type { WorkflowInput } from '../api/types';
import { RunInputsForm } from './RunInputsForm';

const inputs: WorkflowInput[] = [
  { name: 'account', type: 'string', required: true, description: 'Ad account' },
  { name: 'target_cpa', type: 'number', required: false, description: 'Highest acceptable CPA', default: 40, unit: 'EUR' },
  { name: 'days', type: 'integer', required: false, description: 'Days in a row', default: 3, unit: 'days' },
  { name: 'dry', type: 'boolean', required: false, description: 'Only plan', default: false },
  { name: 'campaigns', type: 'array', required: false, description: 'Campaign ids' },
];

function setup(onSubmit = vi.fn().mockResolvedValue(undefined)) {
  render(<RunInputsForm inputs={inputs} onSubmit={onSubmit} onCancel={vi.fn()} />);
  return onSubmit;
}

describe('RunInputsForm', () => {
  it('renders one labelled field per input, with defaults, units and descriptions', () => {
    setup();
    expect((screen.getByLabelText(/target_cpa/) as HTMLInputElement).value).toBe('40');
    expect((screen.getByLabelText(/days/) as HTMLInputElement).type).toBe('number');
    expect((screen.getByLabelText('dry') as HTMLInputElement).checked).toBe(false);
    expect(screen.getByText('EUR')).toBeTruthy();
    const account = screen.getByLabelText(/account/);
    expect(account.getAttribute('aria-describedby')).toContain('run-input-account-hint');
    expect(screen.getByText('Ad account')).toBeTruthy();
    expect(screen.getByText('(required)')).toBeTruthy();
  });

  it('sends typed values and leaves out empty optional fields', async () => {
    const onSubmit = setup();
    await userEvent.type(screen.getByLabelText(/account/), 'act_1');
    const cpa = screen.getByLabelText(/target_cpa/);
    await userEvent.clear(cpa);
    await userEvent.type(cpa, '35.5');
    await userEvent.click(screen.getByLabelText('dry'));
    await userEvent.click(screen.getByRole('button', { name: 'Start run' }));
    expect(onSubmit).toHaveBeenCalledWith({ account: 'act_1', target_cpa: 35.5, days: 3, dry: true });
  });

  it('refuses a missing required value and a fraction for an integer', async () => {
    const onSubmit = setup();
    const days = screen.getByLabelText(/days/);
    await userEvent.clear(days);
    await userEvent.type(days, '2.5');
    await userEvent.click(screen.getByRole('button', { name: 'Start run' }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText('Required.')).toBeTruthy();
    expect(screen.getByText('Enter a whole number.')).toBeTruthy();
    expect(days.getAttribute('aria-invalid')).toBe('true');
  });

  it('parses JSON lists and says when they are not valid', async () => {
    const onSubmit = setup();
    await userEvent.type(screen.getByLabelText(/account/), 'a');
    const list = screen.getByLabelText(/campaigns/);
    await userEvent.type(list, '{{"a": 1}');
    await userEvent.click(screen.getByRole('button', { name: 'Start run' }));
    expect(screen.getByText(/Enter a JSON list/)).toBeTruthy();
    await userEvent.clear(list);
    await userEvent.type(list, '[["c-1", "c-2"]');
    await userEvent.click(screen.getByRole('button', { name: 'Start run' }));
    expect(onSubmit).toHaveBeenCalledWith(expect.objectContaining({ campaigns: ['c-1', 'c-2'] }));
  });

  it('shows the server’s input errors beside the field they name', async () => {
    const onSubmit = vi.fn().mockRejectedValue(
      new ApiError({
        type: 'about:blank',
        title: 'Invalid inputs',
        status: 422,
        detail: "the run's inputs do not match the workflow",
        errors: [{ path: 'inputs', message: 'input `target_cpa` must be a number, got "abc"' }],
      }),
    );
    setup(onSubmit);
    await userEvent.type(screen.getByLabelText(/account/), 'a');
    await userEvent.click(screen.getByRole('button', { name: 'Start run' }));
    const cpa = await screen.findByLabelText(/target_cpa/);
    expect(screen.getByText('input `target_cpa` must be a number, got "abc"')).toBeTruthy();
    expect(cpa.getAttribute('aria-invalid')).toBe('true');
  });
});
