// Takes a screenshot of a Temporal UI page with headless Chromium (Debian's `chromium`, driven by playwright-core),
// for the pictures in docs/ui.md. Usage:
//   node --import tsx scripts/ui-screenshot.ts URL OUT.png [--height 1000] [--click TEXT]... [--wait-for TEXT]
//                                             [--clip-to TEXT] [--codec-endpoint URL]
// --click clicks the first element showing TEXT (repeatable, in order), --wait-for waits until TEXT is on the
// page, --codec-endpoint sets the UI's Data Encoder (as its settings dialog would) before the page loads.
import { chromium } from 'playwright-core';

interface Options {
  url: string;
  out: string;
  height: number;
  clicks: string[];
  waitFor?: string;
  codecEndpoint?: string;
}

function parseArgs(argv: string[]): Options {
  const [url, out, ...rest] = argv;
  if (!url || !out) throw new Error('usage: ui-screenshot.ts URL OUT.png [--height N] [--click TEXT]... [--wait-for TEXT]');
  const o: Options = { url, out, height: 1000, clicks: [] };
  for (let i = 0; i < rest.length; i += 2) {
    const [flag, value] = [rest[i], rest[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--height') o.height = Number(value);
    else if (flag === '--click') o.clicks.push(value);
    else if (flag === '--wait-for') o.waitFor = value;
    else if (flag === '--codec-endpoint') o.codecEndpoint = value;
    else throw new Error(`unknown flag ${flag}`);
  }
  return o;
}

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps trying Google's hosts, which this network refuses.
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'];

const o = parseArgs(process.argv.slice(2));
const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...ARGS, '--disable-component-update', '--disable-sync'] });
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: o.height } });
  if (o.codecEndpoint) {
    // The UI keeps its Data Encoder endpoint in local storage; set it before any page script runs.
    const set = (key: string, value: unknown) => `localStorage.setItem(${JSON.stringify(key)}, ${JSON.stringify(JSON.stringify(value))});`;
    await context.addInitScript({
      content: [set('endpoint', o.codecEndpoint), set('passAccessToken', false), set('includeCredentials', false)].join('\n'),
    });
  }
  const page = await context.newPage();
  await page.goto(o.url, { waitUntil: 'domcontentloaded' });
  await page.waitForTimeout(4000);
  for (const text of o.clicks) {
    await page.getByText(text, { exact: false }).first().click({ timeout: 15_000 });
    await page.waitForTimeout(1500);
  }
  if (o.waitFor) await page.getByText(o.waitFor).first().waitFor({ timeout: 30_000 });
  await page.screenshot({ path: o.out });
  console.log(`wrote ${o.out}`);
} finally {
  await browser.close();
}
