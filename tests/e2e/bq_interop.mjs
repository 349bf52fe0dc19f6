// bq_interop.mjs: drives the BigQuery fake (tests/fake/bigquery.py) with
// Google's own Node.js client, @google-cloud/bigquery, as the old service
// did.  Used by tests/e2e/2900-bq-fake-interop.t, which installs a pinned
// version of the package with npm into a temporary folder and copies this
// file next to its node_modules (NODE_PATH also works: the modules are
// loaded with require()).
//
//   node bq_interop.mjs merge PORT
//     creates dataset `interop` and table `sales` through the client, runs
//     the old service's parameterized MERGE twice with the same rows, reads
//     the table back with a SELECT and prints one JSON object:
//     {first, second, firstStats, secondStats, rows, sent}
//     (first/second: numDmlAffectedRows of each MERGE, as numbers).
//   node bq_interop.mjs read PORT PROJECT.DATASET.TABLE
//     prints every row of the table (SELECT * ... ORDER BY sale_id,
//     product_id) as NDJSON in the ls-fetch row shape.
//
// The client talks to http://127.0.0.1:PORT/bigquery/v2 (apiEndpoint) with
// the fixed bearer token "interop-token" (an OAuth2Client holding it), so no
// Google credentials, metadata server or network are involved.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { BigQuery } = require('@google-cloud/bigquery');
const { OAuth2Client } = require('google-auth-library');

const KEYS = ['sale_id', 'timestamp', 'customer_id', 'product_id', 'product_name',
  'quantity', 'price', 'payment_method'];
const TYPES = {
  sale_id: 'STRING', timestamp: 'TIMESTAMP', customer_id: 'STRING', product_id: 'STRING',
  product_name: 'STRING', quantity: 'NUMERIC', price: 'FLOAT64', payment_method: 'STRING',
};

function die(msg) {
  process.stderr.write(`bq_interop: ${msg}\n`);
  process.exit(2);
}

function client(port) {
  delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
  delete process.env.BIGQUERY_EMULATOR_HOST;
  process.env.METADATA_SERVER_DETECTION = 'none';
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: 'interop-token', token_type: 'Bearer',
    expiry_date: Date.now() + 3600 * 1000 });
  return new BigQuery({ projectId: 'sandbox', apiEndpoint: `http://127.0.0.1:${port}`,
    authClient: auth });
}

// RFC 3339 UTC with Z, the fraction only when non-zero, trailing zeros cut:
// "2026-05-14T18:22:41.123000000Z" -> "2026-05-14T18:22:41.123Z".
function rfc3339(v) {
  if (v === null || v === undefined) return v;
  const s = typeof v === 'object' && 'value' in v ? String(v.value) : String(v);
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s);
  if (!m) throw new Error(`unexpected timestamp ${JSON.stringify(s)}`);
  const frac = (m[2] || '').replace(/0+$/, '');
  return m[1] + (frac ? `.${frac}` : '') + 'Z';
}

// NUMERIC arrives as a Big.js object, FLOAT64 as a number: both as JSON numbers.
function number(v) {
  if (v === null || v === undefined) return v;
  const n = Number(typeof v === 'object' ? v.toString() : v);
  if (!Number.isFinite(n)) throw new Error(`unexpected number ${String(v)}`);
  return n;
}

function normalise(row) {
  const o = {};
  for (const k of KEYS) {
    const v = row[k] === undefined ? null : row[k];
    if (k === 'timestamp') o[k] = rfc3339(v);
    else if (k === 'quantity' || k === 'price') o[k] = number(v);
    else o[k] = v;
  }
  return o;
}

async function selectAll(bq, table) {
  const [rows] = await bq.query({
    query: `SELECT * FROM \`${table}\` ORDER BY sale_id, product_id`,
    location: 'US',
  });
  return rows.map(normalise);
}

function affected(resp) {
  if (!resp || resp.numDmlAffectedRows === undefined) return null;
  return Number(resp.numDmlAffectedRows);
}

async function merge(port) {
  const bq = client(port);
  const [dataset] = await bq.createDataset('interop', { location: 'US' });
  await dataset.createTable('sales', {
    schema: { fields: [
      { name: 'sale_id', type: 'STRING', mode: 'REQUIRED' },
      { name: 'timestamp', type: 'TIMESTAMP', mode: 'REQUIRED' },
      { name: 'customer_id', type: 'STRING', mode: 'REQUIRED' },
      { name: 'product_id', type: 'STRING', mode: 'REQUIRED' },
      { name: 'product_name', type: 'STRING' },
      { name: 'quantity', type: 'NUMERIC', mode: 'REQUIRED' },
      { name: 'price', type: 'FLOAT64', mode: 'REQUIRED' },
      { name: 'payment_method', type: 'STRING' },
    ] },
    timePartitioning: { type: 'DAY', field: 'timestamp' },
  });
  // As ls-fetch would give them: a timestamp with milliseconds, a
  // fractional (weighed) quantity, a non-ASCII name, 19.99, a refund, a null.
  const sent = [
    { sale_id: '1001', timestamp: '2026-05-14T18:22:41Z', customer_id: '17',
      product_id: '210', product_name: 'Ceramic Mug 12oz', quantity: 2, price: 19.99,
      payment_method: 'Credit Card' },
    { sale_id: '1001', timestamp: '2026-05-14T18:22:41Z', customer_id: '17',
      product_id: '211', product_name: 'Crème Brûlée Kit – «fête» 🍮', quantity: 1,
      price: 34.5, payment_method: 'Credit Card' },
    { sale_id: '1002', timestamp: '2026-05-14T23:59:59.123Z', customer_id: 'anonymous',
      product_id: '305', product_name: 'Roasted Almonds (kg)', quantity: 0.682,
      price: 12.27, payment_method: 'Cash' },
    { sale_id: '1003', timestamp: '2026-05-15T00:00:00.5Z', customer_id: '42',
      product_id: '210', product_name: 'Tea Tin "Earl Grey"', quantity: -1,
      price: 8.75, payment_method: null },
  ];
  const query = `MERGE \`sandbox.interop.sales\` T
USING (SELECT * FROM UNNEST(@rows)) S
ON T.sale_id = S.sale_id AND T.product_id = S.product_id
WHEN NOT MATCHED THEN INSERT (sale_id, timestamp, customer_id, product_id, product_name, quantity, price, payment_method)
VALUES (S.sale_id, S.timestamp, S.customer_id, S.product_id, S.product_name, S.quantity, S.price, S.payment_method)`;
  const params = () => ({ rows: sent.map(r => ({ ...r, timestamp: bq.timestamp(r.timestamp) })) });
  const run = async () => {
    const res = await bq.query({ query, params: params(), types: { rows: [TYPES] },
      location: 'US' });
    const resp = res[2] || {};
    return { n: affected(resp), stats: resp.dmlStats || null };
  };
  const first = await run();
  const second = await run();
  const rows = await selectAll(bq, 'sandbox.interop.sales');
  const want = sent.map(normalise)
    .sort((a, b) => (a.sale_id + '\0' + a.product_id < b.sale_id + '\0' + b.product_id ? -1 : 1));
  console.log(JSON.stringify({ first: first.n, second: second.n, firstStats: first.stats,
    secondStats: second.stats, rows, sent: want }));
}

async function read(port, table) {
  if (!/^[\w-]+\.\w+\.\w+$/.test(table || '')) die(`bad table name ${JSON.stringify(table)}`);
  const rows = await selectAll(client(port), table);
  for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n');
}

const [mode, port, table] = process.argv.slice(2);
if (!/^\d+$/.test(port || '')) die('usage: bq_interop.mjs merge PORT | read PORT TABLE');
try {
  if (mode === 'merge') await merge(port);
  else if (mode === 'read') await read(port, table);
  else die(`unknown mode ${JSON.stringify(mode)}`);
} catch (e) {
  const body = e.response && e.response.body ? ` ${JSON.stringify(e.response.body)}` : '';
  die(`${e.stack || e}${e.errors ? ' ' + JSON.stringify(e.errors) : ''}${body}`);
}
