// Drives the web UI in Debian's Chromium against a running demo (see run.sh): sign-in, every page,
// approving the CPA guardrail's proposal, and the paused campaign in the run and the simulator.
// Fails on the first step that does not hold, and on any console error or uncaught exception
// after sign-in. Environment: FLOWPILOT_URL, SIMULATOR_URL, FLOWPILOT_ADMIN_PASSWORD,
// SCREENSHOT_DIR.
import { chromium } from 'playwright-core';
import path from 'node:path';

const base = required('FLOWPILOT_URL');
const simulator = required('SIMULATOR_URL');
const password = required('FLOWPILOT_ADMIN_PASSWORD');
const screenshots = required('SCREENSHOT_DIR');
const email = 'admin@flowpilot.local';
const timeout = 15_000;

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run tests/e2e/run.sh)`);
  return value;
}

// The flags Chromium needs on this closed network (no background connections, no sandbox as root).
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-dev-shm-usage'],
});

const consoleProblems = [];
let signedIn = false;
let current = 'start';
let checks = 0;

async function step(name, body) {
  current = name;
  await body();
  checks += 1;
  console.log(`ok ${checks} - ${name}`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(screenshots, `${name}.png`) });
}

try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 860 }, colorScheme: 'light' });
  context.setDefaultTimeout(timeout);
  const page = await context.newPage();
  page.on('pageerror', (error) => consoleProblems.push(`[${current}] uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    // Before sign-in the session probe and the wrong password are meant to answer 401.
    if (!signedIn && /status of 401/.test(message.text())) return;
    consoleProblems.push(`[${current}] console ${message.type()}: ${message.text()}`);
  });

  await step('a signed-out visitor sees only the sign-in page', async () => {
    await page.goto(`${base}/runs`);
    await page.getByLabel('Email').waitFor();
    if (!new URL(page.url()).pathname.startsWith('/login')) throw new Error(`at ${page.url()}, not /login`);
    if (await page.getByRole('navigation').count() !== 0) throw new Error('the navigation shows before sign-in');
    await shot(page, 'login');
  });

  await step('a wrong password is refused with a message', async () => {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: /not right/ }).waitFor();
  });

  await step('signing in returns to the page asked for', async () => {
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/runs`);
    signedIn = true;
    await page.getByRole('navigation').waitFor();
  });

  await step('the workflow list shows the templates with their last run', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Workflows' }).click();
    await page.waitForURL(`${base}/workflows`);
    const row = page.getByRole('row').filter({ hasText: 'CPA guardrail' });
    await row.waitFor();
    await row.getByText(/every day at 8:00/).waitFor();
    await shot(page, 'workflows');
  });

  await step('a workflow shows its steps as a graph', async () => {
    await page.getByRole('link', { name: 'CPA guardrail' }).first().click();
    await page.waitForURL(`${base}/workflows/cpa-guardrail`);
    await page.locator('.react-flow__node').first().waitFor();
    if (await page.locator('.react-flow__node').count() < 3) throw new Error('fewer than 3 steps drawn');
    await shot(page, 'workflow');
  });

  await step('the run list lists the demo runs', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Runs' }).click();
    await page.waitForURL(`${base}/runs`);
    await page.getByRole('row').filter({ hasText: 'weekly-kpi-report' }).first().waitFor();
    await shot(page, 'runs');
  });

  let runPath = '';
  await step('the approvals inbox shows what the guardrail would pause', async () => {
    await page.getByRole('navigation').getByRole('link', { name: /Approvals/ }).click();
    await page.waitForURL(`${base}/approvals`);
    const card = page.getByRole('article').filter({ hasText: 'cpa-guardrail' }).first();
    await card.waitFor();
    await card.getByRole('table').waitFor();  // the campaigns to pause
    runPath = await card.locator('a[href^="/runs/"]').first().getAttribute('href');
    await shot(page, 'approvals');
    await card.getByLabel(/comment/i).fill('CPA too high three days in a row: pause');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.waitFor({ state: 'detached' });
  });

  await step('the run finishes and its graph shows every step succeeded', async () => {
    await page.goto(`${base}${runPath}`);
    await page.getByText('Succeeded', { exact: true }).first().waitFor();
    await page.locator('.react-flow__node').first().waitFor();
    await page.waitForFunction(() => {
      const nodes = [...document.querySelectorAll('.react-flow__node')];
      return nodes.length > 0 && nodes.every((n) => n.querySelector('.step-succeeded, .step-skipped'));
    }, null, { timeout });
    await shot(page, 'run');
  });

  await step('the simulated Meta lists the campaign as paused', async () => {
    const state = await (await fetch(`${simulator}/_sim/state`)).json();
    const text = JSON.stringify(state);
    if (!/PAUSED/.test(text)) throw new Error(`no paused campaign in the simulator: ${text.slice(0, 300)}`);
  });

  await step('the dark theme', async () => {
    await page.getByRole('button', { name: /theme/i }).click();
    await page.goto(`${base}/workflows`);
    await page.getByRole('row').filter({ hasText: 'CPA guardrail' }).waitFor();
    await shot(page, 'workflows-dark');
  });

  await step('signing out ends the session', async () => {
    await page.getByRole('button', { name: email }).click();  // the user menu
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Email').waitFor();
    signedIn = false;
    await page.goto(`${base}/runs`);
    await page.getByLabel('Email').waitFor();
  });

  if (consoleProblems.length > 0) {
    current = 'console';
    throw new Error(`console errors:\n  ${consoleProblems.join('\n  ')}`);
  }
  console.log(`${checks} passed, 0 failed`);
} catch (error) {
  console.error(`not ok - ${current}: ${error.message}`);
  if (consoleProblems.length > 0) console.error(consoleProblems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
