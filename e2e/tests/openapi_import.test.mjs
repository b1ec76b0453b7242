// OpenAPI import against real public documents shipped by npm packages (never fetched at test
// time): ReadMe's examples (Swagger 2.0, OpenAPI 3.0 and 3.1, JSON and YAML, ReadMe's own API)
// and GitHub's REST description (13 MB, 1,200+ operations). For each: a connection on the
// document's server, a dry run, the import, spot checks of endpoints, and a re-import that skips
// everything as existing. No browser: only the API.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Switchboard } from "../harness.mjs";

const require = createRequire(import.meta.url);
const read = (name) => readFileSync(require.resolve(name), "utf8");

let sb;
const table = [];
let counter = 0;

before(async () => {
  sb = await Switchboard.create();
});

after(async () => {
  await sb?.stop();
  if (table.length) {
    console.log("\nOpenAPI import of real documents:");
    console.table(table);
  }
});

/** Raw fetch, for answers that are not 2xx. */
async function post(path, body) {
  const response = await fetch(`${sb.base}/api/v1${path}`, {
    method: "POST",
    headers: { "x-api-key": sb.apiKey, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/**
 * Imports `file` (sent as text when `asText`, else as an object) into a new connection on
 * `baseUrl`: a dry run first (nothing stored), then the import, then a re-import. Returns the
 * import's answer and the endpoints stored.
 */
async function importSpec(label, file, baseUrl, { asText = false } = {}) {
  const text = read(file);
  const spec = asText ? text : JSON.parse(text);
  const connection = await sb.api("POST", "/connections", { name: `${label} ${++counter}`, base_url: baseUrl });
  const path = `/connections/${connection.id}/import-openapi`;

  const preview = await sb.api("POST", path, { spec, dry_run: true });
  assert.equal(preview.dry_run, true);
  assert.ok(preview.created.every((e) => e.id === null), "a dry run stores nothing");
  assert.equal((await sb.api("GET", `/connections/${connection.id}/endpoints?limit=1`)).length, 0);

  const started = Date.now();
  const imported = await sb.api("POST", path, { spec });
  const ms = Date.now() - started;
  assert.equal(imported.dry_run, false);
  assert.equal(imported.created.length, preview.created.length, "the dry run showed what the import created");
  assert.deepEqual(imported.created.map((e) => e.name), preview.created.map((e) => e.name));
  assert.ok(imported.created.every((e) => /^ep_/.test(e.id)));

  const again = await sb.api("POST", path, { spec });
  assert.equal(again.created.length, 0, `${label}: a re-import creates nothing`);
  const existing = again.skipped.filter((s) => /^an endpoint named \S+ already exists$/.test(s.reason));
  assert.equal(existing.length, imported.created.length, `${label}: a re-import skips every endpoint as existing`);
  assert.equal(again.skipped.length, imported.created.length + imported.skipped.length);

  const reasons = [...new Set(imported.skipped.map((s) => s.reason))];
  table.push({
    document: label,
    version: imported.openapi,
    created: imported.created.length,
    skipped: imported.skipped.length,
    notes: imported.created.reduce((n, e) => n + e.notes.length, 0),
    "import ms": ms,
    "skip reasons": reasons.join(" | ").slice(0, 90),
  });
  const byName = Object.fromEntries(imported.created.map((e) => [e.name, e]));
  return { connection, imported, byName };
}

/** Deleting the connection deletes its endpoints and frees their names in the account. */
async function remove(connection) {
  await sb.api("DELETE", `/connections/${connection.id}`);
}

const variable = (endpoint, name) => {
  const found = endpoint.variables.find((v) => v.name === name);
  assert.ok(found, `${endpoint.name} declares ${name}: ${JSON.stringify(endpoint.variables)}`);
  return found;
};

test("Swagger 2.0 petstore, JSON: every operation, base path already in the base URL", async () => {
  const { connection, imported, byName } = await importSpec("2.0 petstore (JSON)", "@readme/oas-examples/2.0/json/petstore.json", "https://petstore.swagger.io/v2");
  assert.equal(imported.openapi, "2.0");
  assert.deepEqual(imported.servers, ["http://petstore.swagger.io/v2"]);
  assert.equal(imported.created.length, 20);
  assert.equal(imported.skipped.length, 0);
  const get = byName.getPetById;
  assert.equal(get.method, "GET");
  assert.equal(get.path, "/pet/{petId}");
  assert.equal(get.description, "Find pet by ID\n\nReturns a single pet");
  assert.deepEqual(variable(get, "petId"), { name: "petId", description: "ID of pet to return (format: int64)", required: true, pattern: "-?[0-9]+" });
  const add = byName.addPet;
  assert.deepEqual(Object.keys(add.body), ["id", "category", "name", "photoUrls", "tags", "status"]);
  assert.equal(add.body.name, "{name}");
  assert.equal(variable(add, "name").required, true);
  assert.equal(variable(add, "status").pattern, "available|pending|sold");
  assert.equal(byName.findPetsByStatus.query.status, "{status}");
  assert.ok(byName.findPetsByTags.description.startsWith("Deprecated. "));
  assert.ok(byName.updatePetWithForm.notes.some((n) => n.includes("optional form field")));
  await remove(connection);
});

test("Swagger 2.0 petstore, YAML text: the base path is prefixed when the base URL lacks it", async () => {
  const { connection, imported, byName } = await importSpec("2.0 petstore (YAML)", "@readme/oas-examples/2.0/yaml/petstore.yaml", "https://petstore.swagger.io", { asText: true });
  assert.equal(imported.created.length, 20);
  assert.equal(imported.skipped.length, 0);
  assert.equal(byName.getPetById.path, "/v2/pet/{petId}");
  assert.equal(byName.deleteOrder.method, "DELETE");
  assert.equal(variable(byName.deleteOrder, "orderId").pattern, "-?[0-9]+");
  await remove(connection);
});

test("OpenAPI 3.0 petstore and USPTO (server variables)", async () => {
  const pets = await importSpec("3.0 petstore", "@readme/oas-examples/3.0/json/petstore.json", "https://petstore.swagger.io/v2");
  assert.equal(pets.imported.openapi, "3.0");
  assert.equal(pets.imported.created.length, 20);
  assert.equal(pets.imported.skipped.length, 0);
  const login = pets.byName.loginUser;
  assert.deepEqual(login.query, { password: "{password}", username: "{username}" });
  assert.equal(variable(login, "username").required, true);
  assert.deepEqual(pets.byName.createUsersWithArrayInput.body, null);
  assert.ok(pets.byName.createUsersWithArrayInput.notes.some((n) => n.includes("an array, not an object")));
  await remove(pets.connection);

  const uspto = await importSpec("3.0 uspto", "@readme/oas-examples/3.0/json/uspto.json", "https://developer.uspto.gov/ds-api");
  assert.deepEqual(uspto.imported.servers, ["https://developer.uspto.gov/ds-api"]);
  assert.equal(uspto.imported.created.length, 3);
  assert.equal(uspto.imported.skipped.length, 0);
  const fields = uspto.byName["list-searchable-fields"];
  assert.equal(fields.path, "/{dataset}/{version}/fields");
  assert.equal(variable(fields, "dataset").description, "Name of the dataset.");
  const search = uspto.byName["perform-search"];
  assert.equal(search.method, "POST");
  assert.ok(search.notes.some((n) => n.includes("application/x-www-form-urlencoded")), JSON.stringify(search.notes));
});

test("OpenAPI 3.1 train travel and ReadMe's own API", async () => {
  const train = await importSpec("3.1 train-travel", "@readme/oas-examples/3.1/json/train-travel.json", "https://api.example.com");
  assert.equal(train.imported.openapi, "3.1");
  assert.equal(train.imported.created.length, 7);
  assert.equal(train.imported.skipped.length, 0);
  const trips = train.byName["get-trips"];
  assert.equal(trips.query.origin, "{origin}");
  assert.equal(variable(trips, "origin").required, true);
  assert.match(variable(trips, "origin").description, /format: uuid/);
  assert.equal(variable(trips, "dogs").pattern, "true|false");
  assert.equal(variable(trips, "dogs").required, false);
  const booking = train.byName["create-booking"];
  assert.equal(booking.method, "POST");
  assert.ok(booking.body && Object.keys(booking.body).includes("trip_id"), JSON.stringify(booking.body));

  const readme = await importSpec("3.1 readme", "@readme/oas-examples/3.1/json/readme.json", "https://api.readme.com/v2");
  assert.equal(readme.imported.created.length, 54);
  assert.equal(readme.imported.skipped.length, 0);
  const keys = readme.byName.getAPIKeys;
  assert.equal(keys.path, "/projects/{subdomain}/apikeys");
  assert.equal(variable(keys, "subdomain").required, true);
  assert.ok(variable(keys, "subdomain").pattern.includes("[a-zA-Z0-9]+"));
  assert.equal(variable(keys, "page").required, false);
});

test("Operations on other hosts are skipped with the reason; optional non-JSON bodies noted", async () => {
  const servers = await importSpec("3.0 server-path-level", "@readme/oas-examples/3.0/json/server-path-level.json", "https://demo.example.com/v2");
  assert.equal(servers.imported.servers.length, 3);
  assert.equal(servers.imported.created.length, 4);
  assert.equal(servers.imported.skipped.length, 3);
  assert.ok(servers.imported.skipped.every((s) => /it is served from [a-z.-]+example\.com, not from the connection's host demo\.example\.com/.test(s.reason)), JSON.stringify(servers.imported.skipped));

  const uploads = await importSpec("3.0 file-uploads", "@readme/oas-examples/3.0/json/file-uploads.json", "https://httpbin.org");
  assert.equal(uploads.imported.created.length, 3);
  assert.ok(uploads.imported.created.every((e) => e.body === null && e.notes.some((n) => /optional (image\/png|multipart\/form-data) request body is not sent/.test(n))));
});

test("GitHub's REST API: 1,200+ operations from a 13 MB document", async () => {
  const { imported, byName } = await importSpec("GitHub api.github.com", "@octokit/openapi/generated/api.github.com.json", "https://api.github.com", { asText: true });
  assert.equal(imported.openapi, "3.0");
  assert.deepEqual(imported.servers, ["https://api.github.com"]);
  assert.ok(imported.created.length >= 1200, `${imported.created.length} created`);
  // Release assets are uploaded to another host.
  assert.deepEqual(imported.skipped, [{ operation: "POST /repos/{owner}/{repo}/releases/{release_id}/assets", reason: "it is served from uploads.github.com, not from the connection's host api.github.com" }]);
  const repo = byName["repos_get"];
  assert.equal(repo.method, "GET");
  assert.equal(repo.path, "/repos/{owner}/{repo}");
  assert.equal(variable(repo, "owner").required, true);
  assert.match(variable(repo, "owner").description, /account owner of the repository/);
  const issues = byName["issues_list-for-repo"];
  assert.equal(issues.query.per_page, "{per_page}");
  assert.equal(variable(issues, "per_page").pattern, "-?[0-9]+");
  assert.equal(variable(issues, "state").pattern, "open|closed|all");
  const create = byName["issues_create"];
  assert.equal(create.method, "POST");
  assert.equal(create.body.title, "{title}");
  assert.equal(variable(create, "title").required, true);
  assert.ok(imported.created.some((e) => e.description.startsWith("Deprecated. ")));
  assert.ok(imported.created.every((e) => e.description.length <= 2000));
  // Stored: the list of the connection's endpoints holds them all.
  const stored = await sb.api("GET", `/endpoints/${repo.id}`);
  assert.equal(stored.path, "/repos/{owner}/{repo}");
});

test("Unreadable documents are refused with the field at fault", async () => {
  const connection = await sb.api("POST", "/connections", { name: "Broken", base_url: "https://api.example.com" });
  const path = `/connections/${connection.id}/import-openapi`;
  const yaml = await post(path, { spec: "openapi: [3.0" });
  assert.equal(yaml.status, 422);
  assert.deepEqual([yaml.body.error.code, yaml.body.error.field], ["invalid_spec", "spec"]);
  const notOpenApi = await post(path, { spec: JSON.parse(read("@readme/oas-examples/package.json")) });
  assert.equal(notOpenApi.status, 422);
  assert.deepEqual([notOpenApi.body.error.code, notOpenApi.body.error.field], ["not_openapi", "spec"]);
});
