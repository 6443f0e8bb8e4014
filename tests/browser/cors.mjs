// Serves a page on one origin and has headless Chromium fetch() the mock on another, as a
// browser app would. Prints what the page saw as JSON. Usage: node cors.mjs <mock origin>
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

const mock = process.argv[2];
if (!mock) {
  console.error('usage: node cors.mjs http://127.0.0.1:<mock port>');
  process.exit(2);
}

const page = createServer((_, response) => {
  response.writeHead(200, { 'content-type': 'text/html' });
  response.end('<!doctype html><title>contacts app</title>');
});
await new Promise((resolve) => page.listen(0, '127.0.0.1', resolve));
// `localhost` and the mock's `127.0.0.1` are different origins.
const pageOrigin = `http://localhost:${page.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const tab = await browser.newPage();
  await tab.goto(pageOrigin);
  const seen = await tab.evaluate(async (mock) => {
    const call = async (headers) => {
      try {
        const response = await fetch(`${mock}/api/v1/omnichannel/contacts.update`, {
          method: 'POST',
          credentials: 'include',
          headers: {
            'Content-Type': 'application/json',
            'X-User-Id': 'rbAXPnMktTFbNpwtJ',
            'X-Auth-Token': 'RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f',
            'X-Mock-Session': 'browser',
            ...headers,
          },
          body: JSON.stringify({ contactId: '67487f45e98719b7908d0f29', name: 'From Chromium' }),
        });
        return {
          status: response.status,
          preferenceApplied: response.headers.get('preference-applied'),
          body: await response.json(),
        };
      } catch (error) {
        return { error: String(error) };
      }
    };
    // An opaque no-cors request settles only if the mock is reachable at all, which tells a
    // CORS refusal from a dead server.
    const reachable = await fetch(`${mock}/_mock/health`, { mode: 'no-cors' }).then(
      () => true,
      () => false,
    );
    return {
      pageOrigin: location.origin,
      reachable,
      update: await call({}),
      forced: await call({ Prefer: 'code=403' }),
    };
  }, mock);
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
  page.close();
}
