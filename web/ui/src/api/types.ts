// Shapes of the Flowpilot REST API (web/openapi.json), limited to what the UI reads.

export type Permission =
  | 'workflows:read'
  | 'workflows:write'
  | 'runs:read'
  | 'runs:write'
  | 'approvals'
  | 'connections:read'
  | 'connections:write'
  | 'pii:read'
  | 'admin';

export interface ProblemError {
  path?: string;
  line?: number;
  column?: number;
  message: string;
  suggestion?: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: ProblemError[];
  required_permission?: string;
}

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  role: string;
}

export interface Session {
  signed_in?: true;
  user: SessionUser;
  permissions: string[];
  csrf_token?: string;
}

/** GET /auth/session without any credentials. */
export interface SignedOut {
  signed_in: false;
}

export interface CronTrigger {
  type: 'cron';
  cron: string;
  timezone: string;
  catch_up: string;
}

export interface WebhookTrigger {
  type: 'webhook';
  path: string;
  url: string;
  auth: string;
  respond: string;
}

export type Trigger = CronTrigger | WebhookTrigger;

export interface LastRun {
  id: string;
  status: RunStatus;
  created_at: number;
}

export interface WorkflowSummary {
  id: string;
  name: string;
  description: string;
  source: 'api' | 'file';
  source_file: string | null;
  enabled: boolean;
  revision: number;
  version: string;
  triggers: Trigger[];
  created_at: number;
  updated_at: number;
  // Newer servers add these two; older ones leave them out.
  last_run?: LastRun | null;
  success_rate?: number | null;
}

export interface Diagnostic {
  line: number;
  column: number;
  message: string;
  suggestion?: string;
}

export interface FileProblem {
  file: string;
  errors: Diagnostic[];
}

export interface WorkflowList {
  items: WorkflowSummary[];
  problems: FileProblem[];
}

export type InputType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array';

export interface WorkflowInput {
  name: string;
  type: InputType;
  required: boolean;
  description: string;
  default?: unknown;
  unit?: string;
  connection?: string;
}

export interface WorkflowStep {
  id: string;
  name: string;
  uses: string;
  needs: string[];
  foreach: boolean;
  if: string | null;
}

export interface Workflow extends WorkflowSummary {
  inputs: WorkflowInput[];
  steps: WorkflowStep[];
  on_failure: WorkflowStep[];
  format: 'yaml' | 'lua';
  source_text: string;
}

export interface RevisionSummary {
  revision: number;
  version: string;
  note: string;
  created_at: number;
  current: boolean;
}

export interface Revision {
  revision: number;
  version: string;
  note: string;
  created_at: number;
  format: 'yaml' | 'lua';
  source_text: string;
}

/** POST /validate; `workflow` is there exactly when the definition is valid. */
export interface ValidationResult {
  valid: boolean;
  errors: Diagnostic[];
  workflow?: Workflow;
}

export interface Started {
  run_id: string;
  created: boolean;
  url: string;
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'timed_out';
export type StepStatus =
  | 'pending'
  | 'ready'
  | 'running'
  | 'waiting'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled';

export const RUN_STATUSES: RunStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'];
export const RUN_TRIGGERS = ['manual', 'api', 'webhook', 'cron', 'retry', 'rerun'] as const;

export interface Run {
  id: string;
  workflow_id: string;
  workflow_version: string;
  status: RunStatus;
  trigger_type: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown> | null;
  error: string | null;
  idempotency_key: string | null;
  dry_run: boolean;
  rerun_of: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}

export interface RunList {
  items: Run[];
  next_cursor?: string;
}

export interface Attempt {
  step_id: string;
  attempt: number;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  input: unknown;
  output: unknown;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
  index?: number;
}

export interface Step {
  step_id: string;
  status: StepStatus;
  attempt: number;
  output: unknown;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
  item_count?: number;
  attempts: Attempt[];
  items?: Partial<Record<StepStatus, number>>;
}

export interface StepItem {
  step_id: string;
  status: StepStatus;
  attempt: number;
  output: unknown;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
  index: number;
}

export interface StepItems {
  items: StepItem[];
  total: number;
  offset: number;
}

export interface Approval {
  run_id: string;
  step_id: string;
  workflow_id: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  message: string;
  comment: string | null;
  decided_by: string | null;
  created_at: number;
  decided_at: number | null;
  expires_at: number | null;
  // Not in the schema yet: structured data the approval step shows (what will happen).
  details?: unknown;
}

export interface ApprovalList {
  items: Approval[];
}

export interface RunDetail extends Run {
  trigger: Record<string, unknown>;
  steps: Step[];
  approvals: Approval[];
}

export interface LogLine {
  at: number;
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  step_id: string | null;
  attempt: number;
  index?: number;
}

export interface LogList {
  items: LogLine[];
  total: number;
  offset: number;
}

export interface RunEvent {
  run_id: string;
  workflow_id: string;
  status: RunStatus;
  error: string | null;
  started_at: number;
  finished_at: number;
}

export interface StepEvent {
  run_id: string;
  workflow_id: string;
  status: StepStatus;
  step_id: string;
  index?: number;
  attempt: number;
  error: string | null;
  started_at: number;
  finished_at: number;
}

export interface RevisionList {
  items: RevisionSummary[];
}
